// Ed25519 keys in the format of `nix-store --generate-binary-cache-key`:
// `name:base64(64-byte secret)` and `name:base64(32-byte public key)`.
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { quote } from '../errors.js';
import { SignatureError } from './signature-error.js';

/** A secret signing key: its name and node:crypto key objects. */
export interface SecretKey {
  /** Key name, e.g. `cache.example.org-1`; it prefixes every signature made with it. */
  readonly name: string;
  readonly privateKey: KeyObject;
  /** The 32-byte public half. */
  readonly publicKey: Uint8Array;
}

/** A public key to verify signatures with. */
export interface PublicKey {
  readonly name: string;
  readonly key: KeyObject;
  /** The 32 raw bytes. */
  readonly bytes: Uint8Array;
}

// PKCS#8 DER wrapping of a raw 32-byte Ed25519 seed (RFC 8410): the seed follows this prefix.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Splits `name:base64` and decodes the bytes, which must be `length` long. */
export function splitNamedBase64(
  text: string,
  length: number,
  what: string,
  code = 'signature-bad-key',
): { name: string; bytes: Buffer } {
  const colon = text.indexOf(':');
  const name = text.slice(0, colon);
  const body = text.slice(colon + 1).trim();
  const bytes = Buffer.from(body, 'base64');
  if (colon <= 0 || !B64.test(body) || body.length % 4 !== 0 || bytes.length !== length) {
    throw new SignatureError(code, `malformed ${what}`, {
      expected: `<name>:<base64 of ${length} bytes>`,
      found: quote(text.length > 20 ? `${text.slice(0, 20)}…` : text),
    });
  }
  return { name, bytes };
}

/** Parses a secret key file's text (`name:base64(seed ‖ public key)`, 64 bytes). */
export function parseSecretKey(text: string): SecretKey {
  const { name, bytes } = splitNamedBase64(text, 64, 'secret key');
  return secretKeyFromSeed(name, bytes.subarray(0, 32), bytes.subarray(32));
}

/** Parses a public key (`name:base64(32 bytes)`), as given to `trusted-public-keys`. */
export function parsePublicKey(text: string): PublicKey {
  const { name, bytes } = splitNamedBase64(text, 32, 'public key');
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: bytes.toString('base64url') },
    format: 'jwk',
  });
  return { name, key, bytes: new Uint8Array(bytes) };
}

/**
 * Makes a secret key from its 32-byte seed (RFC 8032 private key). When
 * `expectedPublic` is given it must match the seed's public key, as a Nix
 * secret key file carries both.
 */
export function secretKeyFromSeed(name: string, seed: Uint8Array, expectedPublic?: Uint8Array): SecretKey {
  if (name === '' || name.includes(':'))
    throw new SignatureError('signature-bad-key', 'a key name is non-empty and has no colon', {
      found: quote(name),
    });
  if (seed.length !== 32)
    throw new SignatureError('signature-bad-key', 'an Ed25519 seed is 32 bytes', {
      found: String(seed.length),
    });
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = publicBytes(privateKey);
  if (expectedPublic !== undefined && !Buffer.from(expectedPublic).equals(Buffer.from(publicKey))) {
    throw new SignatureError(
      'signature-bad-key',
      'the secret key holds a public key that does not belong to it',
      { field: name },
    );
  }
  return { name, privateKey, publicKey };
}

/** Generates a fresh key pair from the system's CSPRNG (as `nix-store --generate-binary-cache-key` does). */
export function generateSecretKey(name: string): SecretKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  const d = privateKey.export({ format: 'jwk' }).d;
  return secretKeyFromSeed(name, Buffer.from(d ?? '', 'base64url'));
}

/** Formats a secret key as Nix writes its key file: `name:base64(seed ‖ public key)`. */
export function formatSecretKey(key: SecretKey): string {
  const d = key.privateKey.export({ format: 'jwk' }).d ?? '';
  return `${key.name}:${Buffer.concat([Buffer.from(d, 'base64url'), key.publicKey]).toString('base64')}`;
}

/** Formats the public half: `name:base64(32 bytes)`, the form `trusted-public-keys` takes. */
export function formatPublicKey(key: SecretKey | PublicKey): string {
  const bytes = 'bytes' in key ? key.bytes : key.publicKey;
  return `${key.name}:${Buffer.from(bytes).toString('base64')}`;
}

/** The public key of a secret key, for verification. */
export function publicKeyOf(key: SecretKey): PublicKey {
  return parsePublicKey(formatPublicKey(key));
}

function publicBytes(privateKey: KeyObject): Uint8Array {
  const x = createPublicKey(privateKey).export({ format: 'jwk' }).x ?? '';
  return new Uint8Array(Buffer.from(x, 'base64url'));
}
