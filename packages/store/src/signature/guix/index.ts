// Guix narinfo signatures: libgcrypt s-expression keys, deterministic ECDSA on
// Ed25519, signing and verifying `Signature: 1;<host>;<base64>` lines.
export { GuixSignatureError } from './guix-signature-error.js';
export type { Sexp, SexpList } from './sexp.js';
export { findSexpToken, isSexpList, sexpAtom, sexpAtomText, sexpEqual } from './sexp.js';
export { parseSexp } from './sexp-parse.js';
export { writeSexp } from './sexp-write.js';
export type { SexpForm } from './sexp-write.js';
export {
  formatGuixPublicKey,
  formatGuixSecretKey,
  generateGuixSecretKey,
  guixPublicKeyFromSexp,
  parseGuixPublicKey,
  parseGuixSecretKey,
} from './guix-key.js';
export type { GuixPublicKey, GuixSecretKey } from './guix-key.js';
export { formatGuixSignature, parseGuixSignature, writeGuixSignatureSexp } from './guix-signature-sexp.js';
export { guixImportSignature, signGuixExportHash } from './guix-export-signature.js';
export type { GuixSignature } from './guix-signature-sexp.js';
export {
  signGuixNarInfo,
  signGuixText,
  verifyGuixNarInfo,
  verifyGuixSignature,
} from './guix-sign-narinfo.js';
export type { GuixVerification, GuixVerificationFailure } from './guix-sign-narinfo.js';
