// Submission by name against a real Nix binary cache (nix copy --derivation,
// xz, signed), served over loopback HTTP: the coordinator fetches a
// derivation it lacks with its closure, then creates the build. Hostile
// servers (tampered NARs, lying narinfos, foreign URLs, untrusted or missing
// signatures, endless answers, bombs) and absent or unreachable ones are
// refused with a clear error, nothing recorded. Guix `Signature:` narinfos
// are accepted under a trusted Guix key.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findMissingDerivations } from '@gbc/datastore';
import {
  formatGuixPublicKey,
  generateGuixSecretKey,
  parseGuixPublicKey,
  parseNarInfo,
  parsePublicKey,
  signGuixNarInfo,
  storePathHashPart,
  writeNarInfo,
  type GuixPublicKey,
  type PublicKey,
} from '@gbc/store';
import { createCoordinator, type Coordinator } from '../coordinator/create-coordinator.js';
import { instantiateNix, type NixDerivations } from '../client-api/test-support.js';
import { createManualClock } from '../clock.js';
import { silentLogger } from '../logger.js';
import type { DerivationSubstitutesOptions } from './derivation-substitutes.js';

const env = { ...process.env, NIX_REMOTE: 'daemon' };
const work = mkdtempSync(join(tmpdir(), 'gbc-drv-subst-'));
let drvs: NixDerivations;
let nixKey: PublicKey;
let otherNixKey: PublicKey;
const cache = join(work, 'cache');

