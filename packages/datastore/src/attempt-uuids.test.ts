// Migration 0004: attempts and client tokens made before it keep the UUID the
// protocol showed for them (their row number in a fixed prefix); new ones get
// version-7 UUIDs of their own, and the token functions work by UUID.
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createAgent } from './agents.js';
import { claimBuildsById } from './attempts-claim.js';
import { claimBuildsForAgents } from './attempts-claim-many.js';
import { showBuild } from './builds-show.js';
import { createBuilds } from './builds-create.js';
import {
  createClientToken,
  listClientTokens,
  revokeClientToken,
  verifyClientToken,
} from './client-tokens.js';
import { openDatastore } from './datastore.js';
import { migrateToLatest } from './migrate.js';
import { fakeDerivation } from './testing/fixtures.js';
import { DIALECTS, createTestDatabase } from './testing/test-database.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe.each(DIALECTS)('attempt and token UUIDs on %s', (dialect) => {
  it('keeps the old ids of rows from before migration 0004 and gives new rows their own', async () => {
    const database = await createTestDatabase(dialect);
    try {
      const raw = await openDatastore(database.uri, { migrate: false });
      await migrateToLatest(raw.db, dialect, '0003-input-ids');
      const drv = fakeDerivation('uuids');
      // Written as the code of the time wrote it (today's recordDerivations writes the schema of later migrations).
      await sql`insert into derivations (path, name, system, fixed_output, text) values (${drv.path}, ${drv.name}, ${drv.system}, 0, ${Buffer.from(drv.text)})`.execute(
        raw.db,
      );
      const builds = await createBuilds(raw.db, [
        { derivationPath: drv.path },
        { derivationPath: drv.path },
        { derivationPath: drv.path },
      ]);
      const agent = await createAgent(raw.db, { name: 'uuids', systems: ['x86_64-linux'] });
      const buildRow = Number(
        (await sql<{ id: number }>`select id from builds where uuid = ${builds[0]!.id}`.execute(raw.db))
          .rows[0]!.id,
      );
      await sql`insert into attempts (build_id, agent_id, allocated_at, lease_expires_at) values (${buildRow}, ${agent.id}, 1, 2)`.execute(
        raw.db,
      );
      await sql`insert into client_tokens (name, token_hash, scope, created_at) values ('old', 'x', 'read-only', 1)`.execute(
        raw.db,
      );
      const attemptRow = Number(
        (await sql<{ id: number }>`select id from attempts`.execute(raw.db)).rows[0]!.id,
      );
      const tokenRow = Number(
        (await sql<{ id: number }>`select id from client_tokens`.execute(raw.db)).rows[0]!.id,
      );

      expect((await raw.migrate()).slice(0, 2)).toEqual(['0004-attempt-uuids', '0005-input-edges']);
      const legacy = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
      expect((await showBuild(raw.db, builds[0]!.id))?.attempts.map((a) => a.uuid)).toEqual([
        legacy(attemptRow),
      ]);
      expect((await listClientTokens(raw.db)).map((t) => t.id)).toEqual([legacy(tokenRow)]);
      expect(await revokeClientToken(raw.db, legacy(tokenRow).toUpperCase())).toBe(true);

      const [one] = await claimBuildsById(raw.db, [builds[1]!.id], { agentId: agent.id, leaseMs: 1000 });
      const many = (
        await claimBuildsForAgents(raw.db, [{ agentId: agent.id, buildIds: [builds[2]!.id] }], {
          leaseMs: 1000,
        })
      )[0]![0];
      for (const claim of [one!, many!]) {
        expect(claim.attemptUuid).toMatch(V7);
        expect((await showBuild(raw.db, claim.buildId))?.attempts.map((a) => a.uuid)).toEqual([
          claim.attemptUuid,
        ]);
      }
      const { record, token } = await createClientToken(raw.db, 'new', 'read-write');
      expect(record.id).toMatch(V7);
      expect((await verifyClientToken(raw.db, token))?.id).toBe(record.id);
      expect(await revokeClientToken(raw.db, record.id)).toBe(true);
      expect(await revokeClientToken(raw.db, record.id)).toBe(false);
      expect(await revokeClientToken(raw.db, 'not-a-uuid')).toBe(false);
      await raw.close();
    } finally {
      await database.drop();
    }
  });
});
