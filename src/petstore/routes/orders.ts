import { HeraldError } from "../../core/errors.js";
import type { Api } from "../../api/validation.js";
import type { PetstoreContext } from "../context.js";
import * as ops from "../orders.js";
import { Fulfilment, IdParams, ListQuery, NoBody, OrderCreate, optionalBody, Payment } from "./schemas.js";

/** `/orders`: placing, paying, shipping, delivering, cancelling, deleting, and fulfilment updates. */
export function orderRoutes(api: Api, ctx: PetstoreContext): void {
  api.post("/orders", { schema: { body: OrderCreate } }, async (req, reply) => reply.code(201).send(ops.createOrder(ctx, req.body)));
  api.get("/orders", { schema: { querystring: ListQuery } }, async (req) => ctx.tables.orders.list(req.query.limit ?? 50, req.query.cursor));
  api.get("/orders/:id", { schema: { params: IdParams } }, async (req) => ops.getOrder(ctx, req.params.id));
  api.delete("/orders/:id", { schema: { params: IdParams } }, async (req, reply) => {
    ops.deleteOrder(ctx, req.params.id);
    return reply.code(204).send();
  });

  api.post("/orders/:id/payments", { schema: { params: IdParams, body: Payment } }, async (req, reply) => {
    const { payment, order } = ops.payOrder(ctx, req.params.id, req.body.card);
    if (payment.status === "FAILED") {
      // The failed payment and its `payment.failed` event are committed; the answer says why.
      throw new HeraldError("payment_declined", `payment ${payment.id} was declined: INSUFFICIENT_FUNDS (the card has insufficient funds)`);
    }
    return reply.code(201).send({ payment, order });
  });

  for (const [action, status] of [
    ["ship", "SHIPPED"],
    ["deliver", "DELIVERED"],
    ["cancel", "CANCELLED"],
  ] as const) {
    api.post(`/orders/:id/${action}`, { preValidation: optionalBody, schema: { params: IdParams, body: NoBody } }, async (req) => ops.changeOrderStatus(ctx, req.params.id, status));
  }

  api.post("/orders/:id/fulfilment", { schema: { params: IdParams, body: Fulfilment } }, async (req) => ops.updateFulfilment(ctx, req.params.id, req.body));
}
