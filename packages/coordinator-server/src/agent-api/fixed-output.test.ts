// Fixed-output poisoning (issue 19, item 4), through the agent API of a real
// coordinator: an agent uploads, for a fixed output, a well-formed NAR whose
// declared NarHash is right for its bytes but whose content is not what the
// derivation fixes. Refused (400 hash-mismatch), nothing stored; the right
// content is accepted and the build succeeds. Flat and recursive, sha256 and
// sha1; a flat output that is a directory or executable is refused too.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeUploadHeaders } from '@gbc/protocol';
import type { DerivationRecord } from '@gbc/datastore';
import type { Coordinator } from '../coordinator/create-coordinator.js';
import { narHashOf } from '../test-support/upload-fixtures.js';
import { call, createTestPlace, fakeDrv, makeAgent, startedBuild, startOn } from './test-support.js';
import type { TestPlace } from './test-support.js';

const work = mkdtempSync(join(tmpdir(), 'gbc-fixed-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The NAR of a file (or directory) made by `make` in a fresh place, by nix-store --dump. */
function narOf(make: (path: string) => void): Buffer {
  const path = join(mkdtempSync(join(work, 'item-')), 'item');
  make(path);
  return execFileSync('nix-store', ['--dump', path]);
}
const fileNar = (content: string, executable = false) =>
  narOf((p) => {
    writeFileSync(p, content);
    if (executable) chmodSync(p, 0o755);
  });
const dirNar = (content: string) =>
  narOf((p) => {
    mkdirSync(p);
    writeFileSync(join(p, 'file'), content);
  });
const digest = (algorithm: string, data: string | Uint8Array) =>
  createHash(algorithm).update(data).digest('hex');

/** A synthetic fixed-output derivation record (the upload route reads its declared hash). */
function fixedDrv(name: string, hashAlgo: string, hash: string): DerivationRecord {
  const d = fakeDrv(name);
  return { ...d, fixedOutput: true, outputs: [{ ...d.outputs[0]!, hashAlgo, hash }] };
}

describe('fixed outputs', () => {
  let place: TestPlace;
  let c: Coordinator;
  let agent: Awaited<ReturnType<typeof makeAgent>>;
  beforeAll(async () => {
    place = createTestPlace('sqlite');
    c = await startOn(place);
    agent = await makeAgent(c, 'fixed-agent');
  });
  afterAll(async () => {
    await c.stop();
    place.remove();
  });

  const started = (drv: DerivationRecord) => startedBuild(c, agent, drv);
  const upload = (build: string, nar: Buffer) =>
    c.agentApp.request(`/build/${build}/output/out`, {
      method: 'PUT',
      body: nar,
      headers: {
        ...encodeUploadHeaders({ narHash: narHashOf(nar), narSize: nar.length, references: [] }),
        Authorization: agent.auth,
        'Content-Type': 'application/x-nix-nar',
      },
    });
  const storedNars = async () => {
    const keys: string[] = [];
    for await (const o of c.context.storage.store.list('nar')) keys.push(o.key);
    return keys.sort();
  };

  it.each([
    ['flat sha256', 'sha256', (s: string) => digest('sha256', s), fileNar],
    ['flat sha1', 'sha1', (s: string) => digest('sha1', s), fileNar],
    ['recursive sha256', 'r:sha256', (s: string) => digest('sha256', fileNar(s)), fileNar],
    ['recursive sha1 (of a directory)', 'r:sha1', (s: string) => digest('sha1', dirNar(s)), dirNar],
  ] as const)(
    '%s: other content is refused and nothing kept; the declared content is accepted',
    async (label, algo, declared, nar) => {
      const build = await started(
        fixedDrv(`fixed-${label.replace(/[^a-z0-9]+/g, '-')}`, algo, declared('the real source\n')),
      );
      const before = await storedNars();
      const poisoned = await upload(build, nar('a poisoned source\n'));
      expect(poisoned.status).toBe(400);
      const body = (await poisoned.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('hash-mismatch');
      expect(body.error.message).toContain('fixed by its derivation');
      expect(await storedNars()).toEqual(before);
      // Success cannot be claimed on the refused upload.
      expect(
        (await call(c, 'POST', `/build/${build}/report-result`, agent.auth, { result: 'success' })).status,
      ).toBe(409);
      expect((await upload(build, nar('the real source\n'))).status).toBe(200);
      expect(
        (await call(c, 'POST', `/build/${build}/report-result`, agent.auth, { result: 'success' })).status,
      ).toBe(204);
    },
  );

  it('a flat fixed output must be one non-executable regular file', async () => {
    const content = 'flat\n';
    for (const [name, nar] of [
      ['dir', dirNar(content)],
      ['exec', fileNar(content, true)],
    ] as const) {
      const build = await started(fixedDrv(`flat-${name}`, 'sha256', digest('sha256', content)));
      const res = await upload(build, nar);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
        'one non-executable regular file',
      );
      expect(
        (await call(c, 'POST', `/build/${build}/report-result`, agent.auth, { result: 'canceled' })).status,
      ).toBe(204);
    }
  });
});
