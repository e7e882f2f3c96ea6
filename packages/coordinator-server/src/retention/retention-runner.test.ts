// The coordinator's background retention task on SQLite with a real data
// directory: when given an interval it removes an expired
// output by itself (waiting for the condition, never for a fixed time);
// on-demand runs are serialized.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { recordOutputMetadata } from '@gbc/datastore';
import type { Coordinator } from '../coordinator/create-coordinator.js';
import { createTestPlace, hashPart } from '../agent-api/test-support.js';
import type { TestPlace } from '../agent-api/test-support.js';
import { startControlled } from '../limits/test-support.js';
import type { TestConfig } from '../limits/test-support.js';
import { retentionRunner } from './retention-runner.js';

const DAY = 86_400_000;

describe('background retention', () => {
  const open: { c: Coordinator; place: TestPlace }[] = [];
  afterEach(async () => {
    for (const { c, place } of open.splice(0)) {
      await c.stop();
      place.remove();
    }
  });

  /** A coordinator holding one output stored 10 days ago. */
  const withOldOutput = async (config: TestConfig): Promise<{ c: Coordinator; key: string }> => {
    const place = createTestPlace('sqlite');
    const { c, clock } = await startControlled(place, config);
    open.push({ c, place });
    const storePath = `/gnu/store/${hashPart()}-old`;
    const key = `none/${storePath.slice(11)}`;
    await c.context.storage.store.put('nar', key, new Uint8Array(64));
    await recordOutputMetadata(
      c.context.datastore.db,
      [
        {
          storePath,
          narHash: 'sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s',
          narSize: 64,
          references: [],
          files: [{ compression: 'none', fileSize: 64, fileHash: null, location: key }],
        },
      ],
      clock.now() - 10 * DAY,
    );
    return { c, key };
  };

  it('removes expired outputs on its own when an interval is set', async () => {
    const { c, key } = await withOldOutput({ retention: { outputDays: 7 }, retentionIntervalSeconds: 0.02 });
    await vi.waitFor(async () => expect(await c.context.storage.store.stat('nar', key)).toBeNull(), {
      timeout: 10_000,
      interval: 20,
    });
    expect(await c.context.datastore.db.selectFrom('output_metadata').select('store_path').execute()).toEqual(
      [],
    );
  });

  it('runs on demand, one run at a time', async () => {
    const { c, key } = await withOldOutput({ retention: { outputDays: 7 } });
    expect(await c.context.storage.store.stat('nar', key)).not.toBeNull();
    // Two on-demand runs at once are serialized: the second finds nothing left.
    const [first, second] = await Promise.all([
      retentionRunner(c.context).run(),
      retentionRunner(c.context).run(),
    ]);
    expect(first.removedOutputs).toHaveLength(1);
    expect(second.removedOutputs).toEqual([]);
    expect(await c.context.storage.store.stat('nar', key)).toBeNull();
  });
});
