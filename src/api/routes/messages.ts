import { type Static, Type } from "@sinclair/typebox";
import type { FastifyRequest } from "fastify";
import type { EventCatalog } from "../../catalog/catalog.js";
import { invalid, notFound } from "../../core/errors.js";
import { isId } from "../../core/ids.js";
import { MAX_JSON_DEPTH } from "../../core/json-limits.js";
import { BATCH_BYTES_FACTOR, MAX_BATCH_MESSAGES } from "../../publish/batch.js";
import type { ApiContext } from "../context.js";
import { bodyDepth } from "../json-body.js";
import { headerCount } from "../headers.js";
import { findApp, findMessage } from "../lookup.js";
import { requireActive } from "../../service/endpoints.js";
import { type MessageInput, type MessageSource, MessageWrites } from "../../service/messages.js";
import { PageQuery, pageOf, pageRequest } from "../pagination.js";
import {
  AnyObject,
  AppParams,
  Channel,
  DateTime,
  EmptyBody,
  epochMs,
  EventTypeName,
  MessageEndpointParams,
  MessageParams,
  NoQuery,
  optionalBody,
  StringEnum,
  Strict,
} from "../../core/schemas.js";
import { Attempt, Delivery, Message, Page } from "../responses.js";
import { messageJson, serializeAttempt, serializeDelivery, serializeMessage } from "../serializers.js";
import type { Api } from "../validation.js";

/** An idempotency key: 1–256 printable ASCII characters. */
const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,256}$/;

const PublishBody = Strict({
  eventType: EventTypeName,
  payload: AnyObject,
  id: Type.Optional(
    Type.String({ pattern: "^[\\x20-\\x7e]{1,256}$", description: "an idempotency key: 1–256 printable ASCII characters" }),
  ),
  channels: Type.Optional(Type.Array(Channel, { maxItems: 10 })),
});

const BatchBody = Strict({
  messages: Type.Array(PublishBody, { minItems: 1, maxItems: MAX_BATCH_MESSAGES, description: `1 to ${MAX_BATCH_MESSAGES} messages` }),
});

/** Room for the envelopes around the payloads of a full batch (`eventType`, `id`, `channels`, escapes). */
const BATCH_ENVELOPE_BYTES = MAX_BATCH_MESSAGES * 1024;

const ListQuery = Strict({
  ...PageQuery,
  eventType: Type.Optional(EventTypeName),
  status: Type.Optional(StringEnum(["pending", "succeeded", "failed", "skipped"] as const)),
  before: Type.Optional(DateTime),
  after: Type.Optional(DateTime),
});

const Resent = Type.Object({ messageId: Type.String(), endpointId: Type.String(), status: Type.String() });
const tags = ["Messages"];

/** The producer's `traceparent` header, which the publish span continues (docs/observability.md). */
const producerTrace = (req: FastifyRequest): string | undefined => (typeof req.headers.traceparent === "string" ? req.headers.traceparent : undefined);

const optionalDate = (value: string | undefined, path: string): number | undefined => (value === undefined ? undefined : epochMs(value, path));

/** A message of the request's body: its shape checked by the route's schema. */
const REQUEST: MessageSource = { from: "request" };
const readBodyMessage = (m: Static<typeof PublishBody>): MessageInput => ({ eventType: m.eventType, payload: m.payload, channels: m.channels, eventId: m.id });

