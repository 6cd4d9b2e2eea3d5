import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SsrfGuard } from "../../src/security/guard.js";
import { HttpDestination } from "../../src/delivery/destinations/http.js";
import type { OAuth2Request } from "../../src/delivery/oauth2.js";
import { createApp, createEndpoint, eventually, sleep } from "../helpers/herald.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";
import { attemptsOf, openSecurityHerald, type SecurityHerald } from "./helpers.js";

/** OAuth 2.0 client credentials against a real token endpoint on 127.0.0.1. */

interface TokenRequest {
  authorization: string | undefined;
  contentType: string | undefined;
  form: URLSearchParams;
}

interface TokenServer {
  url: string;
  requests: TokenRequest[];
  answer(f: (req: TokenRequest, n: number, res: ServerResponse) => void): void;
  close(): Promise<void>;
}

async function startTokenServer(): Promise<TokenServer> {
  const requests: TokenRequest[] = [];
  let issued = 0;
  let answer = (_req: TokenRequest, n: number, res: ServerResponse) => {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ access_token: `tok-${n}`, token_type: "Bearer", expires_in: 3600 }));
  };
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const r = { authorization: req.headers.authorization, contentType: req.headers["content-type"], form: new URLSearchParams(body) };
      requests.push(r);
      answer(r, ++issued, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth/token`,
    requests,
    answer(f) {
      answer = f;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

const CLIENT_SECRET = "cl1ent-s3cret with spaces&symbols:";
let tokens: TokenServer;
let receiver: Receiver;
beforeEach(async () => {
  tokens = await startTokenServer();
  receiver = await startReceiver();
});
afterEach(async () => {
  await tokens.close();
  await receiver.close();
});

describe("the token request and its cache (sender)", () => {
  const loopback = () => new SsrfGuard({ allowedNetworks: ["127.0.0.0/8"] });
  const oauth = (over: Partial<OAuth2Request["credentials"]> = {}, key = "ep_1"): OAuth2Request => ({
    key,
    credentials: { type: "oauth2", tokenUrl: tokens.url, clientId: "herald client", clientSecret: CLIENT_SECRET, scope: "hooks:write", ...over },
  });
  const send = (sender: HttpDestination, req: OAuth2Request) =>
    sender.send({ url: new URL(`${receiver.url}/hook`), headers: { "content-type": "application/json" }, body: "{}", timeoutMs: 2000, oauth2: req });

  it("uses HTTP Basic client auth and a client_credentials form, sends the token as Bearer, and reuses it", async () => {
    const sender = new HttpDestination({ guard: loopback() });
    try {
      for (let i = 0; i < 3; i++) expect((await send(sender, oauth())).ok).toBe(true);
      expect(tokens.requests).toHaveLength(1);
      const [t] = tokens.requests;
      // RFC 6749 §2.3.1: form-encoded id and secret, then Basic.
      const decoded = Buffer.from(t!.authorization!.replace(/^Basic /, ""), "base64").toString();
      expect(decoded).toBe(`herald+client:${new URLSearchParams({ s: CLIENT_SECRET }).toString().slice(2)}`);
      expect(t!.contentType).toBe("application/x-www-form-urlencoded");
      expect(Object.fromEntries(t!.form)).toEqual({ grant_type: "client_credentials", scope: "hooks:write" });
      expect(receiver.received.map((r) => r.headers.authorization)).toEqual(["Bearer tok-1", "Bearer tok-1", "Bearer tok-1"]);
    } finally {
      await sender.close();
    }
  });

  it("shares one token request among concurrent attempts, and keeps tokens per endpoint and credentials", async () => {
    const sender = new HttpDestination({ guard: loopback() });
    try {
      const results = await Promise.all(Array.from({ length: 20 }, () => send(sender, oauth())));
      expect(results.every((r) => r.ok)).toBe(true);
      expect(tokens.requests).toHaveLength(1);
      await send(sender, oauth({}, "ep_2"));
      await send(sender, oauth({ clientSecret: "another-secret-123" }));
      await send(sender, oauth({ scope: "other" }));
      expect(tokens.requests).toHaveLength(4);
      expect(tokens.requests[3]!.form.get("scope")).toBe("other");
    } finally {
      await sender.close();
    }
  });

  it("fetches a new token shortly before expires_in", async () => {
    tokens.answer((_r, n, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ access_token: `short-${n}`, expires_in: 1 })));
    const sender = new HttpDestination({ guard: loopback() });
    try {
      await send(sender, oauth());
      await send(sender, oauth());
      expect(tokens.requests).toHaveLength(1);
      await sleep(950); // a 1 s token is dropped 100 ms early
      await send(sender, oauth());
      expect(tokens.requests).toHaveLength(2);
      expect(receiver.received.map((r) => r.headers.authorization)).toEqual(["Bearer short-1", "Bearer short-1", "Bearer short-2"]);
    } finally {
      await sender.close();
    }
  });

  it("forgets a token the endpoint answers 401 to: the next attempt fetches a fresh one, once", async () => {
    receiver.behave((r, res) => {
      res.statusCode = r.headers.authorization === "Bearer tok-1" ? 401 : 200;
      res.end();
    });
    const sender = new HttpDestination({ guard: loopback() });
    try {
      const first = await send(sender, oauth());
      expect(first.statusCode).toBe(401);
      expect(first.errorKind).toBe("http_status");
      expect(tokens.requests).toHaveLength(1);
      const second = await send(sender, oauth());
      expect(second.ok).toBe(true);
      await send(sender, oauth());
      expect(tokens.requests).toHaveLength(2);
    } finally {
      await sender.close();
    }
  });

  it.each([
    ["an error response", (res: ServerResponse) => res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ error: "invalid_client", error_description: "bad client" })), /failed: HTTP 401 invalid_client: bad client$/],
    ["a response without access_token", (res: ServerResponse) => res.writeHead(200).end("{}"), /no usable access_token/],
    ["a non-Bearer token type", (res: ServerResponse) => res.writeHead(200).end(JSON.stringify({ access_token: "x", token_type: "mac" })), /token_type "mac" is not Bearer/],
    ["a response that is not JSON", (res: ServerResponse) => res.writeHead(200).end("<html>"), /no usable access_token/],
    ["a hanging token endpoint", (_res: ServerResponse) => undefined, /no response within 500 ms/],
  ])("records %s as an `auth` failure without calling the endpoint", async (_name, answer, message) => {
    tokens.answer((_r, _n, res) => answer(res));
    const sender = new HttpDestination({ guard: loopback() });
    try {
      const result = await sender.send({ url: new URL(`${receiver.url}/hook`), headers: {}, body: "{}", timeoutMs: 500, oauth2: oauth() });
      expect(result.ok).toBe(false);
      expect(result.errorKind).toBe("auth");
      expect(result.errorMessage).toMatch(new RegExp(`^oauth2 token request to ${tokens.url.replace(/[.]/g, "\\.")} failed: `));
      expect(result.errorMessage).toMatch(message);
      expect(result.errorMessage).not.toContain(CLIENT_SECRET);
      expect(receiver.received).toHaveLength(0);
    } finally {
      await sender.close();
    }
  });

  it("sends the token request through the SSRF guard: a loopback token URL is `blocked` by default", async () => {
    const sender = new HttpDestination({ guard: new SsrfGuard() });
    try {
      const result = await send(sender, oauth());
      expect(result.errorKind).toBe("blocked");
      expect(result.errorMessage).toMatch(/oauth2 token request to .* failed: ERR_SSRF_BLOCKED: 127\.0\.0\.1 is a loopback address/);
      expect(tokens.requests).toHaveLength(0);
      expect(receiver.received).toHaveLength(0);
    } finally {
      await sender.close();
    }
  });
});

describe("oauth2 endpoints in a running Herald", () => {
  let h: SecurityHerald;
  beforeEach(async () => {
    h = await openSecurityHerald({ HERALD_ALLOWED_NETWORKS: "127.0.0.0/8", HERALD_RETRY_SCHEDULE: "0s,1500ms" });
  });
  afterEach(() => h.close());

  it("delivers with the token, and a token failure is a failed attempt (`auth`) retried per schedule", async () => {
    let down = true;
    tokens.answer((_r, n, res) => {
      if (down) res.writeHead(503).end(JSON.stringify({ error: "temporarily_unavailable" }));
      else res.writeHead(200).end(JSON.stringify({ access_token: `tok-${n}`, expires_in: 60 }));
    });
    const app = await createApp(h.herald);
    await createEndpoint(h.herald, app, `${receiver.url}/hook`, {
      authentication: { type: "oauth2", tokenUrl: tokens.url, clientId: "cid", clientSecret: CLIENT_SECRET },
    });
    await h.herald.start();
    const { message } = await h.herald.publish({ app: app.id, eventType: "order.created", payload: { id: 1 } });
    const [first] = await attemptsOf(h.herald, message.id, 1);
    expect(first!.errorKind).toBe("auth");
    expect(first!.errorMessage).toMatch(/HTTP 503 temporarily_unavailable/);
    down = false; // the retry, 1.5 s later (past the 1 s memory of the failure), gets a token
    const [got] = await receiver.waitFor(1);
    expect(got!.headers.authorization).toMatch(/^Bearer tok-\d+$/);
    await eventually(async () => (await h.herald.store.listDeliveries(message.id)).some((d) => d.status === "succeeded"));
  });
});
