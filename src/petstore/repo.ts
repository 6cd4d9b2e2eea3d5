import type Database from "better-sqlite3";
import type { OrderStatus, PetStatus } from "./lifecycle.js";

/** The Pet Store's rows as the API shows them (camelCase, ISO times, money as strings). */

export interface Pet {
  id: string;
  name: string;
  species: string;
  status: PetStatus;
  ownerId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface User {
  id: string;
  name: string;
  email: string;
  phone: string | null;
  city: string | null;
  address: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Product {
  id: string;
  name: string;
  sku: string;
  price: string;
  currency: string;
  createdAt: string;
  updatedAt: string;
}

export interface OrderItem {
  productId: string;
  quantity: number;
}

export interface Order {
  id: string;
  reference: string;
  petId: string;
  userId: string;
  status: OrderStatus;
  fulfilmentStatus: string;
  totalAmount: string;
  currency: string;
  items: OrderItem[];
  trackingNumber: string | null;
  deliveryNotes: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Payment {
  id: string;
  orderId: string;
  amount: string;
  currency: string;
  status: "SUCCEEDED" | "FAILED";
  cardLast4: string;
  cardBrand: string;
  errorCode: string | null;
  createdAt: string;
}

type Row = Record<string, unknown>;
const camel = (k: string) => k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function fromRow<T>(row: Row | undefined, json: readonly string[] = []): T | null {
  if (!row) return null;
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) out[camel(k)] = json.includes(k) ? JSON.parse(v as string) : v;
  return out as T;
}

/**
 * A tiny table gateway: the five tables have the same needs (get, list,
 * insert, update, delete by id), so one parameterized class serves them all.
 */
export class Table<T extends { id: string }> {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    private readonly name: string,
    private readonly jsonColumns: readonly string[] = [],
  ) {}

  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  get(id: string): T | null {
    return fromRow<T>(this.stmt(`SELECT * FROM ${this.name} WHERE id = ?`).get(id) as Row | undefined, this.jsonColumns);
  }

  /** Newest first (ids are UUIDv7), keyset-paginated like Herald's own lists. */
  list(limit: number, cursor?: string): { data: T[]; nextCursor: string | null } {
    const rows = this
      .stmt(`SELECT * FROM ${this.name} WHERE id < ? ORDER BY id DESC LIMIT ?`)
      .all(cursor ?? "\uffff", limit + 1) as Row[];
    const data = rows.slice(0, limit).map((r) => fromRow<T>(r, this.jsonColumns)!);
    return { data, nextCursor: rows.length > limit ? data[data.length - 1]!.id : null };
  }

  insert(value: T): T {
    const cols = Object.keys(value).map(snake);
    const vals = Object.entries(value).map(([k, v]) => (this.jsonColumns.includes(snake(k)) ? JSON.stringify(v) : v));
    this.stmt(`INSERT INTO ${this.name} (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`).run(...vals);
    return value;
  }

  update(id: string, patch: Partial<T>): T | null {
    const entries = Object.entries(patch).filter(([, v]) => v !== undefined);
    if (entries.length > 0) {
      const set = entries.map(([k]) => `${snake(k)} = ?`).join(", ");
      const vals = entries.map(([k, v]) => (this.jsonColumns.includes(snake(k)) ? JSON.stringify(v) : v));
      this.stmt(`UPDATE ${this.name} SET ${set} WHERE id = ?`).run(...vals, id);
    }
    return this.get(id);
  }

  delete(id: string): boolean {
    return this.stmt(`DELETE FROM ${this.name} WHERE id = ?`).run(id).changes > 0;
  }
}

export interface Tables {
  pets: Table<Pet>;
  users: Table<User>;
  products: Table<Product>;
  orders: Table<Order>;
  payments: Table<Payment>;
}

export function tables(db: Database.Database): Tables {
  return {
    pets: new Table<Pet>(db, "petstore_pets"),
    users: new Table<User>(db, "petstore_users"),
    products: new Table<Product>(db, "petstore_products"),
    orders: new Table<Order>(db, "petstore_orders", ["items"]),
    payments: new Table<Payment>(db, "petstore_payments"),
  };
}
