// The sandbox thread of transformations (docs/delivery.md, "Transformations").
// Plain JavaScript on purpose: `worker_threads` loads it by file path, from
// src/ in a checkout and tests as from dist/ in a build (scripts/copy-assets.mjs
// copies it), with no TypeScript loader in between. `pool.ts` is its one user
// and the protocol's other half.
//
// Each handler runs in QuickJS compiled to WebAssembly: a separate heap, no
// host objects at all (no require, process, fetch, timers or file system:
// nothing is injected), a deadline checked by QuickJS's interrupt handler, a
// memory limit and a stack limit per runtime. One runtime per (endpoint, code
// hash), kept in a small LRU: evaluating the code again costs ~200 µs, calling
// a kept handler ~15 µs. A runtime whose run hit a limit is thrown away.
//
// Request:  { id, key, code, input, timeoutMs, memoryBytes, stackBytes, maxOutputBytes, cache }
// Response: { id, ok: true, output } | { id, ok: false, reason, message }
//   reason: "timeout" | "memory" | "stack" | "threw" | "invalid"
import { parentPort, workerData } from "node:worker_threads";
import variant from "@jitl/quickjs-wasmfile-release-sync";
import { newQuickJSWASMModuleFromVariant, shouldInterruptAfterDeadline } from "quickjs-emscripten-core";

const CACHE_SIZE = 32;

// Defined before the user's code, so JSON.parse/stringify are the real ones
// whatever the code does to the globals later. The host checks the output again.
const RUNNER = `globalThis.__heraldRun = (function (parse, stringify, isArray) {
  return function (input) {
    if (typeof handler !== "function") throw new TypeError("the code must define function handler(webhook)");
    const result = handler(parse(input));
    if (result === undefined || result === null) throw new TypeError("handler returned " + result + " instead of the webhook object");
    if (typeof result !== "object" || isArray(result)) throw new TypeError("handler returned a " + typeof result + " instead of the webhook object");
    if (typeof result.then === "function") throw new TypeError("handler returned a Promise: handlers are synchronous");
    return stringify(result);
  };
})(JSON.parse, JSON.stringify, Array.isArray);`;

const QuickJS = await newQuickJSWASMModuleFromVariant(variant);
{
  // The first evaluation in a fresh engine is slow (WebAssembly warming up),
  // and so is growing its heap the first time (a 64 MiB string took ~90 ms to
  // be refused on a fresh heap, 3 ms on a grown one): both are done here,
  // before the thread says it is ready, not on a handler's time. The heap is
  // grown once to a sandbox's limit and keeps that size (~16 MiB per thread).
  const runtime = QuickJS.newRuntime();
  runtime.setMemoryLimit(workerData.memoryBytes + 4 * 1024 * 1024);
  const context = runtime.newContext();
  context.unwrapResult(context.evalCode(`${RUNNER}; JSON.stringify(JSON.parse('{"a":[1]}'))`)).dispose();
  context.unwrapResult(context.evalCode(`new ArrayBuffer(${workerData.memoryBytes}).byteLength`)).dispose();
  context.dispose();
  runtime.dispose();
}
/** key → { runtime, context, run } in least-recently-used order (a Map keeps insertion order). */
const cache = new Map();

/** Raised inside this file for a run that must be reported with a reason. */
class RunError extends Error {
  constructor(reason, message) {
    super(message);
    this.reason = reason;
  }
}

function dispose(entry) {
  try {
    entry.run.dispose();
    entry.context.dispose();
    entry.runtime.dispose();
  } catch {
    // A runtime interrupted mid-allocation may refuse; the thread is restarted by the pool if it matters.
  }
}

/** Turns a QuickJS exception into the reason and the message an attempt records. */
function failure(context, handle, req) {
  let name = "Error";
  let message = "";
  try {
    const dumped = context.dump(handle);
    if (dumped && typeof dumped === "object") {
      name = String(dumped.name ?? "Error");
      message = String(dumped.message ?? "");
    } else {
      message = `a non-Error value was thrown: ${JSON.stringify(dumped) ?? String(dumped)}`;
    }
  } catch {
    message = "an exception that cannot be read";
  } finally {
    handle.dispose();
  }
  if (name === "InternalError" && message === "interrupted") return new RunError("timeout", `timed out after ${req.timeoutMs} ms`);
  if (name === "InternalError" && message === "out of memory") {
    return new RunError("memory", `ran out of memory (the limit is ${Math.round(req.memoryBytes / 1048576)} MiB)`);
  }
  if (name === "InternalError" && message === "stack overflow") return new RunError("stack", "stack overflow (recursion too deep)");
  return new RunError("threw", `handler threw: ${name}: ${message}`.slice(0, 500));
}

function entryFor(req) {
  const cached = req.cache ? cache.get(req.key) : undefined;
  if (cached) {
    cache.delete(req.key); // re-inserted below as the most recently used
    cache.set(req.key, cached);
    return cached;
  }
  const runtime = QuickJS.newRuntime();
  runtime.setMemoryLimit(req.memoryBytes);
  runtime.setMaxStackSize(req.stackBytes);
  const context = runtime.newContext();
  const entry = { runtime, context, run: null };
  try {
    context.unwrapResult(context.evalCode(RUNNER, "herald.js")).dispose();
    // Loading the code (its top level) has a time limit of its own; the call gets another.
    runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + req.timeoutMs));
    const loaded = context.evalCode(req.code, "handler.js");
    if (loaded.error) {
      const err = failure(context, loaded.error, req);
      if (err.reason === "threw") err.message = err.message.replace(/^handler threw: /, "the code failed to load: ");
      throw err;
    }
    loaded.value.dispose();
    entry.run = context.getProp(context.global, "__heraldRun");
  } catch (err) {
    if (!entry.run) entry.run = context.undefined;
    dispose(entry);
    throw err;
  }
  if (req.cache) {
    cache.set(req.key, entry);
    if (cache.size > CACHE_SIZE) {
      const [oldest, old] = cache.entries().next().value;
      cache.delete(oldest);
      dispose(old);
    }
  }
  return entry;
}

function run(req) {
  const entry = entryFor(req);
  const { runtime, context } = entry;
  let keep = req.cache;
  try {
    runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + req.timeoutMs));
    const input = context.newString(req.input);
    const result = context.callFunction(entry.run, context.undefined, input);
    input.dispose();
    if (result.error) {
      const err = failure(context, result.error, req);
      if (err.reason !== "threw") keep = false; // a limit was hit: the runtime's state is suspect
      throw err;
    }
    const output = context.getString(result.value);
    result.value.dispose();
    if (output.length > req.maxOutputBytes) {
      throw new RunError("invalid", `handler returned more than ${req.maxOutputBytes} bytes of JSON`);
    }
    return output;
  } finally {
    if (!keep) {
      cache.delete(req.key);
      dispose(entry);
    }
  }
}

parentPort.on("message", (req) => {
  try {
    parentPort.postMessage({ id: req.id, ok: true, output: run(req) });
  } catch (err) {
    if (err instanceof RunError) {
      parentPort.postMessage({ id: req.id, ok: false, reason: err.reason, message: err.message });
    } else {
      // QuickJS itself failed (the WebAssembly heap is exhausted, a bug): say so, then
      // let the pool start a fresh thread rather than reuse a damaged one.
      parentPort.postMessage({ id: req.id, ok: false, reason: "memory", message: `the sandbox failed: ${String(err?.message ?? err).slice(0, 300)}` });
      process.exit(1);
    }
  }
});
parentPort.postMessage({ ready: true });
