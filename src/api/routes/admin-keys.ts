import { Type } from "@sinclair/typebox";
import { notFound } from "../../core/errors.js";
import { type AdminKeyId, isId, newId } from "../../core/ids.js";
import type { AdminKey as AdminKeyRow } from "../../store/model.js";
import { generateAdminKey, sha256Hex } from "../auth.js";
import type { ApiContext } from "../context.js";
import { PageQuery, pageOf, pageRequest } from "../pagination.js";
import { AdminKey, NewAdminKey, NoContent, Page } from "../responses.js";
import { NoQuery, Strict } from "../../core/schemas.js";
import type { Api } from "../validation.js";

/**
 * Admin keys beyond the bootstrap one (`HERALD_API_KEY` or the generated key):
 * each sees everything, is shown once when created, stored as its SHA-256 only,
 * and stops working the moment it is revoked. The bootstrap key is not listed
 * and cannot be revoked here.
 */

const CreateBody = Strict({ name: Type.String({ minLength: 1, maxLength: 256 }) });
const IdParams = Strict({ id: Type.String({ minLength: 1, maxLength: 64 }) });

const tags = ["Admin keys"];
const config = { adminOnly: true };
const iso = (ms: number) => new Date(ms).toISOString();
const serialize = (key: AdminKeyRow) => ({ id: key.id, name: key.name, createdAt: iso(key.createdAt) });

export function adminKeyRoutes(api: Api, ctx: ApiContext): void {
  api.post(
    "/admin-keys",
    {
      config,
      schema: { summary: "Create an admin key (shown once)", tags, body: CreateBody, querystring: NoQuery, response: { 201: NewAdminKey } },
    },
    async (req, reply) => {
      const key = generateAdminKey();
      const now = Date.now();
      const row = await ctx.store.createAdminKey({ id: newId("key", now), name: req.body.name, keyHash: sha256Hex(key), createdAt: now });
      return reply.code(201).send({ ...serialize(row), key });
    },
  );

  api.get(
    "/admin-keys",
    { config, schema: { summary: "List admin keys (without key material)", tags, querystring: Strict(PageQuery), response: { 200: Page(AdminKey) } } },
    async (req) => pageOf(await ctx.store.listAdminKeys(pageRequest(req.query, "key")), serialize),
  );

  api.delete(
    "/admin-keys/:id",
    { config, schema: { summary: "Revoke an admin key, effective at once", tags, params: IdParams, querystring: NoQuery, response: { 204: NoContent } } },
    async (req, reply) => {
      const id = req.params.id;
      if (!isId("key", id) || !(await ctx.store.deleteAdminKey(id as AdminKeyId))) throw notFound("admin key", id);
      return reply.code(204).send();
    },
  );
}
