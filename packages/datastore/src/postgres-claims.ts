// Claims on PostgreSQL as a prepared statement. Through Kysely every claim is
// an unnamed statement that the server parses and plans anew: with a few
// builds per call, planning the claim's three-part statement cost the server
// about a third of its CPU per claim (measured: ~650 against ~1,000 µs per
// statement of 7 builds, notes in BENCHMARKS.md). Named, it is prepared once
// on each pooled session, which then keeps its plan. Same text, same
// parameters, same single-statement transaction as the claim through Kysely.
import type pg from 'pg';
import {
  POSTGRES_CLAIM_SQL,
  postgresClaimParameters,
  type ClaimRunner,
  type ClaimedAttempt,
} from './attempts-claim-many.js';

/** The prepared statement's name; a new text needs a new name (a session keeps the first text under a name). */
const STATEMENT = 'gbc_claim_builds_1';

/** A claim runner over `pool` (see the file header); it owns nothing: the pool is closed with the datastore. */
export function createPostgresClaims(pool: pg.Pool): ClaimRunner {
  return {
    failed: false,
    async claim(items, now, lease) {
      if (items.length === 0) return [];
      const result = await pool.query<ClaimedAttempt>({
        name: STATEMENT,
        text: POSTGRES_CLAIM_SQL,
        values: postgresClaimParameters(items, now, lease),
      });
      return result.rows;
    },
    stop: () => Promise.resolve(),
  };
}
