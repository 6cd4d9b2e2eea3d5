import { newId } from "../../src/core/ids.js";
import { generateSecret } from "../../src/signing/secret.js";
import type { ApplicationId } from "../../src/core/ids.js";
import type { NewEndpoint } from "../../src/store/store.js";

/** An active endpoint row with every default, for tests that write through the Store directly. */
export function endpointRow(appId: ApplicationId, url: string, createdAt: number, extra: Partial<NewEndpoint> = {}): NewEndpoint {
  return {
    id: newId("ep", createdAt),
    appId,
    url,
    description: "",
    events: null,
    channels: null,
    filter: null,
    ordering: "none",
    transformation: null,
    status: "active",
    disabledReason: null,
    secret: generateSecret(),
    headers: {},
    authentication: null,
    timeoutMs: null,
    rateLimit: null,
    metadata: {},
    createdAt,
    ...extra,
  };
}
