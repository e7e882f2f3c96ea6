// Bad output uploads refused by a coordinator in its own process, over real
// HTTP, for real NARs in each compression: corrupted, truncated, longer than
// declared, wrong hash, wrong size, and larger than the configured limit. Each
// gets its 4xx and leaves nothing published: no narinfo, no file in the NAR
// area, no partial upload, and a success result is refused (409) while the
// output is missing. The good upload after them is then accepted.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProtocolError, type NarUploadMetadataInput } from '@gbc/protocol';
import { formatHash, makeHash } from '@gbc/store';
import { COMPRESSIONS, compressWith, type UploadCompression } from '../support/compress.js';
import { fetchNarinfo, filesInArea } from '../support/cache-files.js';
import { startCoordinatorProcess, type CoordinatorProcess } from '../support/coordinator-process.js';
import { createTestAgent, submitAndStart, type TestAgent } from '../support/held-build.js';
import { buildNixOutput, type BuiltOutput } from '../support/nix-outputs.js';

const LIMIT = 256 * 1024;

/** A bad upload: what it declares, what it sends, and the refusal expected. */
interface BadUpload {
  readonly what: string;
  readonly meta: NarUploadMetadataInput;
  readonly body: Uint8Array;
  readonly status: number;
  readonly codes: readonly string[];
}

function sha256Of(data: Uint8Array): string {
  return formatHash(makeHash('sha256', createHash('sha256').update(data).digest()));
}

function corrupt(data: Uint8Array): Uint8Array {
  const copy = data.slice();
  for (let i = Math.floor(copy.length / 2); i < Math.floor(copy.length / 2) + 16 && i < copy.length; i++)
    copy[i] = copy[i]! ^ 0x5a;
  return copy;
}

function badUploads(compression: UploadCompression, small: BuiltOutput, big: BuiltOutput): BadUpload[] {
  const meta = { compression, narHash: small.narHash, narSize: small.narSize, references: small.references };
  const body = compressWith(compression, small.nar);
  const garbage = randomBytes(4096);
  const data = ['bad-request', 'hash-mismatch', 'size-mismatch'];
  return [
    { what: 'corrupted in the middle', meta, body: corrupt(body), status: 400, codes: data },
    {
      what: 'truncated at 60%',
      meta,
      body: body.subarray(0, Math.floor(body.length * 0.6)),
      status: 400,
      codes: data,
    },
    {
      what: 'longer than declared',
      meta,
      body: Buffer.concat([body, compression === 'none' ? garbage : compressWith(compression, garbage)]),
      status: 400,
      codes: data,
    },
    {
      what: 'a wrong NarHash',
      meta: { ...meta, narHash: sha256Of(Buffer.concat([small.nar, Buffer.from('x')])) },
      body,
      status: 400,
      codes: ['hash-mismatch'],
    },
    {
      what: 'a NarSize too large',
      meta: { ...meta, narSize: small.narSize + 8 },
      body,
      status: 400,
      codes: ['size-mismatch', 'bad-request'],
    },
    {
      what: 'a NarSize too small',
      meta: { ...meta, narSize: small.narSize - 8 },
      body,
      status: 400,
      codes: ['size-mismatch', 'bad-request'],
    },
    {
      what: 'a NAR over the limit',
      meta: { compression, narHash: big.narHash, narSize: big.narSize, references: [] },
      body: compressWith(compression, big.nar),
      status: 413,
      codes: ['payload-too-large'],
    },
  ];
}

describe('refused output uploads leave nothing published', () => {
  let dir: string;
  let coordinator: CoordinatorProcess;
  let agent: TestAgent;
  let big: BuiltOutput;
  const nonce = randomBytes(6).toString('hex');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gbc-e2e-refused-'));
    coordinator = await startCoordinatorProcess(dir, { maxNarSize: LIMIT });
    agent = await createTestAgent(coordinator.client, coordinator.agentUrl, 'refused');
    big = buildNixOutput('upload-big', 'seq 1 60000 > $out', nonce);
    expect(big.narSize).toBeGreaterThan(LIMIT);
  }, 120_000);

  afterAll(async () => {
    // undefined when beforeAll failed before the coordinator started
    await (coordinator as CoordinatorProcess | undefined)?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(COMPRESSIONS)(
    'refuses each bad %s upload with its 4xx, then accepts the good one',
    async (compression) => {
      const small = buildNixOutput(
        `refused-${compression}`,
        `seq 1 5000 > $out; echo ${compression} >> $out`,
        nonce,
      );
      const build = await submitAndStart(coordinator.client, agent.client, small.drv);
      const basename = small.out.slice('/nix/store/'.length);
      const seen: string[] = [];
      for (const bad of badUploads(compression, small, big)) {
        const error = await agent.client.uploadOutput(build, 'out', bad.meta, bad.body).then(
          () => undefined,
          (e: unknown) => e,
        );
        if (!isProtocolError(error)) throw new Error(`${bad.what}: expected a refusal, got ${String(error)}`);
        seen.push(`${bad.what}: ${error.status} ${error.code}`);
        expect(error.status, bad.what).toBe(bad.status);
        expect(bad.codes, bad.what).toContain(error.code);
        expect((await fetchNarinfo(coordinator.agentUrl, small.out)).status, bad.what).toBe(404);
        expect(
          filesInArea(join(dir, 'data'), 'nar').filter((f) => f.includes(basename)),
          bad.what,
        ).toEqual([]);
        expect(
          filesInArea(join(dir, 'data'), 'scratch').filter((f) => f.startsWith('uploads/')),
          bad.what,
        ).toEqual([]);
        expect(await agent.client.outputUploadProgress(build, 'out'), bad.what).toEqual({
          bytesReceived: 0,
          complete: false,
        });
        const refused = await agent.client.reportResult(build, { result: 'success' }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isProtocolError(refused, 'conflict'), `${bad.what}: success refused`).toBe(true);
        expect((await coordinator.client.getBuild(build)).state, bad.what).toBe('started');
      }
      expect(seen).toHaveLength(7);

      const stored = await agent.client.uploadOutput(
        build,
        'out',
        { compression, narHash: small.narHash, narSize: small.narSize, references: small.references },
        compressWith(compression, small.nar),
      );
      expect(stored.narHash).toBe(small.narHash);
      await agent.client.reportResult(build, { result: 'success' });
      expect((await coordinator.client.getBuild(build)).state).toBe('succeeded');
      const narinfo = await fetchNarinfo(coordinator.agentUrl, small.out);
      expect(narinfo.fields?.get('NarHash')).toBe(small.narHash);
      expect(filesInArea(join(dir, 'data'), 'nar').filter((f) => f.includes(basename))).toHaveLength(1);
    },
    180_000,
  );
});
