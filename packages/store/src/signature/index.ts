// Nix Ed25519 signatures: binary-cache keys, narinfo fingerprints, signing and verification.
export { SignatureError } from './signature-error.js';
export {
  formatPublicKey,
  formatSecretKey,
  generateSecretKey,
  parsePublicKey,
  parseSecretKey,
  publicKeyOf,
  secretKeyFromSeed,
} from './signing-key.js';
export type { PublicKey, SecretKey } from './signing-key.js';
export { signDetached, verifyDetached } from './ed25519-sign.js';
export { narInfoFingerprint } from './fingerprint.js';
export { isNarInfoTrusted, signNarInfo, verifyNarInfo } from './sign-narinfo.js';
export type { NarInfoVerification } from './sign-narinfo.js';
export * from './guix/index.js';
