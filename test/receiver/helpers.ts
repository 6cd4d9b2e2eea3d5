import { existsSync, readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";
import { signatureHeaders, signer } from "../../src/signing/sign.js";

export const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
export const OLD_SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

export interface Vector {
  secret: string;
  id: string;
  timestamp: number;
  payload: string;
  signature: string;
}

/**
 * A file of shared/ (the project's given material, beside the checkout locally
 * and in CI), or, in a lone clone, the copy committed under test/fixtures/shared/.
 */
function sharedFile(path: string): string {
  const beside = new URL(`../../../shared/${path}`, import.meta.url);
  return readFileSync(existsSync(beside) ? beside : new URL(`../fixtures/shared/${path}`, import.meta.url), "utf8");
}

/** The shared test vectors. */
export function loadVectors(): { vectors: Vector[]; negative_cases: string[] } {
  return JSON.parse(sharedFile("test-vectors/standard-webhooks.json"));
}

/** The seed document whose snippets the fixtures copy. */
export function seedText(): string {
  return sharedFile("seeds/003_0ee416f7eac32713.txt");
}

export interface Signed {
  body: string;
  headers: Record<string, string>;
}

/**
 * A request as a Herald delivery sends it: the payload serialized once with
 * JSON.stringify, both signature schemes, and the x-webhook-* headers.
 */
export function signed(
  payload: unknown,
  opts: { secrets?: string[]; id?: string; timestamp?: number; eventType?: string; attempt?: number; body?: string } = {},
): Signed {
  const body = opts.body ?? JSON.stringify(payload);
  const id = opts.id ?? "msg_2Z5YQ0VJ8KXW3M1TA6BCDEFGHJ";
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const secrets = opts.secrets ?? [SECRET];
  return {
    body,
    headers: {
      "content-type": "application/json",
      "user-agent": "Herald/test",
      ...signatureHeaders(secrets.map(signer), id, timestamp, body),
      "x-webhook-event": opts.eventType ?? "order.created",
      "x-webhook-id": id,
      "x-webhook-attempt": String(opts.attempt ?? 1),
    },
  };
}

/** Starts a Node server on 127.0.0.1, on a free port. */
export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** POSTs over real loopback HTTP with undici and returns status and parsed-if-JSON body. */
export async function post(url: string, req: Signed): Promise<{ status: number; text: string; json: unknown }> {
  const res = await request(url, { method: "POST", headers: req.headers, body: req.body });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, text, json };
}
