// Control sessions on a real PostgreSQL: one holder of the scheduler lock at
// a time, the lock free as soon as its session ends (closed, or cut by the
// server), notifications delivered in order to every listener; SQLite's
// coordinator lock refuses a second holder until the first lets go.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openControlSession } from './control-session.js';
import type { ControlSession, ControlSessionEnd } from './control-session.js';
import { notifyChannel } from './notify.js';
import { lockSqliteForCoordinator } from './sqlite-process-lock.js';
import { useDatastore } from './testing/use-datastore.js';

describe('control sessions on postgres', () => {
  const ctx = useDatastore('postgres');
  const open: ControlSession[] = [];
  const session = async (name: string) => {
    const s = await openControlSession(ctx.database.uri, { applicationName: name });
    open.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });

  it('gives the scheduler lock to one session at a time, and frees it when that session closes', async () => {
    const [a, b] = [await session('gbc-test a'), await session('gbc-test b')];
    expect(await a.tryLockScheduler()).toBe(true);
    expect(await b.tryLockScheduler()).toBe(false);
    expect(await a.tryLockScheduler()).toBe(true);
    await a.close();
    expect(await b.tryLockScheduler()).toBe(true);
  });

  it('ends a session the server cut as lost, and the lock goes with it', async () => {
    const [a, b] = [await session('gbc-test cut-a'), await session('gbc-test cut-b')];
    expect(await a.tryLockScheduler()).toBe(true);
    const ended = new Promise<ControlSessionEnd>((resolve) => a.onEnd(resolve));
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'gbc-test cut-a'`.execute(
      ctx.store.db,
    );
    expect((await ended).reason).toBe('lost');
    expect(a.ended).toBe(true);
    expect(await b.tryLockScheduler()).toBe(true);
  });

  it('delivers notifications in order to every listening session, payloads whole', async () => {
    const [a, b] = [await session('gbc-test n-a'), await session('gbc-test n-b')];
    const got: [string[], string[]] = [[], []];
    [a, b].forEach((s, i) => s.onNotification((_c, p) => got[i]!.push(p)));
    await a.listen('gbc_test_channel');
    await b.listen('gbc_test_channel');
    const payloads = Array.from({ length: 50 }, (_, i) => `message ${i} ${'x'.repeat(i * 100)}`);
    await notifyChannel(ctx.store.db, 'gbc_test_channel', payloads.slice(0, 25));
    await notifyChannel(ctx.store.db, 'gbc_test_channel', payloads.slice(25));
    for (let i = 0; i < 200 && got.some((g) => g.length < payloads.length); i++)
      await new Promise((r) => setTimeout(r, 25));
    expect(got).toEqual([payloads, payloads]);
  });

  it('refuses a SQLite URI', async () => {
    await expect(openControlSession('sqlite::memory:', { applicationName: 'x' })).rejects.toMatchObject({
      code: 'uri-scheme',
    });
  });
});

describe('the SQLite coordinator lock', () => {
  it('refuses a second holder with an error naming the file, until the first lets go', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbc-lock-'));
    try {
      const db = join(dir, 'sub', 'gbc.db');
      const first = lockSqliteForCoordinator(db);
      expect(() => lockSqliteForCoordinator(db)).toThrow(
        expect.objectContaining({
          code: 'in-use',
          message: expect.stringContaining(`${db}-coordinator.lock`),
        }),
      );
      first.release();
      lockSqliteForCoordinator(db).release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
