// A coordinator process killed with SIGKILL in the middle of an output upload:
// half the compressed NAR is sent and held open, the coordinator is killed,
// a new one starts on the same database and data directory, and the agent asks
// the progress and resumes from the offset it reports (or starts over). The
// stored NAR verifies, the result is accepted, and the narinfo is right.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProtocolError } from '@gbc/protocol';
import { compressWith, decompressWith, type UploadCompression } from '../support/compress.js';
import { fetchCacheFile, fetchNarinfo, filesInArea } from '../support/cache-files.js';
import { startCoordinatorProcess, type CoordinatorProcess } from '../support/coordinator-process.js';
import { agentClientFor, createTestAgent, submitAndStart, type TestAgent } from '../support/held-build.js';
import { buildNixOutput } from '../support/nix-outputs.js';

/** Yields `data` in 64 KiB chunks, then waits for `hold` before ending (a client that stalls mid-body). */
async function* stalled(data: Uint8Array, hold: Promise<void>): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += 65_536) yield data.subarray(at, at + 65_536);
  await hold;
}

async function waitUntil(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never happened: ${what}`);
}

describe('a coordinator killed with SIGKILL in the middle of an upload', () => {
  let dir: string;
  let coordinator: CoordinatorProcess;
  let agent: TestAgent;
  const nonce = randomBytes(6).toString('hex');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gbc-e2e-killed-'));
    coordinator = await startCoordinatorProcess(dir);
    agent = await createTestAgent(coordinator.client, coordinator.agentUrl, 'killed');
  }, 120_000);

  afterAll(async () => {
    // undefined when beforeAll failed before the coordinator started
    await (coordinator as CoordinatorProcess | undefined)?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const cases: [UploadCompression, 'resume' | 'restart'][] = [
    ['zstd', 'resume'],
    ['none', 'resume'],
    ['gzip', 'restart'],
  ];
  it.each(cases)(
    'a %s upload, then the agent %ss after the new coordinator starts',
    async (compression, how) => {
      const built = buildNixOutput(
        `killed-${compression}`,
        `seq 1 800000 > $out; echo ${compression} >> $out`,
        nonce,
      );
      const body = compressWith(compression, built.nar);
      const half = Math.floor(body.length / 2);
      const meta = {
        compression,
        narHash: built.narHash,
        narSize: built.narSize,
        references: built.references,
      };
      let client = agentClientFor(coordinator.agentUrl, agent.uuid, agent.password);
      const build = await submitAndStart(coordinator.client, client, built.drv);

      let release = (): void => undefined;
      const hold = new Promise<void>((resolve) => {
        release = resolve;
      });
      const first = client.uploadOutput(build, 'out', meta, stalled(body.subarray(0, half), hold)).then(
        () => undefined,
        (e: unknown) => e,
      );
      await waitUntil(
        `the coordinator holds ${half} bytes`,
        async () => (await client.outputUploadProgress(build, 'out')).bytesReceived === half,
      );
      await coordinator.kill();
      const broken = await first;
      release();
      expect(isProtocolError(broken, 'network-error')).toBe(true);
      expect(filesInArea(join(dir, 'data'), 'scratch')).toContain(`uploads/${build}-out.part`);

      coordinator = await startCoordinatorProcess(dir);
      client = agentClientFor(coordinator.agentUrl, agent.uuid, agent.password);
      const progress = await client.outputUploadProgress(build, 'out');
      expect(progress).toEqual({ bytesReceived: half, complete: false });
      const early = await client.reportResult(build, { result: 'success' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isProtocolError(early, 'conflict')).toBe(true);

      const offset = how === 'resume' ? progress.bytesReceived : 0;
      const stored = await client.uploadOutput(build, 'out', meta, body.subarray(offset), { offset });
      expect(stored).toEqual({
        path: built.out,
        narHash: built.narHash,
        narSize: built.narSize,
        compression,
        fileSize: body.length,
      });
      expect(filesInArea(join(dir, 'data'), 'scratch').filter((f) => f.startsWith('uploads/'))).toEqual([]);

      await client.reportResult(build, { result: 'success' });
      expect((await coordinator.client.getBuild(build)).state).toBe('succeeded');
      const narinfo = await fetchNarinfo(coordinator.agentUrl, built.out);
      expect(narinfo.fields?.get('NarHash')).toBe(built.narHash);
      expect(narinfo.fields?.get('NarSize')).toBe(String(built.narSize));
      const served = await fetchCacheFile(coordinator.agentUrl, narinfo.fields?.get('URL') ?? '');
      expect(Buffer.from(decompressWith(compression, served)).equals(Buffer.from(built.nar))).toBe(true);
    },
    240_000,
  );
});
