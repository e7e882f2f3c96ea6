// Parses a database URI string into a dialect and its connection target, and
// redacts passwords so that URIs can be shown in error messages.
import { isAbsolute, resolve } from 'node:path';
import { DatastoreUriError } from './errors.js';

/** Which SQL engine a datastore runs on. */
export type Dialect = 'sqlite' | 'postgres';

/** A parsed database URI. */
export type DatastoreTarget =
  | { readonly dialect: 'sqlite'; /** absolute file path, or ':memory:' */ readonly filename: string }
  | { readonly dialect: 'postgres'; /** the URI to hand to pg */ readonly connectionString: string };

/** Replaces the passwords of a URI (user info, and `password=` / `sslpassword=` query parameters) by `***`, for messages and logs. */
export function redactUri(uri: string): string {
  return uri
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:***@')
    .replace(/([?&](?:ssl)?password=)[^&#]*/gi, '$1***');
}

/**
 * Parses `sqlite://relative/path` (relative to `cwd`), `sqlite:///absolute/path`,
 * `sqlite::memory:`, `postgres://…` or `postgresql://…`.
 * @throws DatastoreUriError (`uri-invalid`, `uri-scheme`) naming what is wrong.
 */
export function parseDatastoreUri(uri: string, cwd: string = process.cwd()): DatastoreTarget {
  const shown = JSON.stringify(redactUri(uri));
  if (uri === 'sqlite::memory:') return { dialect: 'sqlite', filename: ':memory:' };
  if (uri.startsWith('sqlite://')) {
    const path = decodeURIComponent(uri.slice('sqlite://'.length).split('?')[0] ?? '');
    if (path === '' || path.endsWith('/')) {
      throw new DatastoreUriError(
        'uri-invalid',
        `database URI ${shown} names no file: expected sqlite://relative/file.db, sqlite:///absolute/file.db or sqlite::memory:`,
      );
    }
    return { dialect: 'sqlite', filename: isAbsolute(path) ? path : resolve(cwd, path) };
  }
  if (/^postgres(ql)?:\/\//.test(uri)) {
    let parsed: URL;
    try {
      parsed = new URL(uri);
    } catch (cause) {
      throw new DatastoreUriError(
        'uri-invalid',
        `database URI ${shown} is not a valid URL: expected postgres://user[:password]@host[:port]/database`,
        { cause },
      );
    }
    if (parsed.hostname === '' && !parsed.searchParams.has('host')) {
      throw new DatastoreUriError(
        'uri-invalid',
        `database URI ${shown} names no host: expected postgres://user[:password]@host[:port]/database`,
      );
    }
    if (parsed.pathname.length <= 1) {
      throw new DatastoreUriError(
        'uri-invalid',
        `database URI ${shown} names no database: expected postgres://user[:password]@host[:port]/database`,
      );
    }
    return { dialect: 'postgres', connectionString: uri };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1];
  throw new DatastoreUriError(
    'uri-scheme',
    `database URI ${shown} ${scheme === undefined ? 'has no scheme' : `has the unsupported scheme "${scheme}"`}: expected sqlite://PATH, sqlite::memory: or postgres://…`,
  );
}
