import type { PetstoreContext } from "./context.js";
import type { Order } from "./repo.js";

/** One line of an order as the seeds' payloads list it. */
export interface OrderLine {
  productId: string;
  name: string;
  sku: string;
  quantity: number;
  /** The unit price, a decimal string ("29.99"). */
  unitPrice: string;
}

/**
 * An order's lines: its products, read now (a product deleted since shows its
 * id as name and SKU). An order of a pet alone, without products, lists the pet
 * as its one line at the order's total, so that the seeds' `items` is never empty.
 */
export function orderLines(ctx: PetstoreContext, order: Order): OrderLine[] {
  if (order.items.length === 0) {
    const pet = ctx.tables.pets.get(order.petId);
    return [{ productId: order.petId, name: pet?.name ?? order.petId, sku: order.petId, quantity: 1, unitPrice: order.totalAmount }];
  }
  return order.items.map((item) => {
    const product = ctx.tables.products.get(item.productId);
    return { productId: item.productId, name: product?.name ?? item.productId, sku: product?.sku ?? item.productId, quantity: item.quantity, unitPrice: product?.price ?? "0.00" };
  });
}
