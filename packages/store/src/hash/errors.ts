// Typed errors of the hashing helpers: unknown algorithms and hash text that does not decode.
import { StoreError } from '../errors.js';

/** A hash's text or algorithm is not one this library reads (code `hash-*`). */
export class HashError extends StoreError {}
