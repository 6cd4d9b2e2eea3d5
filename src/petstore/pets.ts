import { HeraldError, notFound } from "../core/errors.js";
import type { PetstoreContext } from "./context.js";
import { customerEvent, petAdopted, petStatusChanged, productEvent } from "./events.js";
import { uuidv7 } from "./ids.js";
import type { PetStatus } from "./lifecycle.js";
import type { Pet, Product, User } from "./repo.js";

/** Pets, users (customers) and products: each change publishes its event in the same transaction. */


export function createPet(ctx: PetstoreContext, input: { name: string; species: string }): Pet {
  const now = new Date().toISOString();
  return ctx.tables.pets.insert({ id: uuidv7(), name: input.name, species: input.species, status: "AVAILABLE", ownerId: null, createdAt: now, updatedAt: now });
}

export function getPet(ctx: PetstoreContext, id: string): Pet {
  const pet = ctx.tables.pets.get(id);
  if (!pet) throw notFound("pet", id);
  return pet;
}

export function updatePet(ctx: PetstoreContext, id: string, patch: { name?: string; species?: string; status?: PetStatus; reason?: string }): Pet {
  return ctx.transaction((emit) => {
    const pet = getPet(ctx, id);
    const now = new Date();
    const { reason, ...fields } = patch;
    const updated = ctx.tables.pets.update(id, { ...fields, updatedAt: now.toISOString() })!;
    if (patch.status !== undefined && patch.status !== pet.status) {
      emit(petStatusChanged(id, pet.status, patch.status, reason ?? "Changed through the Pet Store API", now));
    }
    return updated;
  });
}

export function deletePet(ctx: PetstoreContext, id: string): void {
  if (!ctx.tables.pets.delete(id)) throw notFound("pet", id);
}

export function adoptPet(ctx: PetstoreContext, id: string, userId: string): Pet {
  return ctx.transaction((emit) => {
    const pet = getPet(ctx, id);
    const user = ctx.tables.users.get(userId);
    if (!user) throw new HeraldError("validation_failed", `/userId: no user ${JSON.stringify(userId)}`, [{ path: "/userId", message: "no such user" }]);
    if (pet.status !== "AVAILABLE" && pet.status !== "PENDING") {
      throw new HeraldError("invalid_transition", `pet ${id} is ${pet.status}: only an AVAILABLE or PENDING pet can be adopted`);
    }
    const now = new Date();
    const adopted = ctx.tables.pets.update(id, { status: "ADOPTED", ownerId: user.id, updatedAt: now.toISOString() })!;
    emit(petAdopted(adopted, user, now));
    emit(petStatusChanged(id, pet.status, "ADOPTED", `Adopted by ${user.name}`, now));
    return adopted;
  });
}

export function createUser(ctx: PetstoreContext, input: { name: string; email: string; phone?: string; city?: string; address?: string }): User {
  return ctx.transaction((emit) => {
    if (ctx.db.prepare("SELECT 1 FROM petstore_users WHERE email = ?").get(input.email)) {
      throw new HeraldError("conflict", `a user with email ${JSON.stringify(input.email)} already exists`);
    }
    const now = new Date();
    const user = ctx.tables.users.insert({
      id: uuidv7(now.getTime()),
      name: input.name,
      email: input.email,
      phone: input.phone ?? null,
      city: input.city ?? null,
      address: input.address ?? null,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    });
    emit(customerEvent("created", user, now));
    return user;
  });
}

export function getUser(ctx: PetstoreContext, id: string): User {
  const user = ctx.tables.users.get(id);
  if (!user) throw notFound("user", id);
  return user;
}

export function updateUser(ctx: PetstoreContext, id: string, patch: Partial<Pick<User, "name" | "email" | "phone" | "city" | "address">>): User {
  return ctx.transaction((emit) => {
    getUser(ctx, id);
    if (patch.email && ctx.db.prepare("SELECT 1 FROM petstore_users WHERE email = ? AND id <> ?").get(patch.email, id)) {
      throw new HeraldError("conflict", `a user with email ${JSON.stringify(patch.email)} already exists`);
    }
    const now = new Date();
    const user = ctx.tables.users.update(id, { ...patch, updatedAt: now.toISOString() })!;
    emit(customerEvent("updated", user, now));
    return user;
  });
}

export function deleteUser(ctx: PetstoreContext, id: string): void {
  ctx.transaction((emit) => {
    const user = getUser(ctx, id);
    ctx.tables.users.delete(id);
    emit(customerEvent("deleted", user, new Date()));
  });
}

export function createProduct(ctx: PetstoreContext, input: { name: string; sku: string; price: string; currency: string }): Product {
  return ctx.transaction((emit) => {
    if (ctx.db.prepare("SELECT 1 FROM petstore_products WHERE sku = ?").get(input.sku)) {
      throw new HeraldError("conflict", `a product with sku ${JSON.stringify(input.sku)} already exists`);
    }
    const now = new Date();
    const product = ctx.tables.products.insert({ id: uuidv7(now.getTime()), ...input, createdAt: now.toISOString(), updatedAt: now.toISOString() });
    emit(productEvent("created", product, now));
    return product;
  });
}

export function getProduct(ctx: PetstoreContext, id: string): Product {
  const product = ctx.tables.products.get(id);
  if (!product) throw notFound("product", id);
  return product;
}

export function updateProduct(ctx: PetstoreContext, id: string, patch: Partial<Pick<Product, "name" | "sku" | "price" | "currency">>): Product {
  return ctx.transaction((emit) => {
    getProduct(ctx, id);
    if (patch.sku && ctx.db.prepare("SELECT 1 FROM petstore_products WHERE sku = ? AND id <> ?").get(patch.sku, id)) {
      throw new HeraldError("conflict", `a product with sku ${JSON.stringify(patch.sku)} already exists`);
    }
    const now = new Date();
    const product = ctx.tables.products.update(id, { ...patch, updatedAt: now.toISOString() })!;
    emit(productEvent("updated", product, now));
    return product;
  });
}

export function deleteProduct(ctx: PetstoreContext, id: string): void {
  ctx.transaction((emit) => {
    const product = getProduct(ctx, id);
    ctx.tables.products.delete(id);
    emit(productEvent("deleted", product, new Date()));
  });
}
