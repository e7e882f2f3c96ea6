// Outputs the cache benchmarks serve: metadata only (1 KiB NARs, one zstd file
// each, all referring to the first), recorded 1,000 per statement.
import { recordOutputMetadata } from '@gbc/datastore';
import type { Datastore } from '@gbc/datastore';

const SOME_HASH = 'sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s';

/** Records `/gnu/store/<hash>-bench-output` for each of `hashes`. */
export async function recordBenchOutputs(db: Datastore['db'], hashes: readonly string[]): Promise<void> {
  for (let i = 0; i < hashes.length; i += 1000)
    await recordOutputMetadata(
      db,
      hashes.slice(i, i + 1000).map((h) => ({
        storePath: `/gnu/store/${h}-bench-output`,
        narHash: SOME_HASH,
        narSize: 1024,
        references: [`/gnu/store/${hashes[0]}-bench-output`],
        deriver: `/gnu/store/${h}-bench-output.drv`,
        files: [
          { compression: 'zstd', fileSize: 512, fileHash: SOME_HASH, location: `zstd/${h}-bench-output` },
        ],
      })),
    );
}
