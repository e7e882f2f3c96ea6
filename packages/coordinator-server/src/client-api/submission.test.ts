// Submission through app.request() with a real coordinator and datastore:
// missing paths, derivation uploads checked against nix-instantiate's own
// derivations and synthetic /gnu/store ones, input-source NARs, POST /builds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeDerivationText, encodeUploadHeaders } from '@gbc/protocol';
import { writeDerivation } from '@gbc/store';
import {
  DIALECTS,
  outboxCount,
  addNixSources,
  instantiateNix,
  narOf,
  startTestCoordinator,
  syntheticDerivation,
} from './test-support.js';
import type { NixDerivations, TestCoordinator } from './test-support.js';

const upload = (t: TestCoordinator, drvs: readonly { path: string; bytes: Uint8Array }[]) =>
  t.json('POST', '/derivations', {
    derivations: drvs.map((d) => ({ path: d.path, text: encodeDerivationText(d.bytes) })),
  });

describe.each(DIALECTS)('client submission on %s', (dialect) => {
  let t: TestCoordinator;
  let nix: NixDerivations;
  beforeAll(async () => {
    t = await startTestCoordinator(dialect, '/nix/store', 256 * 1024);
    nix = instantiateNix();
  });
  // undefined when beforeAll failed before the coordinator started
  afterAll(async () => (t as TestCoordinator | undefined)?.close());

  it('lists every path as missing at first, in request order', async () => {
    const res = await t.json('POST', '/derivations/missing', { paths: [nix.top, nix.source, nix.dep] });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ missing: [nix.top, nix.source, nix.dep] });
  });

  it('refuses a derivation whose input derivation is not held (422 naming it)', async () => {
    const res = await upload(t, [{ path: nix.top, bytes: nix.read(nix.top) }]);
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('unprocessable-derivation');
    expect(body.error.message).toContain(nix.dep);
  });

  it('accepts nix-instantiate derivations, dependencies first, and is idempotent', async () => {
    const dep = await upload(t, [{ path: nix.dep, bytes: nix.read(nix.dep) }]);
    expect(dep.status).toBe(200);
    expect(await dep.json()).toEqual({ stored: [nix.dep] });
    const put = await t.request(`/derivation/${nix.top.slice('/nix/store/'.length)}`, {
      method: 'PUT',
      body: nix.read(nix.top),
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    expect(put.status).toBe(200);
    const again = await upload(t, [
      { path: nix.top, bytes: nix.read(nix.top) },
      { path: nix.dep, bytes: nix.read(nix.dep) },
    ]);
    expect(await again.json()).toEqual({ stored: [nix.top, nix.dep] });
    const missing = await t.json('POST', '/derivations/missing', { paths: [nix.top, nix.dep, nix.source] });
    expect(await missing.json()).toEqual({ missing: [nix.source] });
  });

  it('gives back the exact bytes of a held derivation, 404 for others', async () => {
    const res = await t.request(`/derivation/${nix.dep.slice('/nix/store/'.length)}`);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(nix.read(nix.dep));
    const other = await t.request('/derivation/00000000000000000000000000000000-nothing.drv');
    expect(other.status).toBe(404);
  });

  it('accepts a /gnu/store closure in one batch in any order', async () => {
    const a = syntheticDerivation(`gnu-a-${dialect}`);
    const b = syntheticDerivation(`gnu-b-${dialect}`, [a]);
    const c = syntheticDerivation(`gnu-c-${dialect}`, [a, b]);
    const res = await upload(t, [c, b, a]);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { stored: string[] }).stored).toEqual([c.path, b.path, a.path]);
    // A dependent uploaded later finds its inputs' modulo hashes from the datastore.
    const d = syntheticDerivation(`gnu-d-${dialect}`, [c]);
    expect((await upload(t, [d])).status).toBe(200);
  });

  it('refuses a derivation whose path does not match its text', async () => {
    const a = syntheticDerivation(`gnu-wrong-path-${dialect}`);
    const other = syntheticDerivation(`gnu-other-${dialect}`);
    const res = await upload(t, [{ path: other.path, bytes: a.bytes }]);
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: { code: string; details: { problems: { code: string }[] } } };
    expect(body.error.code).toBe('unprocessable-derivation');
    expect(body.error.details.problems.map((p) => p.code)).toContain('drv-path');
  });

  it('refuses a derivation whose output path is wrong even when its own path matches', async () => {
    const good = syntheticDerivation(`gnu-out-${dialect}`);
    const wrongOut = '/gnu/store/00000000000000000000000000000000-gnu-out';
    const tampered = {
      ...good.derivation,
      outputs: new Map([['out', { path: wrongOut, hashAlgo: '', hash: '' }]]),
      env: new Map([...good.derivation.env, ['out', wrongOut]]),
    };
    const bytes = writeDerivation(tampered);
    const { computeDerivationPath } = await import('@gbc/store');
    const path = computeDerivationPath(tampered, `gnu-out-${dialect}`, '/gnu/store', bytes);
    const res = await upload(t, [{ path, bytes }]);
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: { details: { problems: { code: string }[] } } };
    expect(body.error.details.problems.map((p) => p.code)).toContain('drv-output-path');
    expect(await (await t.json('POST', '/derivations/missing', { paths: [path] })).json()).toEqual({
      missing: [path],
    });
  });

  it('refuses malformed derivation text with 422 and invalid bodies with 400', async () => {
    const res = await upload(t, [
      {
        path: '/gnu/store/00000000000000000000000000000000-x.drv',
        bytes: new TextEncoder().encode('Derive([("out"'),
      },
    ]);
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unprocessable-derivation');
    expect(
      (await t.json('POST', '/derivations', { derivations: [{ path: 'not a path', text: 'AA==' }] })).status,
    ).toBe(400);
    expect((await t.json('POST', '/derivations', { derivations: [] })).status).toBe(400);
    expect(
      (
        await t.request('/derivations', {
          method: 'POST',
          body: '{not json',
          headers: { 'Content-Type': 'application/json' },
        })
      ).status,
    ).toBe(400);
    expect((await t.json('POST', '/derivations/missing', { paths: ['relative/path'] })).status).toBe(400);
  });

  it('refuses oversized bodies with 413', async () => {
    const big = 'A'.repeat(300 * 1024);
    const json = await t.json('POST', '/derivations/missing', { paths: [], pad: big });
    expect(json.status).toBe(413);
    expect(((await json.json()) as { error: { code: string } }).error.code).toBe('payload-too-large');
    const raw = await t.request('/derivation/00000000000000000000000000000000-x.drv', {
      method: 'PUT',
      body: new Uint8Array(300 * 1024),
    });
    expect(raw.status).toBe(413);
  });

  it('stores an input source NAR after checking its hash, size and references', async () => {
    const { nar, narHash, narSize } = narOf(nix.source);
    const name = nix.source.slice('/nix/store/'.length);
    const wrong = await t.request(`/source/${name}`, {
      method: 'PUT',
      body: nar,
      headers: encodeUploadHeaders({ narHash: narOf(nix.dep).narHash, narSize, references: [] }),
    });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('hash-mismatch');
    const refs = await t.request(`/source/${name}`, {
      method: 'PUT',
      body: nar,
      headers: encodeUploadHeaders({
        narHash,
        narSize,
        references: ['00000000000000000000000000000000-absent'],
      }),
    });
    expect(refs.status).toBe(422);
    expect(((await refs.json()) as { error: { code: string } }).error.code).toBe('missing-references');
    const bad = await t.request(`/source/${name}`, {
      method: 'PUT',
      body: nar,
      headers: { 'x-gbc-nar-hash': 'md5:xyz', 'x-gbc-nar-size': String(narSize) },
    });
    expect(bad.status).toBe(400);
    const ok = await t.request(`/source/${name}`, {
      method: 'PUT',
      body: nar,
      headers: encodeUploadHeaders({ narHash, narSize, references: [] }),
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({
      path: nix.source,
      narHash,
      narSize,
      compression: 'none',
      fileSize: narSize,
    });
    expect(
      await (await t.json('POST', '/derivations/missing', { paths: [nix.source, nix.top] })).json(),
    ).toEqual({ missing: [] });
  });

  it('checks a source path against its content and never replaces a held source', async () => {
    const added = addNixSources();
    const dirNar = narOf(added.directory);
    const dirName = added.directory.slice('/nix/store/'.length);
    const flatName = added.flat.slice('/nix/store/'.length);
    const wrongName = await t.request(`/source/${flatName}`, {
      method: 'PUT',
      body: dirNar.nar,
      headers: encodeUploadHeaders({ narHash: dirNar.narHash, narSize: dirNar.narSize, references: [] }),
    });
    expect(wrongName.status).toBe(400);
    const flatNar = narOf(nix.source);
    const wrongFile = await t.request(`/source/${flatName}`, {
      method: 'PUT',
      body: flatNar.nar,
      headers: encodeUploadHeaders({ narHash: flatNar.narHash, narSize: flatNar.narSize, references: [] }),
    });
    expect(wrongFile.status).toBe(400);
    expect(await (await t.json('POST', '/derivations/missing', { paths: [added.flat] })).json()).toEqual({
      missing: [added.flat],
    });
    const ok = await t.request(`/source/${dirName}`, {
      method: 'PUT',
      body: dirNar.nar,
      headers: encodeUploadHeaders({ narHash: dirNar.narHash, narSize: dirNar.narSize, references: [] }),
    });
    expect(ok.status).toBe(200);
    const flat = narOf(added.flat);
    expect(
      (
        await t.request(`/source/${flatName}`, {
          method: 'PUT',
          body: flat.nar,
          headers: encodeUploadHeaders({ narHash: flat.narHash, narSize: flat.narSize, references: [] }),
        })
      ).status,
    ).toBe(200);
    // Held already: the body is not received again, whatever it holds.
    const again = await t.request(`/source/${dirName}`, {
      method: 'PUT',
      body: new Uint8Array(16),
      headers: encodeUploadHeaders({ narHash: flat.narHash, narSize: 16, references: [] }),
    });
    expect(await again.json()).toEqual({
      path: added.directory,
      narHash: dirNar.narHash,
      narSize: dirNar.narSize,
      compression: 'none',
      fileSize: dirNar.narSize,
    });
  });

  it('creates builds with options, skips existing ones, and enqueues build-submitted events', async () => {
    const before = await outboxCount(t.coordinator.context.datastore.db, 'build-submitted');
    const res = await t.json('POST', '/builds', {
      derivation: nix.top,
      priority: 5,
      tags: [{ key: 'job', value: 'x' }],
      deferUntil: '2030-01-01T00:00:00.000Z',
      timeoutSeconds: 60,
      maxSilentTimeSeconds: 30,
      ensureAllRelatedDerivationOutputsHaveSuccessfulBuilds: true,
    });
    expect(res.status).toBe(200);
    const created = (await res.json()) as { uuid: string; created: boolean; relatedBuilds: string[] };
    expect(created.created).toBe(true);
    expect(created.relatedBuilds).toHaveLength(1);
    const related = (await (await t.request(`/build/${created.relatedBuilds[0]}`)).json()) as {
      derivation: string;
      priority: number;
    };
    expect(related).toMatchObject({ derivation: nix.dep, priority: 5 });
    const shown = (await (await t.request(`/build/${created.uuid}`)).json()) as Record<string, unknown>;
    expect(shown).toMatchObject({
      derivation: nix.top,
      priority: 5,
      state: 'queued',
      deferUntil: '2030-01-01T00:00:00.000Z',
      timeoutSeconds: 60,
      maxSilentTimeSeconds: 30,
      tags: [{ key: 'job', value: 'x' }],
    });
    expect(await outboxCount(t.coordinator.context.datastore.db, 'build-submitted')).toBe(before + 2);
    const skipped = await t.json('POST', '/builds', {
      derivation: nix.top,
      ignoreIfBuildForDerivationExists: true,
      ensureAllRelatedDerivationOutputsHaveSuccessfulBuilds: true,
    });
    expect(await skipped.json()).toEqual({
      uuid: created.uuid,
      created: false,
      reason: 'build-for-derivation-exists',
      relatedBuilds: [],
    });
  });

  it('skips a build when a build of another derivation with the same outputs exists', async () => {
    const hash = 'ab'.repeat(32);
    const one = syntheticDerivation(
      `fixed-${dialect}`,
      [],
      'x86_64-linux',
      '/gnu/store',
      hash,
      'fetch one way',
    );
    const two = syntheticDerivation(
      `fixed-${dialect}`,
      [],
      'x86_64-linux',
      '/gnu/store',
      hash,
      'fetch another way',
    );
    expect(one.path).not.toBe(two.path);
    expect(one.outputs.get('out')).toBe(two.outputs.get('out'));
    expect((await upload(t, [one, two])).status).toBe(200);
    const first = (await (await t.json('POST', '/builds', { derivation: one.path })).json()) as {
      uuid: string;
    };
    const second = await t.json('POST', '/builds', {
      derivation: two.path,
      ignoreIfBuildForOutputsExists: true,
    });
    expect(await second.json()).toEqual({
      uuid: first.uuid,
      created: false,
      reason: 'build-for-outputs-exists',
      relatedBuilds: [],
    });
    const third = (await (
      await t.json('POST', '/builds', { derivation: two.path, ignoreIfBuildForDerivationExists: true })
    ).json()) as { created: boolean };
    expect(third.created).toBe(true);
  });

  it('answers 404 for a derivation it does not hold and 400 for bad options', async () => {
    const res = await t.json('POST', '/builds', {
      derivation: '/gnu/store/00000000000000000000000000000000-absent.drv',
    });
    expect(res.status).toBe(404);
    expect((await t.json('POST', '/builds', { derivation: nix.top, priority: 1.5 })).status).toBe(400);
    expect(
      (
        await t.json('POST', '/builds', {
          derivation: nix.top,
          tags: [
            { key: 'a', value: '1' },
            { key: 'a', value: '2' },
          ],
        })
      ).status,
    ).toBe(400);
  });
});
