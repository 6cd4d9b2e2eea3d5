/**
 * The place given to a delivery that has no `seq` when it joins a FIFO queue
 * (made before its endpoint became FIFO, or resent to an endpoint that never
 * had it): by its creation time, ahead of every numbered one (numbers start
 * at 1; epoch milliseconds minus 10^13 are negative for centuries). An SQL
 * expression over `deliveries`, the same on SQLite and PostgreSQL.
 */
export const UNNUMBERED_SEQ = "created_at - 10000000000000";
