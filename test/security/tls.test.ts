import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpDestination } from "../../src/delivery/destinations/http.js";
import { SsrfGuard } from "../../src/security/guard.js";
import { fakeResolver } from "./helpers.js";

/**
 * Pinning the address must not cost TLS its meaning: the connection goes to
 * the checked address, but SNI and certificate verification use the name.
 * The receiver's certificate (a test fixture) is for receiver.herald.test.
 */

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const cert = fixture("receiver.cert.pem");

let server: Server;
let port: number;
const servernames: (string | false | null)[] = [];

beforeAll(async () => {
  server = createServer({ key: fixture("receiver.key.pem"), cert }, (req, res) => {
    servernames.push((req.socket as TLSSocket).servername);
    req.resume();
    req.on("end", () => res.end("ok"));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const resolve = fakeResolver({ "receiver.herald.test": "127.0.0.1", "impostor.herald.test": "127.0.0.1" });
const sender = () => new HttpDestination({ guard: new SsrfGuard({ allowedNetworks: ["127.0.0.0/8"], resolve, cacheMs: 0 }), tls: { ca: cert } });
const post = (s: HttpDestination, url: string) => s.send({ url: new URL(url), headers: {}, body: "{}", timeoutMs: 3000 });

describe("TLS through the pinned connection", () => {
  it("sends SNI for the name and verifies the certificate against it", async () => {
    const s = sender();
    try {
      const result = await post(s, `https://receiver.herald.test:${port}/hook`);
      expect(result.errorMessage).toBeNull();
      expect(result.ok).toBe(true);
      expect(servernames.at(-1)).toBe("receiver.herald.test");
    } finally {
      await s.close();
    }
  });

  it("refuses a certificate for another name, even though the address is the same and allowed", async () => {
    const s = sender();
    try {
      const result = await post(s, `https://impostor.herald.test:${port}/hook`);
      expect(result.ok).toBe(false);
      expect(result.errorKind).toBe("tls");
      expect(result.errorMessage).toMatch(/impostor\.herald\.test/);
    } finally {
      await s.close();
    }
  });

  it("refuses the certificate when the URL names the address itself", async () => {
    const s = sender();
    try {
      const result = await post(s, `https://127.0.0.1:${port}/hook`);
      expect(result.errorKind).toBe("tls");
    } finally {
      await s.close();
    }
  });

  it("still refuses a blocked address before any TLS", async () => {
    const s = new HttpDestination({ guard: new SsrfGuard({ resolve }), tls: { ca: cert } });
    const before = servernames.length;
    try {
      const result = await post(s, `https://receiver.herald.test:${port}/hook`);
      expect(result.errorKind).toBe("blocked");
      expect(servernames.length).toBe(before);
    } finally {
      await s.close();
    }
  });
});
