// Signing a Nix narinfo (adding a Sig line) and checking its Sig lines.
import type { NarInfo } from '../narinfo/narinfo-types.js';
import { signDetached, verifyDetached } from './ed25519-sign.js';
import { narInfoFingerprint } from './fingerprint.js';
import type { PublicKey, SecretKey } from './signing-key.js';
import { SignatureError } from './signature-error.js';

/** What {@link verifyNarInfo} found. */
export interface NarInfoVerification {
  /** The fingerprint the signatures were checked against. */
  readonly fingerprint: string;
  /** Names of the trusted keys with a valid signature (each once). */
  readonly validKeys: readonly string[];
  /** `Sig` values that did not verify with any trusted key (unknown key, bad bytes, tampered). */
  readonly unverified: readonly string[];
}

/**
 * Returns `info` with a `Sig` for `key` over its fingerprint. A previous
 * signature by the same key name is replaced; the signatures are kept in byte
 * order, the order Nix writes them in. Only Nix-flavour narinfos carry `Sig`s.
 */
export function signNarInfo(info: NarInfo, key: SecretKey): NarInfo {
  if (info.flavour !== 'nix') {
    throw new SignatureError('signature-bad-info', 'only a Nix-flavour narinfo carries Sig lines', {
      found: info.flavour,
    });
  }
  const sig = signDetached(key, narInfoFingerprint(info));
  const others = info.sigs.filter((s) => !s.startsWith(`${key.name}:`));
  return { ...info, sigs: [...others, sig].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) };
}

/** Checks each `Sig` of `info` against the trusted public keys. */
export function verifyNarInfo(info: NarInfo, trustedKeys: readonly PublicKey[]): NarInfoVerification {
  const fingerprint = narInfoFingerprint(info);
  const valid = new Set<string>();
  const unverified: string[] = [];
  for (const sig of info.sigs) {
    if (verifyDetached(trustedKeys, fingerprint, sig)) valid.add(sig.slice(0, sig.indexOf(':')));
    else unverified.push(sig);
  }
  return { fingerprint, validKeys: [...valid], unverified };
}

/** True when at least one `Sig` of `info` verifies with one of the trusted keys (Nix's `require-sigs` rule). */
export function isNarInfoTrusted(info: NarInfo, trustedKeys: readonly PublicKey[]): boolean {
  return verifyNarInfo(info, trustedKeys).validKeys.length > 0;
}
