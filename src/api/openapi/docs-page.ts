import { createHash } from "node:crypto";

/**
 * `/docs`: the OpenAPI document as one self-contained HTML page, rendered on
 * the server. No script at all, one inline style allowed by its hash, nothing
 * loaded from anywhere.
 */

type Json = Record<string, unknown>;

const STYLE = `
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1rem 1.5rem;color:#1b1f24}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #d0d7de;padding-bottom:.3rem;margin-top:2.5rem}
.op{border:1px solid #d0d7de;border-radius:6px;padding:.6rem 1rem;margin:1rem 0}
.m{display:inline-block;min-width:4.2rem;font:600 13px monospace;text-transform:uppercase}
.get{color:#0969da}.post{color:#1a7f37}.patch{color:#9a6700}.delete{color:#cf222e}
code,pre{font:13px ui-monospace,monospace;background:#f6f8fa;border-radius:4px}
pre{padding:.6rem;overflow:auto;max-height:24rem}code{padding:0 .2rem}
table{border-collapse:collapse;margin:.4rem 0}td,th{border:1px solid #d0d7de;padding:.2rem .5rem;text-align:left;vertical-align:top}
.dep{color:#cf222e;font-weight:600}nav a{margin-right:1rem}details{margin:.3rem 0}summary{cursor:pointer}
`;

export const DOCS_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash("sha256").update(STYLE).digest("base64")}'`,
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const escapeHtml = (value: unknown): string => String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/**
 * The little markdown descriptions use, rendered safely: the text is escaped
 * first, then `code`, **bold**, [links](/docs#…) (to this server's own pages
 * only: a path or an in-page anchor), paragraphs and "- " lists become HTML. Event-type
 * descriptions come from tenants: nothing they write can add markup or script.
 */
export function markdown(text: unknown): string {
  return escapeHtml(text ?? "")
    .split(/\n{2,}/)
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const lines = block.split("\n");
      if (lines.every((l) => /^\s*[-*] /.test(l))) return `<ul>${lines.map((l) => `<li>${inline(l.replace(/^\s*[-*] /, ""))}</li>`).join("")}</ul>`;
      return `<p>${inline(block)}</p>`;
    })
    .join("");
}

/** One line's inline markdown (already escaped). */
export function inline(escaped: string): string {
  return escaped
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
    .replace(/\[([^\]]+)\]\(((?:\/(?!\/)|#)[^)\s]*)\)/g, '<a href="$2">$1</a>');
}

const md = (value: unknown): string => inline(escapeHtml(value ?? ""));

const pre = (value: unknown) => `<pre>${escapeHtml(JSON.stringify(value, null, 2))}</pre>`;
const anchor = (value: string) => escapeHtml(value.replace(/[^A-Za-z0-9_.-]+/g, "-"));

/** `shared`: `components.parameters`, where `$ref`s point. */
function parametersTable(params: Json[], shared: Json): string {
  if (params.length === 0) return "";
  const rows = params.map((param) => {
    const p = typeof param.$ref === "string" ? ((shared[param.$ref.split("/").pop()!] ?? param) as Json) : param;
    const name = String(p.name ?? param.$ref);
    return `<tr><td><code>${escapeHtml(name)}</code></td><td>${escapeHtml(p.in ?? "header")}</td><td>${p.required ? "yes" : ""}</td><td>${md(p.description)}</td></tr>`;
  });
  return `<table><tr><th>parameter</th><th>in</th><th>required</th><th>meaning</th></tr>${rows.join("")}</table>`;
}

function responsesList(responses: Json): string {
  const items = Object.entries(responses).map(([code, r]) => {
    const res = r as Json;
    const schema = ((res.content as Json | undefined)?.["application/json"] as Json | undefined)?.schema;
    const what = typeof res.$ref === "string" ? "problem+json (see Errors)" : md(res.description);
    return `<li><code>${escapeHtml(code)}</code> ${what}${schema ? `<details><summary>schema</summary>${pre(schema)}</details>` : ""}</li>`;
  });
  return `<ul>${items.join("")}</ul>`;
}

function operationHtml(method: string, path: string, op: Json, shared: Json): string {
  const body = ((op.requestBody as Json | undefined)?.content as Json | undefined)?.["application/json"] as Json | undefined;
  return `<div class="op" id="${anchor(String(op.operationId ?? `${method}${path}`))}">
<div><span class="m ${escapeHtml(method)}">${escapeHtml(method)}</span><code>${escapeHtml(path)}</code> ${op.deprecated ? '<span class="dep">deprecated</span>' : ""}</div>
<p><strong>${md(op.summary)}</strong></p>${op.description ? markdown(op.description) : ""}
${parametersTable((op.parameters ?? []) as Json[], shared)}
${body ? `<details><summary>request body</summary>${pre(body.schema)}</details>` : ""}
${body?.examples ? `<details open><summary>examples</summary>${pre(Object.values(body.examples as Json).map((e) => (e as Json).value))}</details>` : ""}
${responsesList((op.responses ?? {}) as Json)}</div>`;
}

/** The page for `doc` (an OpenAPI document as `buildOpenApiDocument` makes it). */
export function renderDocsPage(doc: Json): string {
  const info = doc.info as Json;
  const shared = ((doc.components as Json | undefined)?.parameters ?? {}) as Json;
  const byTag = new Map<string, string[]>();
  for (const [path, item] of Object.entries(doc.paths as Json)) {
    for (const [method, op] of Object.entries(item as Json)) {
      const tag = ((op as Json).tags as string[] | undefined)?.[0] ?? "Operations";
      byTag.set(tag, [...(byTag.get(tag) ?? []), operationHtml(method, path, op as Json, shared)]);
    }
  }
  // In the document's tag order (API resources first, operations last).
  const order = ((doc.tags ?? []) as Json[]).map((t) => String(t.name));
  const rank = (tag: string) => (order.includes(tag) ? order.indexOf(tag) : order.length);
  const tags = [...byTag.keys()].sort((a, b) => rank(a) - rank(b));
  const sections = tags.map((tag) => [tag, byTag.get(tag)!] as const).map(([tag, ops]) => `<h2 id="${anchor(tag)}">${escapeHtml(tag)}</h2>${ops.join("\n")}`);
  const hooks = Object.entries(doc.webhooks as Json).map(([name, item]) => operationHtml("post", name, (item as Json).post as Json, shared));
  const nav = [...tags, "Webhooks"].map((t) => `<a href="#${anchor(t)}">${escapeHtml(t)}</a>`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(info.title)} ${escapeHtml(info.version)}</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(info.title)} <small>${escapeHtml(info.version)}</small></h1>
${markdown(info.description)}<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
<nav>${nav}</nav>
<h2 id="Errors">Errors</h2><p>Every error is <code>application/problem+json</code>: <code>{type, title, status, detail, code, errors?}</code>; match on <code>code</code>.</p>
<details><summary>schema</summary>${pre(((doc.components as Json).schemas as Json).Problem)}</details>
${sections.join("\n")}
<h2 id="Webhooks">Webhooks</h2><p>What a receiver gets for each event type of the catalog: a signed <code>POST</code> with these headers and payload.</p>
${hooks.length > 0 ? hooks.join("\n") : "<p>The catalog is empty.</p>"}
</body></html>`;
}
