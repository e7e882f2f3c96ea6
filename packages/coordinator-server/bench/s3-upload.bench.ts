// Benchmark: a 1 GiB NAR received by the upload receiver (NarUploads, the
// code behind the output-upload route: decode, parse, hash, store) into the
// data directory and into object storage (an s3rver on loopback, started
// here, or the endpoint named by GBC_TEST_S3_ENDPOINT), alternating, from a
// file stream in this process. Object storage streams the NAR into a
// multipart upload as it arrives and completes it once verified; s3rver
// writes every part to its own disk and hashes it (MD5) on the same 2 cores.
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDataDirStorage } from '../src/storage/data-dir-storage.js';
import { createNarUploads } from '../src/storage/nar-uploads.js';
import { createS3Storage } from '../src/storage/s3-storage.js';
import type { Storage } from '../src/storage/storage.js';
import { startS3Target } from '../src/storage/testing/s3-target.js';
import { makeBigNar, type BigNar } from './big-nar.js';

const MiB = 2 ** 20;
const ROUNDS = Number(process.env.GBC_BENCH_S3_ROUNDS ?? 2);

const work = mkdtempSync(join(tmpdir(), 'gbc-bench-s3-'));
const target = await startS3Target();
try {
  const nar = await makeBigNar(work);
  const dataDir = await createDataDirStorage(join(work, 'data'));
  const s3 = await createS3Storage({
    url: target.url(),
    scratchDir: join(work, 's3-scratch'),
    credentials: target.credentials,
  });
  const loadBefore = loadavg()[0]!;
  const times: Record<'data directory' | 'object storage', number[]> = {
    'data directory': [],
    'object storage': [],
  };
  for (let round = 0; round < ROUNDS; round++) {
    times['data directory'].push(await receive(dataDir, nar, `dd-${round}`));
    times['object storage'].push(await receive(s3, nar, `s3-${round}`));
  }
  const loadAfter = loadavg()[0]!;
  s3.close();
  const gib = nar.narSize / 2 ** 30;
  const lines = [
    '## 1 GiB NAR upload: object storage vs data directory',
    '',
    `A ${(nar.narSize / MiB).toFixed(0)} MiB NAR (half random, half text), uncompressed, received by`,
    'NarUploads from a file stream in one process (decode, NAR parse, sha256, store) — no agent',
    `HTTP hop; ${ROUNDS} rounds alternating. Object storage: ${target.local ? 's3rver 3.7.1 on loopback (writes each part to its own disk, same 2 cores)' : target.endpoint}, 8 MiB parts,`,
    'one part in flight while the next fills, Content-MD5 on each part, completed after the hash check.',
    '',
    '| storage | best s | median s | MiB/s (best) |',
    '|---|---|---|---|',
    ...Object.entries(times).map(([name, t]) => {
      const sorted = [...t].sort((a, b) => a - b);
      const best = sorted[0]!;
      const median = sorted[Math.floor(sorted.length / 2)]!;
      return `| ${name} | ${best.toFixed(1)} | ${median.toFixed(1)} | ${((gib * 1024) / best).toFixed(0)} |`;
    }),
    '',
    `Load average (1 min): ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after (2 cores, shared).`,
    ...(target.local
      ? [
          "s3rver is single-threaded JavaScript and its CompleteMultipartUpload copies every part into one file (1 GiB more of disk writes): a real object store completes without copying, so this is s3rver's speed as much as gbc's.",
        ]
      : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await target.stop();
  rmSync(work, { recursive: true, force: true });
}

async function receive(storage: Storage, nar: BigNar, id: string): Promise<number> {
  const uploads = await createNarUploads({ storage });
  const key = `none/${id}/bench-nar`;
  const started = performance.now();
  const stored = await uploads.receive({
    uploadId: id,
    key,
    compression: 'none',
    narHash: nar.narHash,
    narSize: nar.narSize,
    body: createReadStream(nar.file, { highWaterMark: MiB }),
  });
  const seconds = (performance.now() - started) / 1000;
  if (stored.fileSize !== nar.narSize) throw new Error(`stored ${stored.fileSize} bytes`);
  await storage.delete('nar', key);
  return seconds;
}
