// Options of the client app that the coordinator's configuration does not carry
// (the store directory is the configuration's `storeDir`).
import type { DerivationSubstitutesOptions } from '../substitutes/derivation-substitutes.js';
import type { ModuloHashCache } from './modulo-hashes.js';

/** Options of `createClientApp`. */
export interface ClientAppOptions {
  /** Largest derivation accepted by `PUT /derivation/{name}`, in bytes. Default: the JSON body limit. */
  readonly derivationBytes?: number;
  /** Modulo hashes shared across apps of one coordinator. Default: a new memo. */
  readonly moduloHashes?: ModuloHashCache;
  /** Interval of SSE keep-alive comments, ms. Default 15000. */
  readonly keepAliveMs?: number;
  /** Unsent bytes of a `GET /events` subscriber before it is dropped. Default 4 MiB. */
  readonly eventBufferBytes?: number;
  /** How often a followed live log is checked for new bytes, ms. Default 250. */
  readonly logPollMs?: number;
  /**
   * Servers `POST /builds` fetches a derivation it does not hold from, with
   * the closure of derivations it needs (submission by name). Default none:
   * derivations must be uploaded first.
   */
  readonly derivationSubstitutes?: DerivationSubstitutesOptions;
}
