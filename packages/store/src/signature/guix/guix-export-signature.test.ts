// Export (import-paths) signatures against the real thing: byte for byte what
// `guix authenticate sign` writes, accepted by real guix-daemons, and each
// refusal (unsigned, unauthorised key, tampered NAR) a recognisable DaemonError.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonError } from '../../daemon/errors.js';
import { createBuildDaemon, type NativeBuildDaemon } from '../../daemon/native-daemon.js';
import { exportSignedHash } from '../../export/export-signature.js';
import { makeHash, sha256 } from '../../hash/index.js';
import { dumpNar } from '../../nar/index.js';
import { makeSourcePath } from '../../store-path/index.js';
import {
  guixDaemons,
  guixDir,
  machineGuixKey,
  startGuixDaemon,
  type GuixDaemonProcess,
} from '../../testing/index.js';
import { guixImportSignature, signGuixExportHash } from './guix-export-signature.js';
import { generateGuixSecretKey, parseGuixSecretKey } from './guix-key.js';
import { GUIX_FIXTURES } from './guile-oracle-test-support.js';

const KEY_FILE = '/etc/guix/signing-key.sec';
const daemons = guixDaemons();
const oracle = daemons[0]!;

/** Sends `guix authenticate` one request per line; returns each reply's code and text. */
async function authenticate(requests: readonly string[]): Promise<{ code: number; text: Buffer }[]> {
  const child = spawn(join(guixDir()!, 'scheme', 'bin', 'guix'), ['authenticate'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.stdin.end(requests.map((r) => `${r}\n`).join(''), 'latin1');
  expect({ code: await exited, stderr: Buffer.concat(err).toString('utf8') }).toEqual({
    code: 0,
    stderr: '',
  });
  let rest = Buffer.concat(out);
  const replies: { code: number; text: Buffer }[] = [];
  while (rest.length > 0) {
    const header = /^(\d+) (\d+):/.exec(rest.toString('latin1', 0, 32));
    if (header === null)
      throw new Error(`unexpected reply from guix authenticate: ${rest.toString('latin1', 0, 80)}`);
    const start = header[0].length;
    const end = start + Number(header[2]);
    replies.push({ code: Number(header[1]), text: rest.subarray(start, end) });
    rest = rest.subarray(end);
  }
  return replies;
}

const field = (text: string | Uint8Array): string =>
  `${Buffer.byteLength(text)}:${Buffer.from(text).toString('latin1')}`;

describe.skipIf(oracle.skip !== undefined)(
  `guix authenticate as the oracle${oracle.skip === undefined ? '' : ` (skipped: ${oracle.skip})`}`,
  () => {
    it('signs export hashes byte for byte as `guix authenticate sign` does, and verifies', async () => {
      const key = machineGuixKey(KEY_FILE);
      const hashes = [
        sha256('gbc'),
        new Uint8Array(32),
        new Uint8Array(32).fill(0xff),
        ...Array.from({ length: 5 }, () => new Uint8Array(randomBytes(32))),
      ];
      const ours = hashes.map((hash) => signGuixExportHash(hash, key));
      const theirs = await authenticate(
        hashes.map((hash) => `sign ${field(KEY_FILE)} ${field(Buffer.from(hash).toString('hex'))}`),
      );
      expect(theirs.map((r) => r.code)).toEqual(hashes.map(() => 0));
      expect(theirs.map((r) => r.text.toString('latin1'))).toEqual(
        ours.map((s) => Buffer.from(s).toString('latin1')),
      );
      // Left out of `verify`: the all-0xff hash, which guix authenticate itself cannot verify
      // (libgcrypt prints it as a string, and Guix then fails to hex-encode it).
      const checked = hashes.filter((_, i) => i !== 2);
      const verified = await authenticate(ours.filter((_, i) => i !== 2).map((s) => `verify ${field(s)}`));
      expect(verified).toEqual(
        checked.map((hash) => ({ code: 0, text: Buffer.from(Buffer.from(hash).toString('hex')) })),
      );
    });

    it('writes a "printable" r or s as `guix authenticate sign` does: its bytes as they are', async () => {
      // Hashes whose signature by the fixture key has an r or s that libgcrypt writes as a
      // quoted string with bytes >= 0x80 (about one in 4,000; found by search, as in
      // guix-sign.test.ts). A narinfo's Signature carries those bytes as UTF-8 characters;
      // `guix authenticate`, and so an export trailer, carries them as ISO-8859-1 bytes.
      const keyFile = join(GUIX_FIXTURES, 'signing-key.sec');
      const key = parseGuixSecretKey(readFileSync(keyFile, 'utf8'));
      const hashes = ['printable-7305', 'printable-19994', 'printable-25364'].map((t) => sha256(t));
      const ours = hashes.map((hash) => Buffer.from(signGuixExportHash(hash, key)));
      for (const s of ours) expect(s.toString('latin1')).toMatch(/\((r|s) "[^\n]*[\u0080-\u00ff]/);
      const theirs = await authenticate(
        hashes.map((hash) => `sign ${field(keyFile)} ${field(Buffer.from(hash).toString('hex'))}`),
      );
      expect(theirs.map((r) => r.code)).toEqual(hashes.map(() => 0));
      expect(theirs.map((r) => r.text.toString('latin1'))).toEqual(ours.map((s) => s.toString('latin1')));
    });

    it('refuses a hash that is not 32 bytes', () => {
      expect(() => signGuixExportHash(new Uint8Array(31), machineGuixKey(KEY_FILE))).toThrow(/32 bytes/);
    });
  },
);

const scratch = mkdtempSync(join(tmpdir(), 'gbc-guix-sign-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The NAR of one regular file holding `contents`. */
async function narOf(contents: string): Promise<Uint8Array> {
  const file = join(scratch, randomUUID());
  writeFileSync(file, contents);
  const chunks: Uint8Array[] = [];
  for await (const chunk of dumpNar(file)) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

for (const c of daemons) {
  describe.skipIf(c.skip !== undefined)(`signed import-paths on ${c.label}`, () => {
    let process: GuixDaemonProcess;
    let daemon: NativeBuildDaemon;
    beforeAll(async () => {
      process = await startGuixDaemon({ version: c.version });
      daemon = createBuildDaemon({ socket: process.socket, storeDir: process.storeDir, maxConnections: 1 });
      // Registered once both are open (a failed start has nothing to close); runs after the tests.
      return async () => {
        await daemon.close();
        await process.stop();
      };
    }, 60_000);

    const item = async (
      contents: string,
    ): Promise<{ nar: Uint8Array; path: string; narHash: string; narSize: number }> => {
      const nar = await narOf(contents);
      const hash = sha256(nar);
      return {
        nar,
        path: makeSourcePath('/gnu/store', 'gbc-signed', makeHash('sha256', hash)),
        narHash: Buffer.from(hash).toString('hex'),
        narSize: nar.length,
      };
    };

    it('accepts a precomputed signature over the given bytes', async () => {
      const { nar, ...info } = await item(`precomputed ${randomUUID()}\n`);
      const guixSignature = guixImportSignature(
        nar,
        { path: info.path, references: [], deriver: undefined },
        machineGuixKey(KEY_FILE),
      );
      await daemon.addNar({ ...info, references: [], guixSignature }, [
        nar.subarray(0, 10),
        nar.subarray(10),
      ]);
      expect(await daemon.queryPathInfo(info.path)).toMatchObject({
        path: info.path,
        narHash: info.narHash,
        narSize: info.narSize,
      });
    });

    it('refuses an unsigned import, an unauthorised key and a tampered NAR, each recognisably', async () => {
      const refusal = async (run: () => Promise<void>): Promise<DaemonError> => {
        const error: unknown = await run().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(DaemonError);
        return error as DaemonError;
      };
      const { nar, ...info } = await item(`refused ${randomUUID()}\n`);
      const meta = { path: info.path, references: [], deriver: undefined };
      const unsigned = await refusal(() => daemon.addNar({ ...info, references: [] }, [nar]));
      expect(unsigned).toMatchObject({
        signatureRefusal: 'unsigned',
        operation: 'import-paths',
        daemonMessage: expect.stringMatching(/lacks a signature/),
      });
      const stranger = await refusal(() =>
        daemon.addNar({ ...info, references: [], guixSigningKey: generateGuixSecretKey() }, [nar]),
      );
      expect(stranger).toMatchObject({
        signatureRefusal: 'unauthorized-key',
        daemonMessage: expect.stringMatching(/unauthorized public key/),
      });
      // Signed over these bytes, but other bytes sent.
      const guixSignature = guixImportSignature(nar, meta, machineGuixKey(KEY_FILE));
      const tampered = Buffer.from(nar);
      tampered.writeUInt8(tampered.readUInt8(tampered.length - 20) ^ 1, tampered.length - 20);
      const mismatch = await refusal(() =>
        daemon.addNar({ ...info, references: [], guixSignature }, [tampered]),
      );
      expect(mismatch).toMatchObject({
        signatureRefusal: 'hash-mismatch',
        daemonMessage: expect.stringMatching(/signed hash doesn't match/),
      });
      expect(exportSignedHash(nar, meta)).not.toEqual(exportSignedHash(tampered, meta));
      expect(await daemon.isValidPath(info.path)).toBe(false);
    });
  });
}
