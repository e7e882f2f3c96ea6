// Real NARs (outputs the nix-daemon built, dumped by nix-store) uploaded in
// each compression over real HTTP to a coordinator in its own process, for a
// build that an agent fetched and started; then the result is accepted and the
// cache serves the narinfo and the very bytes uploaded.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPRESSIONS, compressWith, decompressWith } from '../support/compress.js';
import { fetchCacheFile, fetchNarinfo, filesInArea } from '../support/cache-files.js';
import { startCoordinatorProcess, type CoordinatorProcess } from '../support/coordinator-process.js';
import { createTestAgent, submitAndStart, type TestAgent } from '../support/held-build.js';
import { buildNixOutput } from '../support/nix-outputs.js';

/** `data` in chunks of `size` bytes, as a streamed body. */
async function* chunked(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

describe('output uploads of real NARs through a coordinator process', () => {
  let dir: string;
  let coordinator: CoordinatorProcess;
  let agent: TestAgent;
  const nonce = randomBytes(6).toString('hex');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gbc-e2e-uploads-'));
    coordinator = await startCoordinatorProcess(dir);
    agent = await createTestAgent(coordinator.client, coordinator.agentUrl, 'uploader');
  }, 120_000);

  afterAll(async () => {
    // undefined when beforeAll failed before the coordinator started
    await (coordinator as CoordinatorProcess | undefined)?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(COMPRESSIONS)(
    'stores, accepts and serves a %s upload of a directory output',
    async (compression) => {
      const script = `mkdir $out && seq 1 20000 > $out/numbers && echo ${compression} > $out/name && ln -s numbers $out/link && printf '#!/bin/sh\\n' > $out/run && chmod +x $out/run`;
      const built = buildNixOutput(`upload-${compression}`, script, nonce);
      expect(built.nar.length).toBe(built.narSize);
      const body = compressWith(compression, built.nar);
      const build = await submitAndStart(coordinator.client, agent.client, built.drv);

      const stored = await agent.client.uploadOutput(
        build,
        'out',
        { compression, narHash: built.narHash, narSize: built.narSize, references: built.references },
        chunked(body, 8192),
      );
      expect(stored).toEqual({
        path: built.out,
        narHash: built.narHash,
        narSize: built.narSize,
        compression,
        fileSize: body.length,
      });
      expect(await agent.client.outputUploadProgress(build, 'out')).toEqual({
        bytesReceived: body.length,
        complete: true,
      });

      await agent.client.reportResult(build, { result: 'success' });
      expect((await coordinator.client.getBuild(build)).state).toBe('succeeded');

      const narinfo = await fetchNarinfo(coordinator.agentUrl, built.out);
      expect(narinfo.status).toBe(200);
      expect(narinfo.fields?.get('StorePath')).toBe(built.out);
      expect(narinfo.fields?.get('NarHash')).toBe(built.narHash);
      expect(narinfo.fields?.get('NarSize')).toBe(String(built.narSize));
      expect(narinfo.fields?.get('Compression')).toBe(compression);
      expect(narinfo.fields?.get('FileSize')).toBe(String(body.length));
      const served = await fetchCacheFile(coordinator.agentUrl, narinfo.fields?.get('URL') ?? '');
      expect(Buffer.from(served).equals(Buffer.from(body))).toBe(true);
      expect(Buffer.from(decompressWith(compression, served)).equals(Buffer.from(built.nar))).toBe(true);
      expect(
        filesInArea(join(dir, 'data'), 'nar').filter((f) =>
          f.includes(built.out.slice('/nix/store/'.length)),
        ),
      ).toHaveLength(1);
    },
    120_000,
  );
});
