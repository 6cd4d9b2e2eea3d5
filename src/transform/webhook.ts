import { isReservedHeader, urlProblem } from "../service/endpoint-input.js";
import type { Endpoint } from "../store/model.js";

/** The methods a handler may choose: the ones that carry a body. */
const METHODS = new Set(["POST", "PUT", "PATCH"]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
const HEADER_VALUE = /^[\t\x20-\x7e]{0,4096}$/;
const EVENT_TYPE = /^[A-Za-z0-9_.-]{1,256}$/;
const MAX_HEADERS = 32;

/** What a handler receives, before it is turned into JSON (`payload` is already JSON: the stored bytes). */
export interface WebhookInput {
  method: string;
  url: string;
  eventType: string;
  headers: Record<string, string>;
  /** The message's payload as stored (JSON text), spliced in as is: no parse on the host. */
  payload: string;
}

/** What a handler decided: the request to sign and send, or `cancel`. */
export interface TransformedWebhook {
  method: "POST" | "PUT" | "PATCH";
  url: string;
  eventType: string;
  /** Lowercase names; Herald's own headers are added after (and win). */
  headers: Record<string, string>;
  payload: Record<string, unknown>;
  /** `JSON.stringify(payload)`: the body that is signed and sent. */
  body: string;
  cancel: boolean;
}

/** What a handler receives: the endpoint's own headers (never its credentials) and the payload as stored. */
export function webhookOf(endpoint: Endpoint, eventType: string, payload: string): WebhookInput {
  return { method: "POST", url: endpoint.url, eventType, headers: { ...endpoint.headers }, payload };
}

/** The JSON a handler is called with (`webhook`). */
export function webhookJson(input: WebhookInput): string {
  const { payload, ...rest } = input;
  return `${JSON.stringify(rest).slice(0, -1)},"payload":${payload}}`;
}

/**
 * Reads and checks what a handler returned (JSON from the sandbox): a problem
 * that says what is wrong, or the request to send. The checks are the ones an
 * endpoint's own fields get: a URL that `urlProblem` accepts (the SSRF guard
 * still checks the connection at send time), header names and values an
 * endpoint could configure, none of Herald's own headers.
 */
export function readTransformed(output: string): TransformedWebhook | { problem: string } {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(output) as Record<string, unknown>;
  } catch {
    return { problem: "handler returned something that is not JSON" };
  }
  const bad = (what: string) => ({ problem: `handler returned an invalid webhook: ${what}` });
  const cancel = value.cancel;
  if (cancel !== undefined && typeof cancel !== "boolean") return bad("cancel must be true or false");
  const method = value.method;
  if (typeof method !== "string" || !METHODS.has(method.toUpperCase())) return bad("method must be POST, PUT or PATCH");
  const url = value.url;
  if (typeof url !== "string") return bad("url must be a string");
  const urlFault = urlProblem(url);
  if (urlFault) return bad(`url ${urlFault}`);
  const eventType = value.eventType;
  if (typeof eventType !== "string" || !EVENT_TYPE.test(eventType)) return bad("eventType must be 1–256 letters, digits, '_', '.' or '-'");
  const payload = value.payload;
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return bad("payload must be a JSON object");
  const headers = readHeaders(value.headers);
  if (typeof headers === "string") return bad(headers);
  return {
    method: method.toUpperCase() as TransformedWebhook["method"],
    url,
    eventType,
    headers,
    payload: payload as Record<string, unknown>,
    body: JSON.stringify(payload),
    cancel: cancel === true,
  };
}

function readHeaders(value: unknown): Record<string, string> | string {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) return "headers must be an object of strings";
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_HEADERS) return `at most ${MAX_HEADERS} headers`;
  const out: Record<string, string> = {};
  for (const [name, v] of entries) {
    if (!HEADER_NAME.test(name)) return `header name ${JSON.stringify(name.slice(0, 64))} is not a valid HTTP header name`;
    if (typeof v !== "string" || !HEADER_VALUE.test(v)) return `header ${name} must be a string of printable ASCII (at most 4096 characters)`;
    if (isReservedHeader(name)) return `header ${name} is set by Herald (or is hop-by-hop) and cannot be set by a transformation`;
    out[name.toLowerCase()] = v;
  }
  return out;
}
