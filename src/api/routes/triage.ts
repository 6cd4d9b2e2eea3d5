import type { Static } from "@sinclair/typebox";
import { withoutCredentials } from "../../core/broker-url.js";
import { Strict } from "../../core/schemas.js";
import type { TriageEntry as Entry } from "../../store/store.js";
import type { ApiContext } from "../context.js";
import { PageQuery, pageOf, pageRequest } from "../pagination.js";
import { Page, TriageEntry } from "../responses.js";
import { iso, isoOrNull } from "../serializers.js";
import type { Api } from "../validation.js";

/** The success-rate window of the triage list: the same 24 hours as an endpoint's stats. */
const WINDOW_MS = 24 * 3_600_000;

/**
 * What to do first. A disabled endpoint receives nothing until it is enabled;
 * an active one still holding skipped deliveries (enabled, not yet recovered)
 * needs a recovery; otherwise the operator opens it to read its errors (its
 * retries continue on their own).
 */
function actionOf(e: Entry): "enable" | "recover" | "open" {
  if (e.endpoint.status === "disabled") return "enable";
  return e.backlog.skipped > 0 ? "recover" : "open";
}

function serialize(e: Entry, since: number): Static<typeof TriageEntry> {
  const disabled = e.endpoint.status === "disabled";
  const { lastAttempt: a } = e;
  return {
    endpoint: {
      id: e.endpoint.id,
      appId: e.endpoint.appId,
      url: withoutCredentials(e.endpoint.url),
      description: e.endpoint.description,
      status: e.endpoint.status,
      disabledReason: e.endpoint.disabledReason,
      lastSuccessAt: isoOrNull(e.endpoint.lastSuccessAt),
      createdAt: iso(e.endpoint.createdAt),
    },
    application: e.application,
    state: disabled ? "disabled" : "failing",
    since: isoOrNull(disabled ? (e.disabledAt ?? e.failingSince) : e.failingSince),
    failingSince: isoOrNull(e.failingSince),
    disabledAt: isoOrNull(e.disabledAt),
    lastAttempt: a && {
      id: a.id,
      messageId: a.messageId,
      timestamp: iso(a.createdAt),
      success: a.success,
      statusCode: a.statusCode,
      errorKind: a.errorKind,
      errorMessage: a.errorMessage,
      attemptNumber: a.attemptNumber,
    },
    window: {
      since: iso(since),
      attempts: e.window.attempts,
      succeeded: e.window.succeeded,
      successRate: e.window.attempts === 0 ? null : e.window.succeeded / e.window.attempts,
    },
    backlog: e.backlog,
    action: actionOf(e),
  };
}

export function triageRoutes(api: Api, ctx: ApiContext): void {
  api.get(
    "/endpoints/triage",
    {
      config: { adminOnly: true },
      schema: {
        summary: "Endpoints that need an operator, across every application",
        description:
          "Every application's endpoints that are disabled, or active with a failed newest attempt, newest endpoint first, with " +
          "since when, the newest attempt (its error), the success rate of the last 24 hours, the backlog (pending and skipped " +
          "deliveries) and the action to take first. The cost of a page does not grow with the number of applications.",
        tags: ["Endpoints"],
        querystring: Strict(PageQuery),
        response: { 200: Page(TriageEntry) },
      },
    },
    async (req) => {
      const since = Date.now() - WINDOW_MS;
      const page = await ctx.store.listTriage({ since }, pageRequest(req.query, "ep"));
      return pageOf(page, (e) => serialize(e, since));
    },
  );
}
