// Finds a derivation's text by its basename: an exact lookup under each store
// directory seen so far (/gnu/store, /nix/store, and any other a suffix match
// found), the last one that answered first, and a slower suffix match only
// when those miss. The suffix match is exact: `_` and `%` in a name are
// characters, not wildcards, and case matters (SQLite's LIKE ignores it).
import { sql } from 'kysely';
import type { Db } from '@gbc/datastore';

const storeDirs = ['/gnu/store', '/nix/store'];

/** Puts `dir` first: a farm's derivations all live under one store directory. */
function preferStoreDir(dir: string): void {
  const k = storeDirs.indexOf(dir);
  if (k === 0) return;
  if (k > 0) storeDirs.splice(k, 1);
  storeDirs.unshift(dir);
}

/** The text of the derivation whose basename is `name`, or undefined. */
export async function findDerivationText(db: Db, name: string): Promise<Uint8Array | undefined> {
  for (const dir of storeDirs) {
    const row = await db
      .selectFrom('derivations')
      .select('text')
      .where('path', '=', `${dir}/${name}`)
      .executeTakeFirst();
    if (row !== undefined) {
      preferStoreDir(dir);
      return new Uint8Array(row.text);
    }
  }
  const pattern = `%/${name.replace(/[\\%_]/g, (c) => `\\${c}`)}`;
  const candidates = await db
    .selectFrom('derivations')
    .select(['path', 'text'])
    .where(sql<boolean>`path like ${pattern} escape '\\'`)
    .limit(16)
    .execute();
  const row = candidates.find((r) => r.path.endsWith(`/${name}`));
  if (row === undefined) return undefined;
  preferStoreDir(row.path.slice(0, row.path.lastIndexOf('/')));
  return new Uint8Array(row.text);
}
