import { Type } from "@sinclair/typebox";
import { isId } from "../../core/ids.js";
import type { OperationalEvent as EventRow } from "../../store/model.js";
import type { ApiContext } from "../context.js";
import { findApp } from "../lookup.js";
import { PageQuery, pageOf, pageRequest } from "../pagination.js";
import { OperationalEvent, Page } from "../responses.js";
import { StringEnum, Strict } from "../../core/schemas.js";
import type { Api } from "../validation.js";

export const OPERATIONAL_EVENT_TYPES = [
  "endpoint.created",
  "endpoint.updated",
  "endpoint.deleted",
  "endpoint.disabled",
  "endpoint.enabled",
  "message.attempt.failing",
  "message.attempt.exhausted",
  "message.attempt.recovered",
] as const;

const ListQuery = Strict({
  ...PageQuery,
  app: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: "an application id or uid" })),
  endpointId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  type: Type.Optional(StringEnum(OPERATIONAL_EVENT_TYPES)),
});

const serialize = (e: EventRow) => ({
  id: e.id,
  type: e.type,
  appId: e.appId,
  endpointId: e.endpointId,
  messageId: e.messageId,
  data: e.data,
  timestamp: new Date(e.createdAt).toISOString(),
});

export function operationalEventRoutes(api: Api, ctx: ApiContext): void {
  api.get(
    "/operational-events",
    {
      schema: {
        summary: "Herald's operational events, newest first",
        description:
          "What was (or, without an operational webhook, would have been) sent to `HERALD_OPERATIONAL_WEBHOOK_URL`. " +
          "An application-scoped token sees only its application's events.",
        tags: ["Operational events"],
        querystring: ListQuery,
        response: { 200: Page(OperationalEvent) },
      },
    },
    async (req) => {
      const { principal } = req;
      const appId = req.query.app !== undefined ? (await findApp(ctx, req, req.query.app)).id : principal.kind === "app" ? principal.appId : undefined;
      const endpointId = req.query.endpointId;
      if (endpointId !== undefined && !isId("ep", endpointId)) return { data: [], nextCursor: null };
      const page = await ctx.store.listOperationalEvents({ appId, endpointId, type: req.query.type }, pageRequest(req.query, "opev"));
      return pageOf(page, serialize);
    },
  );
}
