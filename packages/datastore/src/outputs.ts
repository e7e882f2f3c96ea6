// Output metadata: what the coordinator holds for each output store path
// (NAR hash and size, references, deriver, stored files), for the binary cache.
import { InvalidInputError } from './errors.js';
import { chunk, inTransaction } from './transaction.js';
import type { Db } from './transaction.js';
import type { OutputMetadata, StoredFile } from './types.js';

/** Metadata to record for one output. */
export interface OutputMetadataInput {
  readonly storePath: string;
  readonly narHash: string;
  readonly narSize: number;
  readonly references: readonly string[];
  readonly deriver?: string | null;
  readonly files: readonly StoredFile[];
}

/** The nix32 hash part (32 characters after the store directory) of a store path. */
export function hashPartOf(storePath: string): string {
  const base = storePath.slice(storePath.lastIndexOf('/') + 1);
  const hash = base.slice(0, 32);
  if (base.length < 34 || base[32] !== '-')
    throw new InvalidInputError(
      'invalid-input',
      `${JSON.stringify(storePath)} is not a store path: expected STOREDIR/<32-char hash>-<name>`,
    );
  return hash;
}

/**
 * Records (or replaces) output metadata and its stored files, linked to the
 * build with internal id `buildId` if given. Runs in the caller's transaction
 * if `db` is one.
 */
export async function recordOutputMetadata(
  db: Db,
  outputs: readonly OutputMetadataInput[],
  now: number = Date.now(),
  buildId: number | null = null,
): Promise<void> {
  if (outputs.length === 0) return;
  await inTransaction(db, async (trx) => {
    for (const part of chunk(outputs, 8)) {
      await trx
        .insertInto('output_metadata')
        .values(
          part.map((o) => ({
            store_path: o.storePath,
            hash_part: hashPartOf(o.storePath),
            nar_hash: o.narHash,
            nar_size: o.narSize,
            references: JSON.stringify([...o.references].sort()),
            deriver: o.deriver ?? null,
            build_id: buildId,
            created_at: now,
          })),
        )
        .onConflict((oc) =>
          oc.column('store_path').doUpdateSet((eb) => ({
            nar_hash: eb.ref('excluded.nar_hash'),
            nar_size: eb.ref('excluded.nar_size'),
            references: eb.ref('excluded.references'),
            deriver: eb.ref('excluded.deriver'),
            build_id: eb.ref('excluded.build_id'),
          })),
        )
        .execute();
    }
    const files = outputs.flatMap((o) =>
      o.files.map((f) => ({
        store_path: o.storePath,
        compression: f.compression,
        file_size: f.fileSize,
        file_hash: f.fileHash,
        location: f.location,
      })),
    );
    for (const part of chunk(files, 5)) {
      await trx
        .insertInto('output_files')
        .values(part)
        .onConflict((oc) =>
          oc.columns(['store_path', 'compression']).doUpdateSet((eb) => ({
            file_size: eb.ref('excluded.file_size'),
            file_hash: eb.ref('excluded.file_hash'),
            location: eb.ref('excluded.location'),
          })),
        )
        .execute();
    }
  });
}

/** Metadata of those of `storePaths` the coordinator holds. */
export async function outputMetadataFor(db: Db, storePaths: readonly string[]): Promise<OutputMetadata[]> {
  const out: OutputMetadata[] = [];
  for (const part of chunk([...new Set(storePaths)], 1)) out.push(...(await load(db, 'store_path', part)));
  return out;
}

/** Metadata of one output by its full store path, or undefined. */
export async function getOutputMetadata(db: Db, storePath: string): Promise<OutputMetadata | undefined> {
  return (await load(db, 'store_path', [storePath]))[0];
}

/** Metadata of one output by the hash part of its store path (a narinfo request), or undefined. */
export async function getOutputMetadataByHashPart(
  db: Db,
  hashPart: string,
): Promise<OutputMetadata | undefined> {
  return (await load(db, 'hash_part', [hashPart]))[0];
}

/** Removes the metadata (and stored-file records) of `storePaths`, e.g. for retention. */
export async function deleteOutputMetadata(db: Db, storePaths: readonly string[]): Promise<number> {
  let deleted = 0;
  for (const part of chunk(storePaths, 1)) {
    const r = await db.deleteFrom('output_metadata').where('store_path', 'in', part).executeTakeFirst();
    deleted += Number(r.numDeletedRows);
  }
  return deleted;
}

async function load(
  db: Db,
  column: 'store_path' | 'hash_part',
  values: readonly string[],
): Promise<OutputMetadata[]> {
  if (values.length === 0) return [];
  const rows = await db
    .selectFrom('output_metadata as m')
    .leftJoin('builds as b', 'b.id', 'm.build_id')
    .select([
      'm.store_path',
      'm.hash_part',
      'm.nar_hash',
      'm.nar_size',
      'm.references',
      'm.deriver',
      'm.created_at',
      'b.uuid',
    ])
    .where(`m.${column}`, 'in', values)
    .orderBy('m.store_path')
    .execute();
  if (rows.length === 0) return [];
  const files = await db
    .selectFrom('output_files')
    .selectAll()
    .where(
      'store_path',
      'in',
      rows.map((r) => r.store_path),
    )
    .orderBy('compression')
    .execute();
  return rows.map((r) => ({
    storePath: r.store_path,
    hashPart: r.hash_part,
    narHash: r.nar_hash,
    narSize: r.nar_size,
    references: JSON.parse(r.references) as string[],
    deriver: r.deriver,
    buildId: r.uuid,
    createdAt: r.created_at,
    files: files
      .filter((f) => f.store_path === r.store_path)
      .map((f) => ({
        compression: f.compression,
        fileSize: f.file_size,
        fileHash: f.file_hash,
        location: f.location,
      })),
  }));
}
