import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sleep } from "../helpers/herald.js";
import { freePort, HERALD_BIN, type Spawned, spawnHerald } from "../helpers/process.js";

/**
 * README.md's five-minute tour, as printed: its shell blocks run one after
 * another with bash and curl against `herald serve --dev` (what `npm start`
 * runs) and `herald listen`, on ports of their own instead of 8080 and 4000.
 * Each curl must answer 2xx; what the tour says a reader sees is checked.
 */
const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const from = readme.indexOf("## A five-minute tour");
const tour = readme.slice(from, readme.indexOf("\n## ", from + 1));
const blocks = [...tour.matchAll(/```sh\n([\s\S]*?)\n```/g)].map((m) => m[1]!);
const block = (pattern: RegExp): string => {
  const found = blocks.find((b) => pattern.test(b));
  if (!found) throw new Error(`the tour has no shell block matching ${pattern}`);
  return found;
};

const dir = mkdtempSync(join(tmpdir(), "herald-tour-"));
const children: Spawned[] = [];
afterAll(async () => {
  for (const c of children) c.child.kill();
  await Promise.all(children.map((c) => c.exited));
  rmSync(dir, { recursive: true, force: true });
});

describe("README.md's five-minute tour", () => {
  it("works as printed, step by step", { timeout: 60_000 }, async () => {
    const port = await freePort();
    const listenPort = await freePort();
    const local = (text: string) =>
      text
        .replaceAll("127.0.0.1:8080", `127.0.0.1:${port}`)
        .replaceAll("127.0.0.1:4000", `127.0.0.1:${listenPort}`)
        .replaceAll("--port 4000", `--port ${listenPort}`);

    // 1. Start Herald: the first start prints the admin key once.
    const server = spawnHerald(["serve", "--dev", "--port", String(port)], {}, dir);
    children.push(server);
    await server.waitFor(new RegExp(`Herald server listening on http://127\\.0\\.0\\.1:${port} \\(SQLite \\./herald\\.db\\)`));
    const key = (await server.waitFor(/Admin API key \(shown once, stored hashed; keep it\): (hk_\S+)/))[1]!;
    const exports = local(block(/export KEY=/)).replace(/hk_\S+/, key);
    /** Runs a block of the tour in bash after the exports, every curl failing on a status from 400 up. */
    const sh = (text: string): string =>
      execFileSync("bash", ["-c", `set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; }\n${exports}\n${local(text)}`], {
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "" },
        // stdin not a socket: bash would take itself for a remote shell and read ~/.bashrc
        stdio: ["ignore", "pipe", "pipe"],
      });
    const api = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1${path}`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
      return (await res.json()) as { data: Record<string, unknown>[] };
    };

    // 2. A receiver in another terminal.
    const listenArgs = () => local(block(/herald listen/)).replace(/^npx herald /, "").split(/\s+/);
    const startListener = async () => {
      const listener = spawnHerald(listenArgs(), {});
      children.push(listener);
      await listener.waitFor(new RegExp(`127\\.0\\.0\\.1:${listenPort}`));
      return listener;
    };
    let listener = await startListener();

    // 3. An application and an endpoint.
    const created = sh(block(/"uid": "petstore"/));
    expect(created).toContain('"uid":"petstore"');
    expect(created).toContain(`"url":"http://127.0.0.1:${listenPort}/webhooks/petstore"`);
    const endpointId = (await api("/applications/petstore/endpoints")).data[0]!.id as string;

    // 4. Publish: the listener shows it arrive, signed.
    sh(block(/order-42-approved/));
    await listener.waitFor(/POST \/webhooks\/petstore {2}order\.status_changed {2}msg_\S+ {2}attempt 1 {2}✓ verified\n\{\n {2}"id": "evt_42"/);

    // 5. With the listener stopped, the next one fails, to be retried.
    listener.child.kill();
    await listener.exited;
    sh(block(/order-42-shipped/));
    const messages = await api("/applications/petstore/messages?limit=5");
    const shipped = messages.data.find((m) => (m.payload as { id?: string }).id === "evt_43")!;
    let attempts: Record<string, unknown>[] = [];
    for (let i = 0; i < 500 && attempts.length === 0; i++) {
      attempts = (await api(`/applications/petstore/messages/${shipped.id}/attempts`)).data;
      if (attempts.length === 0) await sleep(10);
    }
    expect(attempts[0]).toMatchObject({ success: false, errorKind: "connection_refused" });
    const looked = sh(block(/messages\?limit=5/).replaceAll("<msg id>", shipped.id as string).replaceAll("<ep id>", endpointId));
    expect(looked).toContain("connection_refused");

    // If every attempt failed, the endpoint would be disabled: the tour's two calls enable and replay it.
    expect((await fetch(`http://127.0.0.1:${port}/api/v1/applications/petstore/endpoints/${endpointId}/disable`, { method: "POST", headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    const recovered = sh(block(/\/recover/).replaceAll("<ep id>", endpointId));
    expect(recovered).toContain('"status":"active"');

    // 6. The dashboard, the portal link and the API's documents.
    for (const path of ["/", "/openapi.json", "/docs"]) expect((await fetch(`http://127.0.0.1:${port}${path}`)).status).toBe(200);
    const portal = await fetch(`http://127.0.0.1:${port}/api/v1/applications/petstore/portal-token`, { method: "POST", headers: { authorization: `Bearer ${key}` } });
    expect(portal.status).toBeLessThan(300);
    expect(JSON.stringify(await portal.json())).toContain(`http://127.0.0.1:${port}/portal`);

    // 7. One by hand, to the listener started again.
    listener = await startListener();
    sh(block(/herald send/).replace("npx herald", `node ${HERALD_BIN}`));
    await listener.waitFor(/POST \/hook {2}pet\.adopted {2}msg_\S+ {2}attempt 1 {2}✓ verified/);
  });
});
