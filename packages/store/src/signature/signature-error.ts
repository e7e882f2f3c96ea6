// The typed error of signing keys, signatures and their verification.
import { StoreError } from '../errors.js';

/**
 * A key or signature could not be used. `code` is one of `signature-bad-key`
 * (malformed `name:base64` key text or wrong key length), `signature-bad-sig`
 * (a `Sig` that is not `name:base64(64 bytes)`), `signature-bad-info` (a narinfo
 * that cannot be fingerprinted).
 */
export class SignatureError extends StoreError {}