export function messageRoutes(api: Api, ctx: ApiContext & { catalog: EventCatalog }): void {
  const { maxPayloadBytes } = ctx.config;
  const writes = new MessageWrites({ publisher: ctx.publisher, catalog: ctx.catalog, maxPayloadBytes });

  api.post(
    "/applications/:app/messages",
    {
      // The data plane: not counted by the rate limit for admin keys (a portal token's publishes are).
      config: { unmetered: true },
      schema: {
        summary: "Publish a message",
        description:
          "Fans out to every matching endpoint. When `eventType` is in the catalog with a schema, the payload must match it " +
          "(422 `validation_failed`, one `errors` entry per violation, paths under `/payload`). " +
          "The `Idempotency-Key` header (or body `id`) dedups: the same key answers the first message.",
        tags,
        params: AppParams,
        body: PublishBody,
        querystring: NoQuery,
        response: { 202: Message },
      },
    },
    async (req, reply) => {
    const header = req.headers["idempotency-key"];
    if (header !== undefined && (typeof header !== "string" || !IDEMPOTENCY_KEY.test(header) || headerCount(req, "idempotency-key") > 1)) {
      throw invalid("headers.idempotency-key", "must be 1–256 printable ASCII characters, sent once");
    }
    const app = await findApp(ctx, req, req.params.app);
    const { eventType, payload, channels } = req.body;
    // The producer's trace is continued by the publish span (docs/observability.md).
    const { message, created } = await writes.publish(app.id, { eventType, payload, channels, eventId: header ?? req.body.id }, REQUEST, producerTrace(req));
    // A repeated idempotency key answers with the first message, as Stripe does.
    if (!created) {
      reply.header("idempotent-replayed", "true");
      return reply.code(202).send(serializeMessage(message));
    }
    // Written as text, as the bulk publish does: the payload serialized above is compact JSON, embedded as
    // it is instead of parsed and written again (the same bytes serializeMessage's JSON would have).
    return reply
      .code(202)
      .header("content-type", "application/json; charset=utf-8")
      .send(messageJson(message) as never);
    },
  );

  api.post(
    "/applications/:app/messages/batch",
    {
      // Counted as single publishes are: not for admin keys; for a portal token, once per message.
      // The body nests three levels more than a payload ({messages: [{payload: …}]}); the parser lets
      // payloads nest up to twice the limit so that the check below names the message that is too deep.
      config: { unmetered: true, maxBodyDepth: 2 * MAX_JSON_DEPTH + 3, cost: (body) => (body as { messages: unknown[] }).messages.length },
      bodyLimit: maxPayloadBytes * BATCH_BYTES_FACTOR + BATCH_ENVELOPE_BYTES,
      schema: {
        summary: "Publish messages in bulk",
        description:
          `Up to ${MAX_BATCH_MESSAGES} messages in one request and one transaction, all or nothing: one invalid message ` +
          "(schema, catalog schema, payload too large or too deep) makes it a 422 `validation_failed` whose `errors` name its index " +
          "(`/messages/3/payload`…), and nothing is stored. The payloads may add up to " +
          `${BATCH_BYTES_FACTOR} × \`HERALD_MAX_PAYLOAD_BYTES\` (413 \`payload_too_large\` beyond). ` +
          "Answers the messages in request order. A message's `id` dedups as the single publish's `Idempotency-Key` does: " +
          "an id already stored answers the stored message, an id repeated within the batch answers the batch's first.",
        tags,
        params: AppParams,
        body: BatchBody,
        querystring: NoQuery,
        response: { 202: Type.Object({ data: Type.Array(Message) }) },
      },
    },
    async (req, reply) => {
      const app = await findApp(ctx, req, req.params.app);
      // The body parser checked surrogates and numbers; a payload can be too deep only if the body is.
      const source = { from: "request", bodyDepth: bodyDepth(req) ?? Number.POSITIVE_INFINITY } as const;
      const results = await writes.publishBatch(app.id, req.body.messages, readBodyMessage, source, producerTrace(req));
      // Written as text: a payload serialized above is compact JSON, embedded as it is instead of parsed and
      // written again (a stored message answered for its id is written as the single publish writes it).
      const data = results.map((r) => (r.created ? messageJson(r.message) : JSON.stringify(serializeMessage(r.message))));
      return reply
        .code(202)
        .header("content-type", "application/json; charset=utf-8")
        .send(`{"data":[${data.join(",")}]}` as never);
    },
  );

  api.get(
    "/applications/:app/messages",
    {
      schema: {
        summary: "List messages",
        description: "Filters: `eventType` (exact), `status` (messages with a delivery in that state), `before`/`after` (message time).",
        tags,
        params: AppParams,
        querystring: ListQuery,
        response: { 200: Page(Message) },
      },
    },
    async (req) => {
    const app = await findApp(ctx, req, req.params.app);
    const { eventType, status, before, after } = req.query;
    const filter = { eventType, status, before: optionalDate(before, "query.before"), after: optionalDate(after, "query.after") };
    return pageOf(await ctx.store.listMessages(app.id, filter, pageRequest(req.query, "msg")), serializeMessage);
    },
  );

  api.get(
    "/applications/:app/messages/:msg",
    { schema: { summary: "Get a message", tags, params: MessageParams, querystring: NoQuery, response: { 200: Message } } },
    async (req) => {
      const { message } = await findMessage(ctx, req, req.params);
      return serializeMessage(message);
    },
  );

  api.get(
    "/applications/:app/messages/:msg/deliveries",
    {
      schema: {
        summary: "The message's delivery to each endpoint",
        tags,
        params: MessageParams,
        querystring: NoQuery,
        response: { 200: Type.Object({ data: Type.Array(Delivery) }) },
      },
    },
    async (req) => {
      const { message } = await findMessage(ctx, req, req.params);
      return { data: (await ctx.store.listDeliveries(message.id)).map(serializeDelivery) };
    },
  );

  api.get(
    "/applications/:app/messages/:msg/attempts",
    { schema: { summary: "Every attempt of the message", tags, params: MessageParams, querystring: Strict(PageQuery), response: { 200: Page(Attempt) } } },
    async (req) => {
      const { message } = await findMessage(ctx, req, req.params);
      return pageOf(await ctx.store.listMessageAttempts(message.id, pageRequest(req.query, "atmpt")), serializeAttempt);
    },
  );

  api.post(
    "/applications/:app/messages/:msg/endpoints/:ep/resend",
    {
      preValidation: optionalBody,
      schema: {
        summary: "Deliver the message to one endpoint once more, now",
        tags,
        params: MessageEndpointParams,
        body: EmptyBody,
        querystring: NoQuery,
        response: { 202: Resent },
      },
    },
    async (req, reply) => {
      const { app, message } = await findMessage(ctx, req, req.params);
      const endpoint = isId("ep", req.params.ep) ? await ctx.store.getEndpoint(app.id, req.params.ep) : null;
      if (!endpoint) throw notFound("endpoint", req.params.ep);
      requireActive(endpoint, "resend");
      const delivery = await ctx.store.resend(message, endpoint.id, Date.now());
      ctx.wake();
      return reply.code(202).send({ messageId: message.id, endpointId: endpoint.id, status: delivery.status });
    },
  );
}
