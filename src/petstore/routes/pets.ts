import type { Api } from "../../api/validation.js";
import type { PetstoreContext } from "../context.js";
import * as ops from "../pets.js";
import { Adopt, IdParams, ListQuery, PetCreate, PetPatch, ProductCreate, ProductPatch, UserCreate, UserPatch } from "./schemas.js";

/** `/pets`, `/users` and `/products`: thin handlers over the operations in ../pets.ts. */
export function catalogRoutes(api: Api, ctx: PetstoreContext): void {
  api.post("/pets", { schema: { body: PetCreate } }, async (req, reply) => reply.code(201).send(ops.createPet(ctx, req.body)));
  api.get("/pets", { schema: { querystring: ListQuery } }, async (req) => ctx.tables.pets.list(req.query.limit ?? 50, req.query.cursor));
  api.get("/pets/:id", { schema: { params: IdParams } }, async (req) => ops.getPet(ctx, req.params.id));
  api.patch("/pets/:id", { schema: { params: IdParams, body: PetPatch } }, async (req) => ops.updatePet(ctx, req.params.id, req.body));
  api.delete("/pets/:id", { schema: { params: IdParams } }, async (req, reply) => {
    ops.deletePet(ctx, req.params.id);
    return reply.code(204).send();
  });
  api.post("/pets/:id/adopt", { schema: { params: IdParams, body: Adopt } }, async (req) => ops.adoptPet(ctx, req.params.id, req.body.userId));

  api.post("/users", { schema: { body: UserCreate } }, async (req, reply) => reply.code(201).send(ops.createUser(ctx, req.body)));
  api.get("/users", { schema: { querystring: ListQuery } }, async (req) => ctx.tables.users.list(req.query.limit ?? 50, req.query.cursor));
  api.get("/users/:id", { schema: { params: IdParams } }, async (req) => ops.getUser(ctx, req.params.id));
  api.patch("/users/:id", { schema: { params: IdParams, body: UserPatch } }, async (req) => ops.updateUser(ctx, req.params.id, req.body));
  api.delete("/users/:id", { schema: { params: IdParams } }, async (req, reply) => {
    ops.deleteUser(ctx, req.params.id);
    return reply.code(204).send();
  });

  api.post("/products", { schema: { body: ProductCreate } }, async (req, reply) =>
    reply.code(201).send(ops.createProduct(ctx, { ...req.body, currency: req.body.currency ?? "USD" })),
  );
  api.get("/products", { schema: { querystring: ListQuery } }, async (req) => ctx.tables.products.list(req.query.limit ?? 50, req.query.cursor));
  api.get("/products/:id", { schema: { params: IdParams } }, async (req) => ops.getProduct(ctx, req.params.id));
  api.patch("/products/:id", { schema: { params: IdParams, body: ProductPatch } }, async (req) => ops.updateProduct(ctx, req.params.id, req.body));
  api.delete("/products/:id", { schema: { params: IdParams } }, async (req, reply) => {
    ops.deleteProduct(ctx, req.params.id);
    return reply.code(204).send();
  });
}
