// Time-ordered UUIDs (RFC 9562 version 7): 48 bits of milliseconds since the
// epoch, then random bits. New ids land at the right edge of the unique index
// instead of at a random page, which keeps bulk inserts of builds cheap; they
// also sort by creation time. Random bits come from a pooled buffer (one
// getrandom call per 409 ids, not one per id).
import { randomFillSync } from 'node:crypto';

const POOL = Buffer.alloc(16 * 409);
let used = POOL.length;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A fresh version-7 UUID for time `now` (ms since the epoch). */
export function uuidV7(now: number = Date.now()): string {
  if (used + 10 > POOL.length) {
    randomFillSync(POOL);
    used = 0;
  }
  const b = new Array<number>(16);
  let t = Math.max(0, Math.floor(now));
  for (let i = 5; i >= 0; i--) {
    b[i] = t % 256;
    t = Math.floor(t / 256);
  }
  for (let i = 6; i < 16; i++) b[i] = POOL[used++]!;
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.map((x) => HEX[x]!);
  return `${h[0]}${h[1]}${h[2]}${h[3]}-${h[4]}${h[5]}-${h[6]}${h[7]}-${h[8]}${h[9]}-${h[10]}${h[11]}${h[12]}${h[13]}${h[14]}${h[15]}`;
}