/** An HTTP server over `files` (URL path → body, or a handler for hostile answers). */
type Answer = Buffer | string | ((res: ServerResponse) => void);
async function serve(files: ReadonlyMap<string, Answer>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const answer = files.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (answer === undefined) {
      res.writeHead(404).end();
    } else if (typeof answer === 'function') {
      answer(res);
    } else {
      res.writeHead(200).end(answer);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
const servers: Server[] = [];
async function serving(files: ReadonlyMap<string, Answer>): Promise<string> {
  const s = await serve(files);
  servers.push(s.server);
  return s.url;
}

/** The files of the nix-made cache, by URL path. */
function cacheFiles(): Map<string, Answer> {
  const files = new Map<string, Answer>();
  const add = (rel: string): void => void files.set(`/${rel}`, readFileSync(join(cache, rel)));
  for (const name of execFileSync('ls', [cache], { encoding: 'utf8' }).split('\n'))
    if (name.endsWith('.narinfo')) add(name);
  for (const name of execFileSync('ls', [join(cache, 'nar')], { encoding: 'utf8' }).split('\n'))
    if (name !== '') add(`nar/${name}`);
  return files;
}
const narinfoPath = (path: string): string => `/${storePathHashPart(path)}.narinfo`;
const narinfoText = (files: Map<string, Answer>, path: string): string =>
  String(files.get(narinfoPath(path)));
const narUrlOf = (files: Map<string, Answer>, path: string): string =>
  `/${/^URL: (.*)$/m.exec(narinfoText(files, path))![1]!}`;

const coordinators: Coordinator[] = [];
async function coordinatorWith(subs: DerivationSubstitutesOptions): Promise<Coordinator> {
  const dir = mkdtempSync(join(work, 'coordinator-'));
  const c = await createCoordinator({
    databaseUri: `sqlite://${join(dir, 'gbc.db')}`,
    dataDir: join(dir, 'data'),
    logger: silentLogger,
    clock: createManualClock(),
    cwd: dir,
    storeDir: '/nix/store',
    client: { derivationSubstitutes: subs },
  });
  await c.start();
  coordinators.push(c);
  return c;
}
const submit = (c: Coordinator, derivation: string) =>
  c.clientApp.request('/builds', {
    method: 'POST',
    body: JSON.stringify({ derivation }),
    headers: { 'Content-Type': 'application/json' },
  });
async function refusal(
  c: Coordinator,
  derivation: string,
): Promise<{ status: number; code: string; message: string }> {
  const res = await submit(c, derivation);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(await findMissingDerivations(c.context.datastore.db, [drvs.top, drvs.dep])).toEqual([
    drvs.top,
    drvs.dep,
  ]);
  return { status: res.status, ...body.error };
}

beforeAll(() => {
  drvs = instantiateNix();
  const key = (name: string) => {
    execFileSync(
      'nix-store',
      ['--generate-binary-cache-key', name, join(work, `${name}.sec`), join(work, `${name}.pub`)],
      { env },
    );
    return parsePublicKey(readFileSync(join(work, `${name}.pub`), 'utf8').trim());
  };
  nixKey = key('subst-1');
  otherNixKey = key('other-1');
  execFileSync(
    'nix',
    [
      'copy',
      '--derivation',
      '--to',
      `file://${cache}?compression=xz&secret-key=${join(work, 'subst-1.sec')}`,
      drvs.top,
    ],
    { env, stdio: 'pipe' },
  );
}, 60_000);

afterAll(async () => {
  for (const c of coordinators) await c.stop();
  for (const s of servers) await new Promise((resolve) => s.close(resolve));
  rmSync(work, { recursive: true, force: true });
});

describe('submission by name from a real Nix cache', () => {
  it('fetches the derivation and its closure, signatures checked, then creates the build; servers that lack it or are down are passed over', async () => {
    const empty = await serving(new Map());
    const down = await serving(new Map());
    await new Promise((resolve) => servers.pop()!.close(resolve)); // nothing listens there any more
    const c = await coordinatorWith({
      urls: [empty, down, await serving(cacheFiles())],
      nixKeys: [otherNixKey, nixKey],
    });
    const res = await submit(c, drvs.top);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { created: boolean }).created).toBe(true);
    // Both derivations are held now, byte for byte as nix-instantiate wrote them.
    for (const path of [drvs.top, drvs.dep]) {
      const back = await c.clientApp.request(`/derivation/${path.slice('/nix/store/'.length)}`);
      expect(Buffer.from(await back.arrayBuffer()).equals(Buffer.from(drvs.read(path)))).toBe(true);
    }
    // A second submission fetches nothing more (the closure is held) and finds the build.
    const again = (await (await submit(c, drvs.dep)).json()) as { created: boolean };
    expect(again.created).toBe(true);
  });

  it('refuses when no server has it (404), and when none can be reached (503)', async () => {
    const absent = await refusal(
      await coordinatorWith({ urls: [await serving(new Map())], nixKeys: [nixKey] }),
      drvs.top,
    );
    expect(absent).toMatchObject({
      status: 404,
      code: 'not-found',
      message: expect.stringContaining('no derivation substitute server has it'),
    });
    const gone = await serve(new Map());
    await new Promise((resolve) => gone.server.close(resolve));
    const unreachable = await refusal(
      await coordinatorWith({ urls: [gone.url], nixKeys: [nixKey] }),
      drvs.top,
    );
    expect(unreachable).toMatchObject({
      status: 503,
      code: 'unavailable',
      message: expect.stringContaining(gone.url),
    });
  });

  it('refuses a narinfo signed by a key it does not trust, or not signed at all, when keys are configured', async () => {
    const files = cacheFiles();
    const untrusted = await refusal(
      await coordinatorWith({ urls: [await serving(files)], nixKeys: [otherNixKey] }),
      drvs.top,
    );
    expect(untrusted).toMatchObject({
      status: 422,
      code: 'unprocessable-derivation',
      message: expect.stringContaining('not signed by a trusted key'),
    });
    files.set(narinfoPath(drvs.top), narinfoText(files, drvs.top).replace(/^Sig: .*\n/m, ''));
    const unsigned = await refusal(
      await coordinatorWith({ urls: [await serving(files)], nixKeys: [nixKey] }),
      drvs.top,
    );
    expect(unsigned.message).toContain('not signed by a trusted key');
  });

  it('refuses a NAR that does not match its narinfo, a narinfo for another path, and a NAR on another server', async () => {
    const tampered = cacheFiles();
    // dep's (valid, xz) NAR served in place of top's: well-formed, wrong hash and size.
    tampered.set(narUrlOf(tampered, drvs.top), tampered.get(narUrlOf(tampered, drvs.dep))!);
    const wrong = await refusal(
      await coordinatorWith({ urls: [await serving(tampered)], nixKeys: [nixKey] }),
      drvs.top,
    );
    expect(wrong).toMatchObject({
      status: 422,
      message: expect.stringMatching(/NAR .* (does not match|longer than)/),
    });

    const lying = cacheFiles();
    lying.set(narinfoPath(drvs.top), narinfoText(lying, drvs.dep));
    expect(
      (await refusal(await coordinatorWith({ urls: [await serving(lying)], nixKeys: [nixKey] }), drvs.top))
        .message,
    ).toContain(`its narinfo is for ${drvs.dep}`);

    const elsewhere = cacheFiles();
    // Unsigned (no keys configured) so that the rewritten URL is what is refused.
    elsewhere.set(
      narinfoPath(drvs.top),
      narinfoText(elsewhere, drvs.top).replace(/^URL: /m, 'URL: http://192.0.2.1/'),
    );
    expect(
      (await refusal(await coordinatorWith({ urls: [await serving(elsewhere)] }), drvs.top)).message,
    ).toContain('on another server');
  });

  it('bounds what a hostile server can make it read: an endless narinfo, a NAR bomb', async () => {
    const endless = new Map<string, Answer>([
      [
        narinfoPath(drvs.top),
        (res) => {
          res.writeHead(200);
          const line = Buffer.alloc(64 * 1024, 'A');
          const pump = (): void => {
            while (!res.destroyed && res.write(line));
            if (!res.destroyed) res.once('drain', pump);
          };
          pump();
        },
      ],
    ]);
    const long = await refusal(
      await coordinatorWith({ urls: [await serving(endless)], nixKeys: [nixKey] }),
      drvs.top,
    );
    expect(long).toMatchObject({ status: 503, message: expect.stringContaining('longer than 65536 bytes') });

    // A narinfo (unsigned; no keys configured) whose NAR decompresses far beyond its NarSize.
    const bombFiles = cacheFiles();
    const bomb = execFileSync('xz', ['-c', '-0'], { input: Buffer.alloc(64 << 20) });
    bombFiles.set(
      narinfoPath(drvs.top),
      narinfoText(bombFiles, drvs.top)
        .replace(/^FileSize: .*$/m, `FileSize: ${bomb.length}`)
        .replace(/^Sig: .*\n/m, ''),
    );
    bombFiles.set(narUrlOf(bombFiles, drvs.top), bomb);
    expect(
      (await refusal(await coordinatorWith({ urls: [await serving(bombFiles)] }), drvs.top)).message,
    ).toContain('longer than the NarSize');
  });

  it('without trusted keys, still refuses a text that is not the derivation its path names', async () => {
    // An unsigned narinfo for top whose NAR is dep's: hash and size made to agree, the path cannot.
    const files = cacheFiles();
    const depInfo = parseNarInfo(narinfoText(files, drvs.dep), { storeDir: '/nix/store' });
    files.set(narinfoPath(drvs.top), writeNarInfo({ ...depInfo, storePath: drvs.top, sigs: [] }));
    const refused = await refusal(await coordinatorWith({ urls: [await serving(files)] }), drvs.top);
    expect(refused).toMatchObject({ status: 422, code: 'unprocessable-derivation' });
  });

  it('accepts a Guix narinfo signed by a trusted Guix key, and refuses it under another', async () => {
    const key = generateGuixSecretKey();
    const trusted: GuixPublicKey = parseGuixPublicKey(formatGuixPublicKey(key.publicKey));
    const stranger = parseGuixPublicKey(formatGuixPublicKey(generateGuixSecretKey().publicKey));
    const files = cacheFiles();
    for (const path of [drvs.top, drvs.dep]) {
      const nix = parseNarInfo(narinfoText(files, path), { storeDir: '/nix/store' });
      const nar = execFileSync('xz', ['-d', '-c'], { input: files.get(narUrlOf(files, path)) as Buffer });
      const url = `nar/none/${path.slice('/nix/store/'.length)}`;
      files.set(`/${url}`, nar);
      const guix = signGuixNarInfo(
        {
          flavour: 'guix',
          storePath: path,
          narHash: nix.narHash,
          narSize: nix.narSize,
          references: nix.references,
          sigs: [],
          files: [{ url, compression: 'none', fileSize: nar.length }],
        },
        key,
        'gbc-test',
      );
      files.set(narinfoPath(path), writeNarInfo(guix));
    }
    const url = await serving(files);
    expect(
      (await refusal(await coordinatorWith({ urls: [url], guixKeys: [stranger] }), drvs.top)).message,
    ).toContain('not signed by a trusted key');
    const c = await coordinatorWith({ urls: [url], guixKeys: [trusted] });
    expect((await submit(c, drvs.top)).status).toBe(200);
    expect(await findMissingDerivations(c.context.datastore.db, [drvs.top, drvs.dep])).toEqual([]);
  });
});
