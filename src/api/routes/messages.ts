import { Type } from "@sinclair/typebox";
import type { EventCatalog } from "../../catalog/catalog.js";
import { HeraldError, invalid, notFound } from "../../core/errors.js";
import { isId } from "../../core/ids.js";
import type { ApiContext } from "../context.js";
import { headerCount } from "../headers.js";
import { findApp, findMessage } from "../lookup.js";
import { requireActive } from "../../service/endpoints.js";
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
import { serializeAttempt, serializeDelivery, serializeMessage } from "../serializers.js";
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

const ListQuery = Strict({
  ...PageQuery,
  eventType: Type.Optional(EventTypeName),
  status: Type.Optional(StringEnum(["pending", "succeeded", "failed", "skipped"] as const)),
  before: Type.Optional(DateTime),
  after: Type.Optional(DateTime),
});

const Resent = Type.Object({ messageId: Type.String(), endpointId: Type.String(), status: Type.String() });
const tags = ["Messages"];

const optionalDate = (value: string | undefined, path: string): number | undefined => (value === undefined ? undefined : epochMs(value, path));

export function messageRoutes(api: Api, ctx: ApiContext & { catalog: EventCatalog }): void {
  const { maxPayloadBytes } = ctx.config;

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
    // Serialized once, here: these exact bytes are stored and sent to every endpoint on every attempt.
    const payload = JSON.stringify(req.body.payload);
    const size = Buffer.byteLength(payload, "utf8");
    if (size > maxPayloadBytes) {
      throw new HeraldError("payload_too_large", `the payload is ${size} bytes of JSON; the limit is ${maxPayloadBytes} (HERALD_MAX_PAYLOAD_BYTES)`);
    }
    const app = await findApp(ctx, req, req.params.app);
    await ctx.catalog.validatePayload(req.body.eventType, req.body.payload);
    const channels = req.body.channels?.length ? [...new Set(req.body.channels)] : null;
    const { message, created } = await ctx.publisher.publish({
      appId: app.id,
      eventType: req.body.eventType,
      payload,
      channels,
      eventId: header ?? req.body.id ?? null,
      // The producer's trace, continued by the publish span (docs/observability.md).
      ...(typeof req.headers.traceparent === "string" ? { traceparent: req.headers.traceparent } : {}),
    });
    // A repeated idempotency key answers with the first message, as Stripe does.
    if (!created) reply.header("idempotent-replayed", "true");
    return reply.code(202).send(serializeMessage(message));
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
