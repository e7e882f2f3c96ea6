// The typed error of Guix signing keys, s-expressions and narinfo signatures.
import { SignatureError } from '../signature-error.js';

/**
 * A Guix key, s-expression or signature could not be used. `code` is one of
 * `guix-sexp-syntax` (text that is not a libgcrypt s-expression),
 * `guix-sexp-unsupported` (valid libgcrypt syntax Guix never writes: display
 * hints, transport `{…}` form), `guix-key-bad` (an s-expression that is not an
 * Ed25519 ECC key, or whose parts do not match), `guix-signature-bad` (a
 * `Signature:` value or signature s-expression of the wrong shape),
 * `guix-signature-info` (a narinfo that cannot carry a Guix signature, or a
 * host name that cannot go in one).
 */
export class GuixSignatureError extends SignatureError {}
