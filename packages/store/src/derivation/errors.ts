// Typed errors of derivations: ATerm syntax, canonical form, and consistency
// of a derivation's path and output paths with its text.
import { StoreError } from '../errors.js';

/**
 * A derivation broke a rule. Codes: `drv-syntax`, `drv-escape`,
 * `drv-noncanonical`, `drv-unsorted`, `drv-duplicate`, `drv-trailing`,
 * `drv-not-bytes`, `drv-unsupported`, `drv-path`, `drv-name`,
 * `drv-output-path`, `drv-output-env`, `drv-input-missing`, `drv-cycle`.
 */
export class DerivationError extends StoreError {}
