// Output references declared by an agent (issue 19, item 7), through the
// agent API of a real coordinator: they were published unchecked, so an agent
// could make clients fetch any path with an output. Now a declared reference
// outside the build's closure, or one whose hash part does not occur in the
// NAR, is refused with nothing stored; honest references (an input's output,
// the output itself) are accepted. The scanner finds hash parts across chunk
// boundaries.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeUploadHeaders } from '@gbc/protocol';
import { getOutputMetadata, recordDerivations, recordOutputMetadata } from '@gbc/datastore';
import type { DerivationRecord } from '@gbc/datastore';
import type { Coordinator } from '../coordinator/create-coordinator.js';
import { narHashOf } from '../test-support/upload-fixtures.js';
import { HashPartScanner, hashPartOf } from './output-references.js';
import { call, createTestPlace, fakeDrv, makeAgent, startedBuild, startOn } from './test-support.js';
import type { TestPlace } from './test-support.js';

const work = mkdtempSync(join(tmpdir(), 'gbc-refs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The NAR (nix-store --dump) of a file holding `text`. */
function fileNar(text: string): Buffer {
  const path = join(mkdtempSync(join(work, 'item-')), 'item');
  writeFileSync(path, text);
  return execFileSync('nix-store', ['--dump', path]);
}
const base = (path: string) => path.slice(path.lastIndexOf('/') + 1);

describe('output references', () => {
  let place: TestPlace;
  let c: Coordinator;
  let agent: Awaited<ReturnType<typeof makeAgent>>;
  let input: DerivationRecord;
  let stranger: DerivationRecord;
  beforeAll(async () => {
    place = createTestPlace('sqlite');
    c = await startOn(place);
    agent = await makeAgent(c, 'referencing-agent');
    input = fakeDrv('lib');
    // Known to the coordinator, but no part of the builds below.
    stranger = fakeDrv('malware');
    await recordDerivations(c.context.datastore.db, [input, stranger]);
    // The input is held (as if built or substituted), so a build that needs it is ready.
    await recordOutputMetadata(c.context.datastore.db, [
      {
        storePath: input.outputs[0]!.path,
        narHash: narHashOf(fileNar('lib\n')),
        narSize: 1,
        references: [],
        files: [],
      },
    ]);
  });
  afterAll(async () => {
    await c.stop();
    place.remove();
  });

  const started = (drv: DerivationRecord) => startedBuild(c, agent, drv);
  const upload = async (build: string, nar: Buffer, references: string[]) => {
    const res = await c.agentApp.request(`/build/${build}/output/out`, {
      method: 'PUT',
      body: nar,
      headers: {
        ...encodeUploadHeaders({
          narHash: narHashOf(nar),
          narSize: nar.length,
          references: references.map(base),
        }),
        Authorization: agent.auth,
        'Content-Type': 'application/x-nix-nar',
      },
    });
    return {
      status: res.status,
      body: (await res.json()) as { error?: { code: string; message: string; details?: { reason: string } } },
    };
  };
  const storedNars = async () => {
    const keys: string[] = [];
    for await (const o of c.context.storage.store.list('nar')) keys.push(o.key);
    return keys.sort();
  };

  it('refuses references outside the closure or absent from the NAR, and accepts the honest ones', async () => {
    const drv = fakeDrv('app', [input]);
    const build = await started(drv);
    const own = drv.outputs[0]!.path;
    const lib = input.outputs[0]!.path;
    const evil = stranger.outputs[0]!.path;
    const before = await storedNars();

    // The stranger's path is in the NAR, but the build could not have seen it.
    const smuggled = await upload(build, fileNar(`#!${lib}/bin/sh\nexec ${evil}/bin/payload # ${own}\n`), [
      lib,
      own,
      evil,
    ]);
    expect(smuggled.status).toBe(400);
    expect(smuggled.body.error?.details?.reason).toBe('reference-outside-closure');
    expect(smuggled.body.error?.message).toContain(evil);
    // An input of the build, declared, but the NAR never mentions it.
    const invented = await upload(build, fileNar(`just ${own}\n`), [lib, own]);
    expect(invented.status).toBe(400);
    expect(invented.body.error?.details?.reason).toBe('reference-not-in-nar');
    expect(await storedNars()).toEqual(before);
    expect(
      (await call(c, 'POST', `/build/${build}/report-result`, agent.auth, { result: 'success' })).status,
    ).toBe(409);

    expect((await upload(build, fileNar(`#!${lib}/bin/sh\necho ${own}\n`), [lib, own])).status).toBe(200);
    expect(
      (await call(c, 'POST', `/build/${build}/report-result`, agent.auth, { result: 'success' })).status,
    ).toBe(204);
    expect([...((await getOutputMetadata(c.context.datastore.db, own))?.references ?? [])].sort()).toEqual(
      [lib, own].sort(),
    );
  });

  it('finds hash parts split across chunks at any point, and only whole ones', () => {
    const wanted = hashPartOf(input.outputs[0]!.path);
    const text = Buffer.from(`xx/gnu/store/${wanted}-lib and ${wanted.slice(0, 31)}!`);
    for (let cut = 0; cut <= text.length; cut++) {
      const scanner = new HashPartScanner([wanted, hashPartOf(stranger.outputs[0]!.path)]);
      scanner.update(text.subarray(0, cut));
      scanner.update(text.subarray(cut));
      expect([...scanner.found()]).toEqual([wanted]);
    }
    const truncated = new HashPartScanner([wanted]);
    truncated.update(Buffer.from(`${wanted.slice(0, 16)}`));
    truncated.update(Buffer.from(`-${wanted.slice(16)}`));
    expect(truncated.found().size).toBe(0);
  });
});
