// The cost of payload filters at publish (`npm run build` first):
//   node bench/payload-filter.js [--runs 100000]
// Evaluates a 5-condition filter over a ~1 KB payload, then measures what a
// publish pays for an endpoint with a filter: one JSON.parse of the payload
// per message (shared by every filtered endpoint of the app) plus one
// evaluation per filtered endpoint.
import { parseArgs } from "node:util";
import { endpointsFor } from "../dist/core/filters.js";
import { compileFilter } from "../dist/core/payload-filter.js";

const { values } = parseArgs({ options: { runs: { type: "string", default: "100000" } } });
const runs = Number(values.runs);

const payload = {
  id: "evt_2r6Zc3nV1q",
  type: "order.paid",
  data: {
    order: {
      id: "ord_8812",
      status: "paid",
      currency: "EUR",
      amount: 12_950,
      customer: { id: "cus_17", email: "ada@example.com", country: "FR", vip: true },
      items: Array.from({ length: 11 }, (_, i) => ({ sku: `SKU-${100 + i}`, qty: i + 1, price: 990 + i * 10, name: `Item number ${i}` })),
      shipping: { method: "express", address: { line1: "12 rue de la Paix", city: "Paris", zip: "75002" } },
      tags: ["gift", "priority", "web"],
    },
  },
};
const text = JSON.stringify(payload);
const filter = {
  "data.order.status": "paid",
  "data.order.amount": { $gte: 10_000 },
  "data.order.currency": { $in: ["EUR", "USD", "GBP"] },
  "data.order.customer.email": { $regex: "@example\\.com$" },
  $or: [{ "data.order.customer.vip": true }, { "data.order.items.qty": { $gt: 50 } }],
};

function measure(label, fn) {
  for (let i = 0; i < Math.min(runs, 10_000); i++) fn(); // warm-up
  const start = process.hrtime.bigint();
  let matched = 0;
  for (let i = 0; i < runs; i++) if (fn()) matched++;
  const us = Number(process.hrtime.bigint() - start) / 1000 / runs;
  console.log(`  ${label.padEnd(44)} ${us.toFixed(2)} µs${matched === runs ? "" : " (did not match!)"}`);
}

console.log(`Payload filter cost (${text.length}-byte payload, 5 conditions, ${runs.toLocaleString("en")} runs, node ${process.version})`);
const predicate = compileFilter(filter);
measure("evaluate (payload already parsed)", () => predicate(payload));
measure("JSON.parse of the payload", () => JSON.parse(text) !== null);
const message = { eventType: "order.paid", channels: null, payload: text };
const plain = { events: null, channels: null, filter: null };
const filtered = { events: null, channels: null, filter };
measure("publish fan-out, 1 endpoint without a filter", () => endpointsFor([plain], message).length === 1);
measure("publish fan-out, 1 endpoint with the filter", () => endpointsFor([filtered], message).length === 1);
measure("publish fan-out, 10 endpoints with the filter", () => endpointsFor(Array(10).fill(filtered), message).length === 10);
