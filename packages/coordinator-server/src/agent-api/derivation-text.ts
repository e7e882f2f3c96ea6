// Finds a derivation's text by its basename: an exact lookup under each store
// directory seen so far (from the datastore's first derivation, plus /gnu/store
// and /nix/store), and a slower suffix match only when those miss.
import type { Db } from '@gbc/datastore';

const storeDirs = new Set<string>(['/gnu/store', '/nix/store']);

/** The text of the derivation whose basename is `name`, or undefined. */
export async function findDerivationText(db: Db, name: string): Promise<Uint8Array | undefined> {
  for (const dir of storeDirs) {
    const row = await db.selectFrom('derivations').select('text').where('path', '=', `${dir}/${name}`).executeTakeFirst();
    if (row !== undefined) return new Uint8Array(row.text);
  }
  const row = await db.selectFrom('derivations').select(['path', 'text']).where('path', 'like', `%/${name}`).executeTakeFirst();
  if (row === undefined) return undefined;
  storeDirs.add(row.path.slice(0, row.path.lastIndexOf('/')));
  return new Uint8Array(row.text);
}
