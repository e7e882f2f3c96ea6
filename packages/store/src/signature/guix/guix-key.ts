// Guix signing keys: the libgcrypt s-expressions of /etc/guix/signing-key.pub
// (`(public-key (ecc (curve Ed25519) (q #…#)))`) and .sec (`(private-key (ecc
// (curve Ed25519) (q #…#) (d #…#)))`): parsing, writing and generation.
import { randomBytes } from 'node:crypto';
import { quote } from '../../errors.js';
import { decodeEdPoint, encodeEdPoint } from './ed-point.js';
import { ED25519_BASE, ED25519_ORDER } from './ecdsa-ed25519.js';
import { GuixSignatureError } from './guix-signature-error.js';
import { bigIntToMpiBytes, bytesToBigInt, mod } from './mpi.js';
import type { Sexp, SexpList } from './sexp.js';
import { findSexpToken, sexpAtom, sexpAtomText, sexpTag, sexpValue } from './sexp.js';
import { parseSexp } from './sexp-parse.js';
import type { SexpForm } from './sexp-write.js';
import { writeSexp } from './sexp-write.js';

/** A Guix public key (ECC on Ed25519). */
export interface GuixPublicKey {
  /** The point `q` as written in the key (32-byte EdDSA encoding, or 0x40/0x04-prefixed). */
  readonly q: Uint8Array;
}

/** A Guix secret key; signing with it embeds its public half in each signature. */
export interface GuixSecretKey {
  /** The secret scalar `d`, big-endian, as written. */
  readonly d: Uint8Array;
  readonly publicKey: GuixPublicKey;
}

/** The public key as an s-expression, `(public-key (ecc (curve Ed25519) (q …)))`. */
export function guixPublicKeySexp(key: GuixPublicKey): SexpList {
  return [
    sexpAtom('public-key'),
    [sexpAtom('ecc'), [sexpAtom('curve'), sexpAtom('Ed25519')], [sexpAtom('q'), key.q]],
  ];
}

/** Reads the `(ecc …)` of a key: checks the curve and flags, returns it. */
function eccOf(sexp: SexpList, outer: string): SexpList {
  const bad = (message: string, found?: string): never => {
    throw new GuixSignatureError('guix-key-bad', `not a Guix key: ${message}`, {
      expected: `(${outer} (ecc (curve Ed25519) …))`,
      found,
    });
  };
  if (sexpTag(sexp) !== outer) bad(`the s-expression is not a ${outer}`, quote(sexpTag(sexp) ?? '(list)'));
  const ecc = sexp[1];
  if (ecc === undefined || sexpTag(ecc) !== 'ecc')
    return bad('no (ecc …) algorithm', quote(ecc === undefined ? '' : (sexpTag(ecc) ?? 'atom')));
  const eccList = ecc as SexpList;
  const curve = sexpAtomText(sexpValue(findSexpToken(eccList, 'curve')));
  if (curve !== 'Ed25519') bad('the curve is not Ed25519', quote(curve ?? 'none'));
  const flags =
    findSexpToken(eccList, 'flags')
      ?.slice(1)
      .map((f: Sexp) => sexpAtomText(f)) ?? [];
  if (flags.includes('eddsa'))
    bad('an EdDSA key (flags eddsa) does not make Guix (ECDSA) signatures', 'eddsa');
  return eccList;
}

/** Checks a public key value and returns the key. */
function publicKeyFromQ(q: Uint8Array | undefined): GuixPublicKey {
  if (q === undefined)
    throw new GuixSignatureError('guix-key-bad', 'not a Guix key: no (q …) point', { expected: '(q #…#)' });
  decodeEdPoint(q);
  return { q };
}

/** Parses a public key (the text of `signing-key.pub`, canonical or advanced form). */
export function parseGuixPublicKey(text: string | Uint8Array): GuixPublicKey {
  return guixPublicKeyFromSexp(parseSexp(text));
}

/** Reads a `(public-key …)` s-expression already parsed. */
export function guixPublicKeyFromSexp(sexp: SexpList): GuixPublicKey {
  return publicKeyFromQ(sexpValue(findSexpToken(eccOf(sexp, 'public-key'), 'q')));
}

/**
 * Parses a secret key (the text of `signing-key.sec`). Its `q`, when present,
 * must be d·G; when absent it is computed.
 */
export function parseGuixSecretKey(text: string | Uint8Array): GuixSecretKey {
  const ecc = eccOf(parseSexp(text), 'private-key');
  const d = sexpValue(findSexpToken(ecc, 'd'));
  if (d === undefined)
    throw new GuixSignatureError('guix-key-bad', 'not a Guix secret key: no (d …) scalar', {
      expected: '(d #…#)',
    });
  const scalar = bytesToBigInt(d);
  // libgcrypt feeds d into RFC 6979 as 32 bytes, so a longer d cannot sign.
  if (scalar >= 1n << 256n || mod(scalar, ED25519_ORDER) === 0n) {
    throw new GuixSignatureError('guix-key-bad', 'the secret scalar d is out of range', {
      expected: 'an integer below 2^256 that is not a multiple of the curve order',
      found: `${d.length} bytes`,
    });
  }
  const derived = encodeEdPoint(ED25519_BASE.multiply(mod(scalar, ED25519_ORDER)));
  const q = sexpValue(findSexpToken(ecc, 'q'));
  if (q !== undefined && !decodeEdPoint(q).equals(decodeEdPoint(derived))) {
    throw new GuixSignatureError('guix-key-bad', 'the secret key is inconsistent: q is not d·G', {
      found: 'a q of another key',
    });
  }
  return { d, publicKey: publicKeyFromQ(q ?? derived) };
}

/** Writes a public key as Guix does (`advanced`, the default) or in canonical form. */
export function formatGuixPublicKey(key: GuixPublicKey, form: SexpForm = 'advanced'): string {
  return Buffer.from(writeSexp(guixPublicKeySexp(key), form)).toString('latin1');
}

/** Writes a secret key as Guix does (`advanced`, the default) or in canonical form. */
export function formatGuixSecretKey(key: GuixSecretKey, form: SexpForm = 'advanced'): string {
  const ecc = [
    sexpAtom('ecc'),
    [sexpAtom('curve'), sexpAtom('Ed25519')],
    [sexpAtom('q'), key.publicKey.q],
    [sexpAtom('d'), key.d],
  ];
  return Buffer.from(writeSexp([sexpAtom('private-key'), ecc], form)).toString('latin1');
}

/**
 * Makes a new key pair as `guix archive --generate-key` does (ECDSA on
 * Ed25519). `random` (default node:crypto randomBytes) supplies 32 bytes per
 * try; tests pass their own to get a fixed key.
 */
export function generateGuixSecretKey(random: (size: number) => Uint8Array = randomBytes): GuixSecretKey {
  for (;;) {
    const d = mod(bytesToBigInt(random(32)), ED25519_ORDER);
    if (d === 0n) continue;
    return { d: bigIntToMpiBytes(d), publicKey: { q: encodeEdPoint(ED25519_BASE.multiply(d)) } };
  }
}
