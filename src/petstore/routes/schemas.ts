import { Type } from "@sinclair/typebox";
import { StringEnum, Strict } from "../../core/schemas.js";
import { FULFILMENT_STATUSES, PET_STATUSES } from "../lifecycle.js";
import { DECIMAL_PATTERN } from "../money.js";

/** Request schemas of the Pet Store API: bounded strings, no unknown fields. */

export const IdParams = Strict({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export const ListQuery = Strict({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 250 })),
  cursor: Type.Optional(Type.String({ maxLength: 64 })),
});

const Name = Type.String({ minLength: 1, maxLength: 200 });
const Email = Type.String({ maxLength: 254, format: "email", description: "an email address" });
const Money = Type.String({ pattern: DECIMAL_PATTERN, description: 'a decimal string with at most two decimals, e.g. "125.50" (never a number)' });
const Currency = Type.String({ pattern: "^[A-Z]{3}$", description: "an ISO 4217 currency code, e.g. USD" });
const Ref = Type.String({ minLength: 1, maxLength: 64 });
const Short = Type.String({ minLength: 1, maxLength: 500 });

export const PetCreate = Strict({ name: Name, species: Type.String({ minLength: 1, maxLength: 50 }) });
export const PetPatch = Strict({
  name: Type.Optional(Name),
  species: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
  status: Type.Optional(StringEnum(PET_STATUSES)),
  reason: Type.Optional(Short),
});
export const Adopt = Strict({ userId: Ref });

export const UserCreate = Strict({
  name: Name,
  email: Email,
  phone: Type.Optional(Type.String({ pattern: "^\\+?[0-9 ()-]{5,20}$", description: "a phone number, e.g. +212661234567" })),
  city: Type.Optional(Short),
  address: Type.Optional(Short),
});
export const UserPatch = Strict({
  name: Type.Optional(Name),
  email: Type.Optional(Email),
  phone: Type.Optional(UserCreate.properties.phone),
  city: Type.Optional(Short),
  address: Type.Optional(Short),
});

export const ProductCreate = Strict({
  name: Name,
  sku: Type.String({ pattern: "^[A-Za-z0-9_.-]{1,64}$", description: "a SKU: 1–64 letters, digits, '_', '.', '-'" }),
  price: Money,
  currency: Type.Optional(Currency),
});
export const ProductPatch = Strict({
  name: Type.Optional(Name),
  sku: Type.Optional(ProductCreate.properties.sku),
  price: Type.Optional(Money),
  currency: Type.Optional(Currency),
});

export const OrderCreate = Strict({
  petId: Ref,
  userId: Ref,
  totalAmount: Money,
  currency: Currency,
  items: Type.Optional(Type.Array(Strict({ productId: Ref, quantity: Type.Integer({ minimum: 1, maximum: 1000 }) }), { maxItems: 50 })),
  deliveryNotes: Type.Optional(Short),
});

export const Payment = Strict({
  card: Strict({
    number: Type.String({ pattern: "^[0-9]{12,19}$", description: "a card number: 12–19 digits" }),
    expMonth: Type.Integer({ minimum: 1, maximum: 12 }),
    expYear: Type.Integer({ minimum: 2000, maximum: 2200 }),
  }),
});

export const Fulfilment = Strict({
  status: StringEnum(FULFILMENT_STATUSES as unknown as readonly [string, ...string[]]),
  trackingNumber: Type.Optional(Type.String({ pattern: "^[A-Za-z0-9-]{1,64}$", description: "a tracking number" })),
});

/** For actions without a body: none, or `{}` (pair with the `optionalBody` preValidation hook). */
export { EmptyBody as NoBody, optionalBody } from "../../core/schemas.js";
