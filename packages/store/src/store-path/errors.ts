// Typed errors of store paths: bad store directories, names and hash parts.
import { StoreError } from '../errors.js';

/** A store path, store directory or store path name breaks a rule (code `store-path-*`). */
export class StorePathError extends StoreError {}
