// The Guix `Signature:` value, `1;<host>;<base64>`, and the s-expression it
// carries: `(signature (data (flags rfc6979) (hash sha256 #…#)) (sig-val
// (ecdsa (r #…#) (s #…#))) (public-key (ecc (curve Ed25519) (q #…#))))`.
import { quote } from '../../errors.js';
import type { EcdsaSignature } from './ecdsa-ed25519.js';
import type { GuixPublicKey } from './guix-key.js';
import { guixPublicKeyFromSexp, guixPublicKeySexp } from './guix-key.js';
import { GuixSignatureError } from './guix-signature-error.js';
import { bigIntToMpiBytes, bytesToBigInt } from './mpi.js';
import type { SexpList } from './sexp.js';
import { findSexpToken, sexpAtom, sexpAtomText, sexpTag, sexpValue } from './sexp.js';
import { parseSexp } from './sexp-parse.js';
import { writeSexp } from './sexp-write.js';

/** What a Guix signature holds. */
export interface GuixSignature {
  /** The host name written between the semicolons (informative only). */
  readonly host: string;
  /** The sha256 the signature claims to cover (32 bytes). */
  readonly hash: Uint8Array;
  readonly signature: EcdsaSignature;
  /** The signer's public key, as embedded. */
  readonly publicKey: GuixPublicKey;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Writes the `Signature:` value: version 1, the host, the base64 of the advanced-form s-expression. */
export function formatGuixSignature(sig: GuixSignature): string {
  if (/[;\n\r]/.test(sig.host)) {
    throw new GuixSignatureError(
      'guix-signature-info',
      'a signature host name cannot contain ";" or a line break',
      { found: quote(sig.host) },
    );
  }
  return `1;${sig.host};${latin1ToUtf8(writeGuixSignatureSexp(sig)).toString('base64')}`;
}

// Guix base64-encodes the s-expression as Guile holds it: libgcrypt's bytes
// read as ISO-8859-1 characters, written out as UTF-8. Only a quoted string
// atom can hold a byte ≥ 0x80 (when an r or s value happens to be
// "printable", about one signature in 4,000); everything else is ASCII, the
// same either way.

/** libgcrypt's bytes as Guix base64-encodes them: each byte a character, in UTF-8. */
function latin1ToUtf8(bytes: Uint8Array): Buffer {
  return Buffer.from(Buffer.from(bytes).toString('latin1'), 'utf8');
}

/**
 * The bytes libgcrypt wrote, from what a signature carries: UTF-8 whose every
 * character is one byte (as Guix writes it, see above), or else the bytes
 * themselves (written by gbc before it followed Guix here).
 */
function utf8ToLatin1(bytes: Buffer): Buffer {
  if (bytes.every((b) => b < 0x80)) return bytes;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return bytes;
  }
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return bytes;
  return Buffer.from(text, 'latin1');
}

/**
 * The signature s-expression itself, in libgcrypt's advanced form (what
 * `guix authenticate sign` answers and what an export trailer carries).
 * `sig.host` is not part of it.
 */
export function writeGuixSignatureSexp(sig: Omit<GuixSignature, 'host'>): Uint8Array {
  const sexp: SexpList = [
    sexpAtom('signature'),
    [
      sexpAtom('data'),
      [sexpAtom('flags'), sexpAtom('rfc6979')],
      [sexpAtom('hash'), sexpAtom('sha256'), sig.hash],
    ],
    [
      sexpAtom('sig-val'),
      [
        sexpAtom('ecdsa'),
        [sexpAtom('r'), bigIntToMpiBytes(sig.signature.r)],
        [sexpAtom('s'), bigIntToMpiBytes(sig.signature.s)],
      ],
    ],
    guixPublicKeySexp(sig.publicKey),
  ];
  return writeSexp(sexp);
}

/**
 * Parses a `Signature:` value. Throws {@link GuixSignatureError}
 * `guix-signature-bad` (or a key/s-expression code) when it is malformed.
 */
export function parseGuixSignature(value: string): GuixSignature {
  const bad = (message: string, expected: string, found: string): never => {
    throw new GuixSignatureError('guix-signature-bad', `malformed Guix signature: ${message}`, {
      field: 'Signature',
      expected,
      found,
    });
  };
  const parts = value.split(';');
  if (parts.length !== 3) bad('not three ";"-separated parts', '1;<host>;<base64>', quote(value));
  const [version, host, body] = parts as [string, string, string];
  if (version !== '1') bad('unsupported version', '1', quote(version));
  if (!BASE64.test(body) || body.length % 4 !== 0 || body.length === 0)
    bad('the signature is not base64', 'base64', quote(body));
  const sexp = parseSexp(utf8ToLatin1(Buffer.from(body, 'base64')));
  if (sexpTag(sexp) !== 'signature')
    bad('not a (signature …) s-expression', '(signature …)', quote(sexpTag(sexp) ?? '(list)'));
  const hashList = findSexpToken(findSexpToken(sexp, 'data') ?? [], 'hash');
  const algorithm = sexpAtomText(hashList?.[1]);
  const hash = hashList?.[2];
  if (algorithm !== 'sha256' || !(hash instanceof Uint8Array) || hash.length !== 32) {
    bad(
      'the signed data is not a sha256 hash',
      '(data … (hash sha256 #32 bytes#))',
      quote(algorithm ?? 'none'),
    );
  }
  const ecdsa = findSexpToken(findSexpToken(sexp, 'sig-val') ?? [], 'ecdsa');
  const r = sexpValue(findSexpToken(ecdsa ?? [], 'r'));
  const s = sexpValue(findSexpToken(ecdsa ?? [], 's'));
  if (r === undefined || s === undefined)
    bad('no ECDSA signature value', '(sig-val (ecdsa (r …) (s …)))', 'none');
  const publicKey = findSexpToken(sexp, 'public-key');
  if (publicKey === undefined) bad('no public key', '(public-key …)', 'none');
  return {
    host,
    hash: hash as Uint8Array,
    signature: { r: bytesToBigInt(r as Uint8Array), s: bytesToBigInt(s as Uint8Array) },
    publicKey: guixPublicKeyFromSexp(publicKey as SexpList),
  };
}
