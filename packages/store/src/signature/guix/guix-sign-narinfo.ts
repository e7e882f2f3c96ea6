// Signing a Guix narinfo as `guix publish` does, and checking its `Signature:`
// as `guix substitute` does: the sha256 of the text before `Signature:`, an
// ECDSA signature by an authorised key over it.
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { guixSignedText } from '../../narinfo/guix-signed-text.js';
import type { NarInfo } from '../../narinfo/narinfo-types.js';
import { decodeEdPoint } from './ed-point.js';
import { ecdsaSign, ecdsaVerify } from './ecdsa-ed25519.js';
import type { GuixPublicKey, GuixSecretKey } from './guix-key.js';
import { GuixSignatureError } from './guix-signature-error.js';
import { formatGuixSignature, parseGuixSignature } from './guix-signature-sexp.js';
import { bytesToBigInt } from './mpi.js';

/** Why a Guix signature was not accepted. */
export type GuixVerificationFailure =
  'unsigned' | 'malformed' | 'hash-mismatch' | 'untrusted-key' | 'bad-signature';

/** What {@link verifyGuixSignature} found. */
export type GuixVerification =
  | { readonly valid: true; readonly host: string; readonly key: GuixPublicKey }
  | { readonly valid: false; readonly reason: GuixVerificationFailure; readonly message: string };

function sha256(text: string | Uint8Array): Uint8Array {
  return createHash('sha256').update(text).digest();
}

/**
 * Signs `signedText` (UTF-8) with `key`; returns the `Signature:` value
 * `1;<host>;<base64>`. Deterministic: the same key and text give the bytes
 * libgcrypt gives. `host` defaults to this machine's name, as in `guix publish`.
 */
export function signGuixText(
  signedText: string | Uint8Array,
  key: GuixSecretKey,
  host: string = hostname(),
): string {
  const hash = sha256(signedText);
  const signature = ecdsaSign(bytesToBigInt(key.d), hash);
  return formatGuixSignature({ host, hash, signature, publicKey: key.publicKey });
}

/** Returns `info` (Guix flavour) with its `Signature` made by `key` over {@link guixSignedText}. */
export function signGuixNarInfo(info: NarInfo, key: GuixSecretKey, host: string = hostname()): NarInfo {
  if (info.flavour === 'nix') {
    throw new GuixSignatureError(
      'guix-signature-info',
      'only a Guix-flavour narinfo carries a Signature line',
      { found: info.flavour },
    );
  }
  return { ...info, guixSignature: signGuixText(guixSignedText(info), key, host) };
}

/**
 * Checks a `Signature:` value over `signedText` (the narinfo text before the
 * `Signature:` line): well formed, over this text's sha256, by one of
 * `trustedKeys`, and a valid ECDSA signature. Never throws for bad input.
 */
export function verifyGuixSignature(
  signedText: string | Uint8Array,
  value: string,
  trustedKeys: readonly GuixPublicKey[],
): GuixVerification {
  let parsed;
  try {
    parsed = parseGuixSignature(value);
  } catch (error) {
    if (error instanceof GuixSignatureError)
      return { valid: false, reason: 'malformed', message: error.message };
    throw error;
  }
  if (!Buffer.from(parsed.hash).equals(sha256(signedText))) {
    return {
      valid: false,
      reason: 'hash-mismatch',
      message: 'the signature covers other text than this narinfo',
    };
  }
  const signer = decodeEdPoint(parsed.publicKey.q);
  const trusted = trustedKeys.find((k) => decodeEdPoint(k.q).equals(signer));
  if (trusted === undefined)
    return {
      valid: false,
      reason: 'untrusted-key',
      message: 'the signing key is not among the trusted keys',
    };
  if (!ecdsaVerify(signer, parsed.hash, parsed.signature)) {
    return {
      valid: false,
      reason: 'bad-signature',
      message: 'the ECDSA signature does not verify with the embedded key',
    };
  }
  return { valid: true, host: parsed.host, key: trusted };
}

/** Checks the `Signature` of a parsed Guix narinfo against `trustedKeys` (see {@link verifyGuixSignature}). */
export function verifyGuixNarInfo(info: NarInfo, trustedKeys: readonly GuixPublicKey[]): GuixVerification {
  if (info.flavour === 'nix' || info.guixSignature === undefined) {
    return { valid: false, reason: 'unsigned', message: 'the narinfo has no Guix Signature line' };
  }
  return verifyGuixSignature(guixSignedText(info), info.guixSignature, trustedKeys);
}
