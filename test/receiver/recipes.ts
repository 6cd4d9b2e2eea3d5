import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OLD_SECRET, SECRET, type Signed, signed } from "./helpers.js";

/**
 * The recipes of docs/receiving.md, taken from the guide itself (each fenced
 * block after a `<!-- recipe: NAME -->` marker), and the signed requests they
 * are run against: the guide cannot drift from what works.
 */
export const guide = readFileSync(new URL("../../docs/receiving.md", import.meta.url), "utf8");

export function recipe(name: string): string {
  const m = new RegExp(`<!-- recipe: ${name} -->\\n\`\`\`\\w+\\n([\\s\\S]*?)\\n\`\`\`\\n`).exec(guide);
  if (!m) throw new Error(`docs/receiving.md has no recipe ${name}`);
  return m[1]!;
}

const dir = mkdtempSync(join(tmpdir(), "herald-recipes-"));
/** Writes the parts, one after another, to `file` in a folder of the run's own; returns its path. */
export function program(file: string, ...parts: string[]): string {
  const path = join(dir, file);
  writeFileSync(path, parts.join("\n\n"));
  return path;
}

export const now = () => Math.floor(Date.now() / 1000);
export const payload = { type: "order.created", data: { orderId: "ord_1", note: "é ✓ 日本", amount: 17.99 } };

/** One request for a recipe's check, and whether the check must accept it. */
export interface Case {
  secret: string;
  headers: Record<string, string>;
  body: string; // base64 of the raw bytes
  expected: boolean;
}

function asCase(req: Signed, secret: string, expected: boolean): Case {
  return { secret, headers: req.headers, body: Buffer.from(req.body).toString("base64"), expected };
}

function without(req: Signed, name: string): Signed {
  const headers = { ...req.headers };
  delete headers[name];
  return { ...req, headers };
}

function withHeader(req: Signed, name: string, value: string): Signed {
  return { ...req, headers: { ...req.headers, [name]: value } };
}

const good = signed(payload);
export const standardCases: Case[] = [
  asCase(good, SECRET, true),
  asCase(signed(payload, { secrets: [SECRET, OLD_SECRET] }), OLD_SECRET, true),
  asCase(signed(payload, { timestamp: now() - 200 }), SECRET, true),
  asCase(signed(undefined, { body: JSON.stringify(payload, null, 2) }), SECRET, true),
  asCase(good, OLD_SECRET, false),
  asCase({ ...good, body: good.body.replace("ord_1", "ord_2") }, SECRET, false),
  asCase(signed(payload, { timestamp: now() - 400 }), SECRET, false),
  asCase(signed(payload, { timestamp: now() + 400 }), SECRET, false),
  asCase(without(good, "webhook-id"), SECRET, false),
  asCase(without(good, "webhook-timestamp"), SECRET, false),
  asCase(without(good, "webhook-signature"), SECRET, false),
  asCase(withHeader(good, "webhook-timestamp", "hello"), SECRET, false),
  asCase(withHeader(good, "webhook-signature", "v1,"), SECRET, false),
  asCase(withHeader(good, "webhook-signature", good.headers["webhook-signature"]!.slice(0, 8)), SECRET, false),
  asCase(withHeader(good, "webhook-signature", "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="), SECRET, false),
];
export const seedCases: Case[] = [
  asCase(good, SECRET, true),
  asCase(signed(payload, { secrets: ["your_secret_key"] }), "your_secret_key", true),
  asCase(good, OLD_SECRET, false),
  asCase({ ...good, body: good.body.replace("ord_1", "ord_2") }, SECRET, false),
  asCase(withHeader(good, "x-webhook-signature", good.headers["x-webhook-signature"]!.slice(0, 63)), SECRET, false),
  asCase(without(good, "x-webhook-signature"), SECRET, false),
];

/** Runs `cmd args…` with the cases as JSON on its standard input; it prints one boolean per case, as JSON. */
export function run(cmd: string, args: string | string[], cases: Case[]): boolean[] {
  return JSON.parse(execFileSync(cmd, typeof args === "string" ? [args] : args, { input: JSON.stringify(cases), encoding: "utf8" })) as boolean[];
}
