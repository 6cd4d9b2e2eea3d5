import { Type } from "@sinclair/typebox";
import { AnyObject, EndpointParams, EventTypeName, NoQuery, Strict } from "../../core/schemas.js";
import { tryTransformation } from "../../transform/try.js";
import type { ApiContext } from "../context.js";
import { findEndpoint } from "../lookup.js";
import { TransformationTrial } from "../responses.js";
import type { Api } from "../validation.js";

const TestBody = Strict({
  eventType: EventTypeName,
  payload: AnyObject,
  code: Type.Optional(Type.String({ minLength: 1, description: "the code to try; default: the endpoint's stored transformation" })),
});

/** `POST …/transformation/test`: runs a handler on a sample, sends nothing (src/transform/try.ts). */
export function transformationRoutes(api: Api, ctx: ApiContext & { transforms: NonNullable<ApiContext["transforms"]> }): void {
  api.post(
    "/applications/:app/endpoints/:ep/transformation/test",
    {
      schema: {
        summary: "Try a transformation on a sample payload",
        description:
          "Runs `code` (or the endpoint's stored transformation, enabled or not) on `{eventType, payload}` in the same sandbox, " +
          "with the same limits and checks, as a delivery would; nothing is sent or stored. " +
          "200 with the request the handler made (or `cancel: true`); a handler that throws, times out or returns something " +
          "unusable is a 422 `transformation_failed` whose `detail` is the message an attempt would record.",
        tags: ["Endpoints"],
        params: EndpointParams,
        body: TestBody,
        querystring: NoQuery,
        response: { 200: TransformationTrial },
      },
    },
    async (req) => {
      const { endpoint } = await findEndpoint(ctx, req, req.params);
      return tryTransformation(ctx.transforms, endpoint, req.body, ctx.config.maxPayloadBytes);
    },
  );
}
