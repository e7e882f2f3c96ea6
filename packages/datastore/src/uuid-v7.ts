// Time-ordered UUIDs (RFC 9562 version 7): 48 bits of milliseconds since the
// epoch, then random bits. New ids land at the right edge of the unique index
// instead of at a random page, which keeps bulk inserts of builds cheap; they
// also sort by creation time. Random bits come from a pooled buffer (one
// getrandom call per 410 ids, not one per id).
import { randomFillSync } from 'node:crypto';

const POOL = Buffer.alloc(10 * 410);
/** POOL in hex, 20 characters per id; refilled with it. */
let hex = '';
let used = POOL.length;
/** The hex digit of a variant nibble (10xx) for each random nibble. */
const VARIANT = '89ab';

/** A fresh version-7 UUID for time `now` (ms since the epoch). */
export function uuidV7(now: number = Date.now()): string {
  if (used + 10 > POOL.length) {
    randomFillSync(POOL);
    hex = POOL.toString('hex');
    used = 0;
  }
  // 48 bits of milliseconds: exact in a double, 12 hex digits.
  const time = Math.min(Math.max(0, Math.floor(now)), 0xffffffffffff)
    .toString(16)
    .padStart(12, '0');
  const r = hex.slice(used * 2, used * 2 + 20);
  used += 10;
  // Version 7 in the 13th digit, variant 10 in the top bits of the 17th.
  return `${time.slice(0, 8)}-${time.slice(8)}-7${r.slice(1, 4)}-${VARIANT[parseInt(r[4]!, 16) & 3]}${r.slice(5, 8)}-${r.slice(8, 20)}`;
}
