// Nix detached signatures: `<key name>:base64(Ed25519 signature of the text)`.
import { sign, verify } from 'node:crypto';
import type { PublicKey, SecretKey } from './signing-key.js';
import { splitNamedBase64 } from './signing-key.js';
import { SignatureError } from './signature-error.js';

/** Signs `text` (UTF-8) with `key`; returns `name:base64(64-byte signature)`. Deterministic (RFC 8032). */
export function signDetached(key: SecretKey, text: string): string {
  const sig = sign(null, Buffer.from(text, 'utf8'), key.privateKey);
  return `${key.name}:${sig.toString('base64')}`;
}

/**
 * Checks a `name:base64` signature of `text` against the keys: true when a key
 * of that name is among them and the signature verifies with it. A malformed
 * signature is simply not valid (as in Nix); unknown key names are not valid.
 */
export function verifyDetached(keys: readonly PublicKey[], text: string, sig: string): boolean {
  let parsed: { name: string; bytes: Buffer };
  try {
    parsed = splitNamedBase64(sig, 64, 'signature', 'signature-bad-sig');
  } catch (error) {
    if (error instanceof SignatureError) return false;
    throw error;
  }
  const data = Buffer.from(text, 'utf8');
  return keys.some((k) => k.name === parsed.name && verify(null, data, k.key, parsed.bytes));
}
