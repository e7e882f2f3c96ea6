// Test support: keep an output the way an agent's upload does (verified NAR
// upload into storage, then its output metadata), and a real build by the
// local nix-daemon to take it from.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { recordOutputMetadata } from '@gbc/datastore';
import type { CoordinatorContext } from '../../context.js';
import { narStorageKey } from '../../storage/nar-key.js';
import { bodyOf, narHashOf } from '../../test-support/upload-fixtures.js';

/** An output to keep. */
export interface OutputToStore {
  readonly storePath: string;
  /** The uncompressed NAR. */
  readonly nar: Uint8Array;
  /** Compressions to store it in (each verified). Default gzip. */
  readonly compressions?: readonly ('none' | 'gzip')[];
  readonly references?: readonly string[];
  readonly deriver?: string | null;
  /** Internal id of the build that made it. */
  readonly buildId?: number | null;
}

/** Uploads `output`'s NAR through `ctx.storage.nars` and records its metadata. */
export async function storeOutput(ctx: CoordinatorContext, output: OutputToStore): Promise<void> {
  const narHash = narHashOf(output.nar);
  const files = [];
  for (const compression of output.compressions ?? ['gzip']) {
    const body = compression === 'gzip' ? gzipSync(output.nar) : output.nar;
    const key = narStorageKey(output.storePath, compression);
    const stored = await ctx.storage.nars.receive({
      uploadId: randomUUID(),
      key,
      compression,
      narHash,
      narSize: output.nar.length,
      body: bodyOf(body),
    });
    files.push({ compression, fileSize: stored.fileSize, fileHash: stored.fileHash, location: stored.key });
  }
  await recordOutputMetadata(
    ctx.datastore.db,
    [
      {
        storePath: output.storePath,
        narHash,
        narSize: output.nar.length,
        references: output.references ?? [],
        deriver: output.deriver ?? null,
        files,
      },
    ],
    ctx.clock.now(),
    output.buildId ?? null,
  );
}

/** A derivation built by the real nix-daemon: its paths and its output's NAR. */
export interface NixBuilt {
  readonly drvPath: string;
  readonly outPath: string;
  readonly nar: Buffer;
  readonly references: readonly string[];
}

/** Instantiates and builds a tiny unique derivation (writing `dir/expr.nix`) with the local nix-daemon. */
export function buildWithNix(dir: string, tag: string): NixBuilt {
  const expr = join(dir, 'expr.nix');
  writeFileSync(
    expr,
    `derivation { name = "gbc-cache-${tag}"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo '${tag} ${randomUUID()}' > $out" ]; }\n`,
  );
  const env = { ...process.env, NIX_REMOTE: process.env.NIX_REMOTE ?? 'daemon' };
  const drvPath = execFileSync('nix-instantiate', [expr], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
  const outPath = execFileSync('nix-store', ['-r', drvPath], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
  const nar = execFileSync('nix-store', ['--dump', outPath], { env, maxBuffer: 1 << 28 });
  const references = execFileSync('nix-store', ['-q', '--references', outPath], { env, encoding: 'utf8' })
    .split('\n')
    .filter((l) => l !== '');
  return { drvPath, outPath, nar, references };
}

/**
 * Keeps a 64-byte stand-in NAR file for `storePath` (uncompressed) and its
 * metadata, recorded `ageMs` ago: an output that retention's age policy removes.
 */
export async function storeAgedOutput(
  ctx: Pick<CoordinatorContext, 'datastore' | 'storage'>,
  storePath: string,
  ageMs: number,
): Promise<void> {
  const key = `none/${storePath.slice(storePath.lastIndexOf('/') + 1)}`;
  await ctx.storage.store.put('nar', key, new Uint8Array(64));
  await recordOutputMetadata(
    ctx.datastore.db,
    [
      {
        storePath,
        narHash: 'sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s',
        narSize: 64,
        references: [],
        files: [{ compression: 'none', fileSize: 64, fileHash: null, location: key }],
      },
    ],
    Date.now() - ageMs,
  );
}
