// A decompression bomb against the coordinator (issue 19, item 7), through
// the agent API: a few kilobytes of zstd that decode to a well-formed NAR of
// a huge file of zeros. Its structure is valid and its hash can only be found
// wrong at the very end, so before the fix the coordinator decoded and hashed
// all of it (4 GiB from 145 KB) before refusing. Now decoding stops once the
// NAR passes 1024 bytes per compressed byte (after the first 64 MiB): the
// refusal is 413 payload-too-large, not the hash mismatch only the end could
// find, and nothing is kept. A stream of zeros is no NAR and fails at byte 0;
// a small, very compressible output within the allowance is accepted.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeUploadHeaders } from '@gbc/protocol';
import { formatHash, makeHash } from '@gbc/store';
import type { Coordinator } from '../coordinator/create-coordinator.js';
import { createTestPlace, fakeDrv, makeAgent, startedBuild, startOn } from './test-support.js';
import type { TestPlace } from './test-support.js';

const work = mkdtempSync(join(tmpdir(), 'gbc-bomb-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A NAR string: length, bytes, padding to 8. */
function narString(s: string): Buffer {
  const b = Buffer.from(s);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(b.length));
  return Buffer.concat([len, b, Buffer.alloc((8 - (b.length % 8)) % 8)]);
}

/** The NAR of one regular file of `size` zero bytes, zstd-compressed, made without holding it in memory; and its NarSize. */
function zeroFileNar(size: number): { zstd: Buffer; narSize: number; narHash: string } {
  const head = Buffer.concat([
    ...['nix-archive-1', '(', 'type', 'regular', 'contents'].map(narString),
    Buffer.alloc(8),
  ]);
  head.writeBigUInt64LE(BigInt(size), head.length - 8);
  const tail = Buffer.concat([Buffer.alloc((8 - (size % 8)) % 8), narString(')')]);
  writeFileSync(join(work, 'head'), head);
  writeFileSync(join(work, 'tail'), tail);
  const stream = `cat head; head -c ${size} /dev/zero; cat tail`;
  const zstd = execFileSync('sh', ['-c', `(${stream}) | zstd -q -c`], { cwd: work, maxBuffer: 64 << 20 });
  const hex = execFileSync('sh', ['-c', `(${stream}) | sha256sum`], { cwd: work, encoding: 'utf8' }).split(
    ' ',
  )[0]!;
  return {
    zstd,
    narSize: head.length + size + tail.length,
    narHash: formatHash(makeHash('sha256', Buffer.from(hex, 'hex'))),
  };
}

describe('decompression bombs uploaded to the coordinator', () => {
  let place: TestPlace;
  let c: Coordinator;
  let agent: Awaited<ReturnType<typeof makeAgent>>;
  beforeAll(async () => {
    place = createTestPlace('sqlite');
    c = await startOn(place);
    agent = await makeAgent(c, 'bomber');
  });
  afterAll(async () => {
    await c.stop();
    place.remove();
  });

  const started = (name: string) => startedBuild(c, agent, fakeDrv(name));
  const upload = async (build: string, body: Buffer, narHash: string, narSize: number) => {
    const res = await c.agentApp.request(`/build/${build}/output/out`, {
      method: 'PUT',
      body,
      headers: {
        ...encodeUploadHeaders({ narHash, narSize, references: [], compression: 'zstd' }),
        Authorization: agent.auth,
        'Content-Type': 'application/x-nix-nar',
      },
    });
    return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
  };
  const storedNars = async () => {
    const keys: string[] = [];
    for await (const o of c.context.storage.store.list('nar')) keys.push(o.key);
    return keys;
  };

  it('stops decoding a well-formed NAR of zeros long before its end, with 413 rather than the hash mismatch', async () => {
    const size = 512 * 1024 * 1024;
    const bomb = zeroFileNar(size);
    expect(bomb.zstd.length * 1024).toBeLessThan(size);
    const build = await started('bomb');
    const before = await storedNars();
    // A claimed hash that is wrong: only the last byte could tell.
    const wrongHash = formatHash(makeHash('sha256', createHash('sha256').update('other').digest()));
    const answer = await upload(build, bomb.zstd, wrongHash, bomb.narSize);
    expect(answer.status).toBe(413);
    expect(answer.body.error).toMatchObject({ code: 'payload-too-large' });
    expect(answer.body.error?.message).toContain('less compressed');
    expect(await storedNars()).toEqual(before);
    // The same bomb with its true hash is refused all the same: the work is what is bounded.
    expect((await upload(build, bomb.zstd, bomb.narHash, bomb.narSize)).status).toBe(413);
  });

  it('refuses a stream of zeros at its first bytes: it is no NAR', async () => {
    const zeros = execFileSync('sh', ['-c', 'head -c 67108864 /dev/zero | zstd -q -c'], {
      maxBuffer: 64 << 20,
    });
    const build = await started('zeros');
    const answer = await upload(
      build,
      zeros,
      formatHash(makeHash('sha256', createHash('sha256').update('x').digest())),
      64 << 20,
    );
    expect(answer.status).toBe(400);
    expect(answer.body.error?.message).toContain('not a valid NAR (bad-magic)');
  });

  it('accepts a very compressible output within the first allowance', async () => {
    const small = zeroFileNar(16 * 1024 * 1024);
    expect(small.zstd.length * 1024).toBeLessThan(small.narSize);
    const build = await started('sparse');
    expect((await upload(build, small.zstd, small.narHash, small.narSize)).status).toBe(200);
  });
});
