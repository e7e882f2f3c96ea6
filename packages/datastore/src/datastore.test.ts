// Opening datastores from URIs: every accepted form, and clear errors for bad ones.
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openDatastore } from './datastore.js';
import { DatastoreUriError } from './errors.js';
import { parseDatastoreUri, redactUri } from './uri.js';
import { createTestDatabase, postgresBaseUri } from './testing/test-database.js';

const dir = mkdtempSync(join(tmpdir(), 'gbc-open-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseDatastoreUri', () => {
  it('resolves relative and absolute SQLite paths and memory', () => {
    expect(parseDatastoreUri('sqlite://data/gbc.db', '/srv')).toEqual({
      dialect: 'sqlite',
      filename: '/srv/data/gbc.db',
    });
    expect(parseDatastoreUri('sqlite:///var/lib/gbc/gbc.db')).toEqual({
      dialect: 'sqlite',
      filename: '/var/lib/gbc/gbc.db',
    });
    expect(parseDatastoreUri('sqlite::memory:')).toEqual({ dialect: 'sqlite', filename: ':memory:' });
    expect(parseDatastoreUri('postgresql://u@h/db').dialect).toBe('postgres');
  });

  it.each([
    ['mysql://u@h/db', 'uri-scheme', /unsupported scheme "mysql"/],
    ['gbc.db', 'uri-scheme', /has no scheme/],
    ['sqlite://', 'uri-invalid', /names no file/],
    ['postgres://u:secret@host', 'uri-invalid', /names no database/],
    ['postgres://u:secret@/db', 'uri-invalid', /names no host|is not a valid URL/],
  ])('refuses %s with %s', (uri, code, message) => {
    const error = (() => {
      try {
        parseDatastoreUri(uri);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(DatastoreUriError);
    expect((error as DatastoreUriError).code).toBe(code);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('secret');
  });

  it('redacts passwords', () => {
    expect(redactUri('postgres://gbc:hunter2@db:5432/gbc')).toBe('postgres://gbc:***@db:5432/gbc');
    expect(redactUri('postgres://gbc@db/gbc')).toBe('postgres://gbc@db/gbc');
    expect(redactUri('postgres://gbc@db/gbc?sslmode=require&password=hunter2&x=1')).toBe(
      'postgres://gbc@db/gbc?sslmode=require&password=***&x=1',
    );
    expect(redactUri('postgres://db/gbc?PASSWORD=hunter2')).toBe('postgres://db/gbc?PASSWORD=***');
  });

  it('never prints a password given in the query string when the server cannot be reached', async () => {
    // Port 1 on loopback: nothing listens there.
    const error = await openDatastore('postgres://gbc@127.0.0.1:1/gbc?password=hunter2', {
      connectTimeoutMs: 2000,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatastoreUriError);
    expect((error as Error).message).toContain('cannot reach database');
    expect((error as Error).message).not.toContain('hunter2');
  });
});

describe('openDatastore', () => {
  it('creates a new SQLite file 0600 in a new directory 0700, whatever the umask (it holds password hashes)', async () => {
    const old = process.umask(0);
    try {
      const store = await openDatastore('sqlite://private/sub/gbc.db', { cwd: dir });
      await sql`select 1`.execute(store.db);
      expect(statSync(join(dir, 'private/sub/gbc.db')).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, 'private/sub')).mode & 0o777).toBe(0o700);
      expect(statSync(join(dir, 'private')).mode & 0o777).toBe(0o700);
      expect(statSync(join(dir, 'private/sub/gbc.db-wal')).mode & 0o777).toBe(0o600);
      await store.close();
    } finally {
      process.umask(old);
    }
  });

  it('opens a relative SQLite path in WAL mode with foreign keys on', async () => {
    const store = await openDatastore('sqlite://sub/dir/rel.db', { cwd: dir });
    try {
      expect(existsSync(join(dir, 'sub/dir/rel.db'))).toBe(true);
      const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(store.db);
      expect(mode.rows[0]?.journal_mode).toBe('wal');
      const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(store.db);
      expect(fk.rows[0]?.foreign_keys).toBe(1);
      expect(store.dialect).toBe('sqlite');
    } finally {
      await store.close();
    }
  });

  it('opens an in-memory SQLite database, migrated', async () => {
    const store = await openDatastore('sqlite::memory:');
    try {
      const tables = (await store.db.introspection.getTables()).map((t) => t.name);
      expect(tables).toEqual(
        expect.arrayContaining(['builds', 'derivations', 'attempts', 'outbox', 'agents', 'output_metadata']),
      );
    } finally {
      await store.close();
    }
  });

  it('opens a PostgreSQL database', async () => {
    const t = await createTestDatabase('postgres');
    const store = await openDatastore(t.uri);
    try {
      expect(store.dialect).toBe('postgres');
      const r = await sql<{ n: number }>`select count(*)::int8 as n from builds`.execute(store.db);
      expect(r.rows[0]?.n).toBe(0);
    } finally {
      await store.close();
      await t.drop();
    }
  });

  it('names the problem of an unreachable PostgreSQL server without its password', async () => {
    const error = await openDatastore('postgres://gbc:topsecret@127.0.0.1:1/gbc', {
      connectTimeoutMs: 2000,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatastoreUriError);
    expect((error as DatastoreUriError).code).toBe('unreachable');
    expect((error as Error).message).toContain('postgres://gbc:***@127.0.0.1:1/gbc');
    expect((error as Error).message).not.toContain('topsecret');
  });

  it('names a PostgreSQL database that does not exist', async () => {
    const url = new URL(postgresBaseUri());
    url.pathname = '/gbc_no_such_database';
    const error = await openDatastore(url.toString()).catch((e: unknown) => e);
    expect((error as DatastoreUriError).code).toBe('unreachable');
    expect((error as Error).message).toMatch(/gbc_no_such_database/);
  });

  it('refuses a SQLite path it cannot create', async () => {
    writeFileSync(join(dir, 'plain-file'), 'not a directory');
    const error = await openDatastore(`sqlite://${join(dir, 'plain-file', 'gbc.db')}`).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DatastoreUriError);
    expect((error as DatastoreUriError).code).toBe('unreachable');
  });
});
