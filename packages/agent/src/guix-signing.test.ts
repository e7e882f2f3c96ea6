// The agent's Guix key file as read at start (good, absent, oversized,
// malformed, a public key in its place) and the messages of a refused import.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DaemonError, formatGuixPublicKey, formatGuixSecretKey, generateGuixSecretKey } from '@gbc/store';
import {
  isSignatureRefusal,
  loadGuixSigning,
  publicKeyFileOf,
  signatureRefusalMessage,
} from './guix-signing.js';

const dir = mkdtempSync(join(tmpdir(), 'gbc-agent-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `text` to a file of `dir` and returns its path. */
const file = (name: string, text: string | Uint8Array): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const PATH = `/gnu/store/${'a'.repeat(32)}-input`;

describe('loadGuixSigning', () => {
  it('reads a secret key as guix archive --generate-key writes it', async () => {
    const key = generateGuixSecretKey();
    const signing = await loadGuixSigning(file('good.sec', formatGuixSecretKey(key)));
    expect(signing.problem).toBeUndefined();
    expect(signing.key?.publicKey.q).toEqual(key.publicKey.q);
  });

  it('says why there is no key: absent, oversized, malformed, a public key', async () => {
    expect((await loadGuixSigning(join(dir, 'absent.sec'))).problem).toMatch(
      /cannot read .*absent\.sec: ENOENT/,
    );
    expect((await loadGuixSigning(file('huge.sec', new Uint8Array(100_000).fill(0x28)))).problem).toMatch(
      /huge\.sec is 100000 bytes, not a Guix secret key/,
    );
    expect((await loadGuixSigning(file('junk.sec', '(private-key (ecc (curve Ed25519)'))).problem).toMatch(
      /junk\.sec is not a Guix secret key: /,
    );
    const pub = formatGuixPublicKey(generateGuixSecretKey().publicKey);
    const asSecret = await loadGuixSigning(file('pub-as.sec', pub));
    expect(asSecret.key).toBeUndefined();
    expect(asSecret.problem).toMatch(/pub-as\.sec is not a Guix secret key: .*private-key/);
  });
});

describe('a refused import', () => {
  const refusal = (message: string): DaemonError =>
    new DaemonError({ daemonMessage: message, operation: 'import-paths' });

  it('is a signature refusal only when the daemon says so', () => {
    expect(isSignatureRefusal(refusal(`imported archive of '${PATH}' lacks a signature`))).toBe(true);
    expect(
      isSignatureRefusal(refusal('unauthorized public key: (public-key (ecc (curve Ed25519) (q #00#)))')),
    ).toBe(true);
    expect(
      isSignatureRefusal(
        refusal(
          `signed hash doesn't match actual contents of imported archive; archive could be corrupt, or someone is trying to import a Trojan horse`,
        ),
      ),
    ).toBe(true);
    expect(isSignatureRefusal(refusal(`path '${PATH}' is not valid`))).toBe(false);
    expect(isSignatureRefusal(new Error('unauthorized public key'))).toBe(false);
  });

  it('names the fix: authorize the key the agent has, or give it one', async () => {
    const keyFile = file('agent.sec', formatGuixSecretKey(generateGuixSecretKey()));
    const withKey = signatureRefusalMessage(
      PATH,
      refusal('unauthorized public key: (public-key …)'),
      await loadGuixSigning(keyFile),
    );
    expect(withKey).toBe(
      `guix-daemon refused the import of ${PATH}: unauthorized public key: (public-key …); authorize the agent's key with \`guix archive --authorize < ${join(dir, 'agent.pub')}\` on the build machine`,
    );
    const without = signatureRefusalMessage(
      PATH,
      refusal(`imported archive of '${PATH}' lacks a signature`),
      await loadGuixSigning(join(dir, 'none.sec')),
    );
    expect(without).toMatch(
      /lacks a signature; the agent signs nothing: cannot read .*none\.sec.*--guix-signing-key FILE/,
    );
    expect(publicKeyFileOf('/etc/guix/signing-key.sec')).toBe('/etc/guix/signing-key.pub');
    expect(publicKeyFileOf('/srv/key')).toBe('/srv/key.pub');
  });
});
