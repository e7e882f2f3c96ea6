// Sends PostgreSQL notifications (NOTIFY) through the pool: every session that
// LISTENs on the channel receives them once this statement commits, in order.
import { sql } from 'kysely';
import { isPg } from './attempts-claim.js';
import type { Db } from './transaction.js';

/** The largest payload PostgreSQL accepts (8000 bytes less a margin for the channel name). */
export const MAX_NOTIFY_PAYLOAD_BYTES = 7_900;

/** Sends `payloads` on `channel` in one statement (one round trip), in order. PostgreSQL only. */
export async function notifyChannel(db: Db, channel: string, payloads: readonly string[]): Promise<void> {
  if (payloads.length === 0) return;
  if (!isPg(db)) throw new Error('notifyChannel: notifications need PostgreSQL');
  const calls = payloads.map((p) => sql`pg_notify(${channel}, ${p})`);
  await sql`select ${sql.join(calls)}`.execute(db);
}
