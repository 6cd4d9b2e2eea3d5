import type { ApplicationId, DeliveryId, EndpointId, MessageId } from "../core/ids.js";
import type { DeliveryJob } from "./store.js";

/** The delivery columns a claim returns, in both backends' SQL. */
export interface ClaimedDeliveryRow {
  id: string;
  message_id: string;
  endpoint_id: string;
  app_id: string;
  attempts: number;
  schedule_index: number;
  cycle_started_at: number | null;
  lease_gen: number;
}

/** The delivery part of a job, from a claimed row (shared by SQLite and PostgreSQL). */
export const toClaimedDelivery = (r: ClaimedDeliveryRow): DeliveryJob["delivery"] => ({
  id: r.id as DeliveryId,
  messageId: r.message_id as MessageId,
  endpointId: r.endpoint_id as EndpointId,
  appId: r.app_id as ApplicationId,
  attempts: r.attempts,
  scheduleIndex: r.schedule_index,
  cycleStartedAt: r.cycle_started_at,
});

/** The columns a claim sets and returns, in both backends' SQL. */
export const CLAIMED_COLUMNS = "id, message_id, endpoint_id, app_id, attempts, schedule_index, cycle_started_at, lease_gen";
