// A .drv from derivation substitute URLs: a real Nix binary cache (written by
// `nix copy --derivation --to file://`, served over HTTP) gives the exact
// bytes of the store's .drv; a cache that lies about the path, serves a NAR
// that is not its narinfo's, or has nothing is passed over for the next; a
// 503 is thrown (for the agent's retries). NARs that are not one regular
// file (a directory, truncated, trailing bytes, a huge length) are refused.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpNar, storePathHashPart } from '@gbc/store';
import { derivationOfNar, substituteDerivationText } from './derivation-substitute.js';
import { isAgentError } from './errors.js';
import { httpSource } from './nar-source.js';
import { Teardown } from '../test-support/teardown.js';

const env = { ...process.env, NIX_REMOTE: 'daemon' };
const dir = mkdtempSync(join(tmpdir(), 'gbc-agent-drv-subst-'));
let server: Server;
const teardown = new Teardown();
let url: string;
let drvPath: string;
let otherDrv: string;

/** The NAR of `path` as one buffer. */
async function narOf(path: string | Uint8Array): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of dumpNar(path)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** A NAR string: its length (8 bytes, little-endian), its bytes, zero padding to 8. */
function narString(s: string | Uint8Array): Buffer {
  const bytes = Buffer.from(s);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(bytes.length));
  return Buffer.concat([length, bytes, Buffer.alloc((8 - (bytes.length % 8)) % 8)]);
}

beforeAll(async () => {
  const nonce = randomUUID();
  writeFileSync(
    join(dir, 'drv.nix'),
    `
let mk = name: derivation { inherit name; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo ${nonce} > $out" ]; };
in { one = mk "gbc-drv-subst-one"; two = mk "gbc-drv-subst-two"; }`,
  );
  const instantiate = (attr: string) =>
    execFileSync('nix-instantiate', [join(dir, 'drv.nix'), '-A', attr], {
      encoding: 'utf8',
      env,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  drvPath = instantiate('one');
  otherDrv = instantiate('two');
  execFileSync(
    'nix',
    ['copy', '--derivation', '--to', `file://${join(dir, 'good')}?compression=xz`, drvPath],
    { env, stdio: 'pipe' },
  );
  // "liar": answers for drvPath with the narinfo of another derivation.
  execFileSync('nix', ['copy', '--derivation', '--to', `file://${join(dir, 'other')}`, otherDrv], {
    env,
    stdio: 'pipe',
  });
  mkdirSync(join(dir, 'liar'));
  writeFileSync(
    join(dir, 'liar', `${storePathHashPart(drvPath)}.narinfo`),
    readFileSync(join(dir, 'other', `${storePathHashPart(otherDrv)}.narinfo`)),
  );
  // "corrupt": drvPath's narinfo, and a NAR of the same size that is not the one it names.
  execFileSync(
    'nix',
    ['copy', '--derivation', '--to', `file://${join(dir, 'corrupt')}?compression=none`, drvPath],
    { env, stdio: 'pipe' },
  );
  for (const f of readdirSync(join(dir, 'corrupt', 'nar'))) {
    const nar = readFileSync(join(dir, 'corrupt', 'nar', f));
    nar.writeUInt8(nar.readUInt8(nar.length - 20) ^ 1, nar.length - 20);
    writeFileSync(join(dir, 'corrupt', 'nar', f), nar);
  }
  server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!).replace(/\.\./g, '');
    if (path.startsWith('/busy/')) {
      res.statusCode = 503;
      res.end('busy');
      return;
    }
    const [, root, ...rest] = path.split('/');
    // The liar's NARs are the other cache's.
    const base = root === 'liar' && rest[0] === 'nar' ? 'other' : root!;
    try {
      res.end(readFileSync(join(dir, base, ...rest)));
    } catch {
      res.statusCode = 404;
      res.end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  teardown.defer(() => new Promise<void>((r) => server.close(() => r())));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await teardown.run();
  rmSync(dir, { recursive: true, force: true });
});

const source = (name: string) => httpSource(`${url}/${name}`, '/nix/store');

describe('substituteDerivationText', () => {
  it('gives the exact bytes of the .drv from a real Nix binary cache', async () => {
    expect(Buffer.from((await substituteDerivationText([source('good')], drvPath))!)).toEqual(
      readFileSync(drvPath),
    );
  });

  it("passes over a cache with nothing, one naming another path, one whose NAR is not its narinfo's, and takes the next", async () => {
    for (const bad of ['empty', 'liar', 'corrupt']) {
      expect(await substituteDerivationText([source(bad)], drvPath), bad).toBeNull();
    }
    const text = await substituteDerivationText(['empty', 'liar', 'corrupt', 'good'].map(source), drvPath);
    expect(Buffer.from(text!)).toEqual(readFileSync(drvPath));
  });

  it('throws a cache that answers 503, for the caller to retry, rather than pass it over', async () => {
    const error = await substituteDerivationText([source('busy'), source('good')], drvPath).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isAgentError(error) && error.code).toBe('source-unavailable');
  });
});

// The NAR rules themselves are tested in @gbc/store (regularFileOfNar); here, the agent's reading of them.
describe('derivationOfNar', () => {
  it('takes the contents of a file NAR, executable or not', async () => {
    const file = join(dir, 'plain');
    writeFileSync(file, 'Derive(…)');
    expect(Buffer.from(await derivationOfNar(await narOf(file))).toString()).toBe('Derive(…)');
    const executable = Buffer.concat(
      ['nix-archive-1', '(', 'type', 'regular', 'executable', '', 'contents', 'x', ')'].map(narString),
    );
    expect(Buffer.from(await derivationOfNar(executable)).toString()).toBe('x');
  });

  it('refuses a directory, a truncated NAR, trailing bytes and a length past the end as bad-derivation', async () => {
    mkdirSync(join(dir, 'tree'));
    writeFileSync(join(dir, 'tree', 'f'), 'f');
    const good = await narOf(join(dir, 'drv.nix'));
    const huge = Buffer.concat([
      ...['nix-archive-1', '(', 'type', 'regular', 'contents'].map(narString),
      Buffer.from([0, 0, 0, 0, 0, 0, 0, 0x40]),
    ]);
    for (const nar of [
      await narOf(join(dir, 'tree')),
      good.subarray(0, good.length - 8),
      Buffer.concat([good, narString('more')]),
      huge,
      Buffer.alloc(0),
    ]) {
      const error = await derivationOfNar(nar).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isAgentError(error) && error.code).toBe('bad-derivation');
    }
  });
});
