// WAL checkpoints happen on the worker thread: data committed to the WAL of a
// SQLite datastore reaches the database file without any commit of the main
// connection checkpointing (the write stays far below its backstop).
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatastore } from './datastore.js';
import { recordDerivations } from './derivations.js';
import { fakeChain } from './testing/fixtures.js';
import { startWalCheckpointer } from './wal-checkpointer.js';

const dir = mkdtempSync(join(tmpdir(), 'gbc-wal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function until(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50)))
    if (check()) return true;
  return check();
}

describe('background WAL checkpoints', () => {
  it('copy committed pages into the database file from a worker, and close cleanly', async () => {
    const file = join(dir, 'wal.db');
    const store = await openDatastore(`sqlite://${file}`);
    const backstop = (await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(store.db))
      .rows[0]!.wal_autocheckpoint;
    expect(backstop).toBeGreaterThan(10_000);
    const before = statSync(file).size;
    await store.transaction((trx) => recordDerivations(trx, fakeChain(5000, 'wal')));
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(2 * 2 ** 20);
    expect(await until(() => statSync(file).size > before + 2 * 2 ** 20, 5000)).toBe(true);
    await store.close();
    // The checkpointer's connection was closed before the main one, so the main one was
    // the last: it checkpointed the rest and removed the WAL. (Were the worker still
    // running, it could make the WAL or shared-memory file again while a test removes the
    // directory: rmdir then fails with ENOTEMPTY.)
    expect(existsSync(`${file}-wal`)).toBe(false);
    expect(existsSync(`${file}-shm`)).toBe(false);
    const again = await openDatastore(`sqlite://${file}`);
    expect(
      Number((await sql<{ n: number }>`select count(*) as n from derivations`.execute(again.db)).rows[0]!.n),
    ).toBe(5000);
    await again.close();
  });

  it('is not started for an in-memory database or when turned off', async () => {
    const file = join(dir, 'off.db');
    const store = await openDatastore(`sqlite://${file}`, { backgroundCheckpoints: false });
    const pages = (await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(store.db))
      .rows[0]!.wal_autocheckpoint;
    expect(pages).toBe(1000);
    await store.close();
  });

  it('says once, as a process warning, when the worker cannot checkpoint', async () => {
    const warnings: Error[] = [];
    const listen = (w: Error) => warnings.push(w);
    process.on('warning', listen);
    try {
      const checkpointer = startWalCheckpointer(join(dir, 'absent', 'gone.db'), 5);
      expect(
        await until(
          () => warnings.some((w) => (w as { code?: string }).code === 'GBC_WAL_CHECKPOINTER'),
          5000,
        ),
      ).toBe(true);
      await checkpointer.stop();
      expect(warnings.filter((w) => (w as { code?: string }).code === 'GBC_WAL_CHECKPOINTER')).toHaveLength(
        1,
      );
      expect(
        warnings.find((w) => (w as { code?: string }).code === 'GBC_WAL_CHECKPOINTER')?.message,
      ).toContain('gone.db');
    } finally {
      process.off('warning', listen);
    }
  });

  it('says nothing once stopped, even if its worker then fails to open a database already removed', async () => {
    const warnings: Error[] = [];
    const listen = (w: Error) => warnings.push(w);
    process.on('warning', listen);
    try {
      const errors: string[] = [];
      // Stopped before the worker opens the file (as a test that closes its datastore
      // and removes its directory at once): the worker's failure is reported nowhere.
      const checkpointer = startWalCheckpointer(join(dir, 'removed', 'x.db'), 5, (m) => void errors.push(m));
      const stopped = checkpointer.stop();
      const control = startWalCheckpointer(
        join(dir, 'removed', 'y.db'),
        5,
        (m) => void errors.push(`control: ${m}`),
      );
      expect(await until(() => errors.some((e) => e.startsWith('control: ')), 5000)).toBe(true);
      await Promise.all([stopped, control.stop()]);
      expect(errors.filter((e) => !e.startsWith('control: '))).toEqual([]);
      expect(warnings.filter((w) => (w as { code?: string }).code === 'GBC_WAL_CHECKPOINTER')).toEqual([]);
    } finally {
      process.off('warning', listen);
    }
  });
});
