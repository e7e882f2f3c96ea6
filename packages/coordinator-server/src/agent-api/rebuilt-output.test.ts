// A second build of a derivation whose output NAR differs (a non-reproducible
// build) stores its NAR beside the first instead of over it: while its result
// is not accepted, and after it fails, the cache keeps serving the NAR that
// the published narinfo describes.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeUploadHeaders } from '@gbc/protocol';
import { encodeNix32 } from '@gbc/store';
import type { Coordinator } from '../coordinator/create-coordinator.js';
import { makeNar } from '../test-support/bytes.js';
import { narHashOf } from '../test-support/upload-fixtures.js';
import { call, createTestPlace, fakeDrv, makeAgent, startOn, submit } from './test-support.js';
import type { TestPlace } from './test-support.js';

describe('a rebuilt output with other bytes', () => {
  let place: TestPlace;
  let c: Coordinator;
  let dir: string;
  beforeAll(async () => {
    place = createTestPlace('sqlite');
    c = await startOn(place);
    dir = mkdtempSync(join(tmpdir(), 'gbc-rebuilt-'));
  });
  afterAll(async () => {
    await c.stop();
    place.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('never replaces the NAR that the published narinfo describes', async () => {
    const a = await makeAgent(c, 'rebuild-a');
    const drv = fakeDrv('unreproducible');
    const out = drv.outputs[0]!.path;
    const [first, second] = await submit(
      c,
      [drv],
      [{ derivationPath: drv.path }, { derivationPath: drv.path }],
    );
    const fetched = (await (
      await call(c, 'POST', `/agent/${a.id}/fetch-builds`, a.auth, { count: 2, systems: ['x86_64-linux'] })
    ).json()) as { builds: { uuid: string }[] };
    expect(fetched.builds.map((b) => b.uuid).sort()).toEqual([first, second].sort());
    const upload = (build: string, nar: Buffer) =>
      c.agentApp.request(`/build/${build}/output/out`, {
        method: 'PUT',
        headers: {
          ...encodeUploadHeaders({ narHash: narHashOf(nar), narSize: nar.length, references: [] }),
          Authorization: a.auth,
          'Content-Type': 'application/x-nix-nar',
        },
        body: nar,
      });
    const served = async (): Promise<{ narHash: string | undefined; bytes: Buffer }> => {
      const narinfo = await (
        await c.agentApp.request(`/${out.slice('/gnu/store/'.length, '/gnu/store/'.length + 32)}.narinfo`)
      ).text();
      const field = (name: string) =>
        narinfo
          .split('\n')
          .find((l) => l.startsWith(`${name}: `))
          ?.slice(name.length + 2);
      const res = await c.agentApp.request(`/${field('URL')}`);
      expect(res.status).toBe(200);
      return { narHash: field('NarHash'), bytes: Buffer.from(await res.arrayBuffer()) };
    };
    const sha256 = (b: Buffer) => `sha256:${encodeNix32(createHash('sha256').update(b).digest())}`;

    for (const build of [first!, second!])
      expect((await call(c, 'POST', `/build/${build}/report-build-start`, a.auth)).status).toBe(204);
    const one = makeNar(join(dir, 'one'), 1000);
    expect((await upload(first!, one)).status).toBe(200);
    expect(
      (await call(c, 'POST', `/build/${first}/report-result`, a.auth, { result: 'success' })).status,
    ).toBe(204);
    expect((await served()).narHash).toBe(sha256(one));

    const two = makeNar(join(dir, 'two'), 1000);
    expect(sha256(two)).not.toBe(sha256(one));
    expect((await upload(second!, two)).status).toBe(200);
    let now = await served();
    expect(now.narHash).toBe(sha256(one));
    expect(sha256(now.bytes)).toBe(sha256(one));
    expect(
      (
        await call(c, 'POST', `/build/${second}/report-result`, a.auth, {
          result: 'build-failure',
          message: 'differs',
        })
      ).status,
    ).toBe(204);
    now = await served();
    expect(sha256(now.bytes)).toBe(now.narHash);
    expect(now.narHash).toBe(sha256(one));
  });
});
