// Options of the binary cache (nix-cache-info facts, signing key, narinfo
// flavour) and their resolution: defaults filled in, the key file read once.
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { parseGuixSecretKey, parseSecretKey, type GuixSecretKey, type SecretKey } from '@gbc/store';
import { COMPRESSIONS, type Compression } from '../compression/compression.js';

/** Which narinfo layout the cache writes; see {@link CacheOptions.flavour}. */
export type CacheFlavour = 'nix' | 'guix';

/**
 * Options of the binary cache.
 *
 * Flavour: the narinfo layout served when a request does not ask for one.
 * Guix's clients (`guix substitute`) accept only the Guix layout — one
 * URL/Compression/FileSize group per stored compression, and a `Signature:`
 * (Guix's deterministic ECDSA, the bytes `guix publish` writes; present when a
 * Guix key is configured): a narinfo without a signature is dropped without a
 * word. Nix's clients read the Nix layout (one URL, `FileHash`, `Sig:` lines).
 * Neither sends anything that tells them apart, so the default follows the
 * store directory: `guix` for `/gnu/store`, `nix` for any other; set
 * `flavour` for a farm whose clients are of the other kind. A client may
 * still ask per request with `?flavour=nix` or `?flavour=guix`.
 */
export interface CacheOptions {
  /** The store directory of the paths served (`StoreDir:`). Default `/gnu/store`; `createCoordinator` sets it to its configuration's `storeDir`. */
  readonly storeDir?: string;
  /** `Priority:` of nix-cache-info (lower is preferred). Default 100, as guix publish. */
  readonly priority?: number;
  /** `WantMassQuery:`. Default true. */
  readonly wantMassQuery?: boolean;
  /** Path of a Nix secret key file (`name:base64`, from `nix-store --generate-binary-cache-key`) to sign Nix narinfos with. */
  readonly signingKeyFile?: string;
  /** A key already loaded; wins over `signingKeyFile`. */
  readonly signingKey?: SecretKey;
  /** Path of a Guix secret key file (`/etc/guix/signing-key.sec`, from `guix archive --generate-key`) to sign Guix narinfos with. */
  readonly guixSigningKeyFile?: string;
  /** A Guix key already loaded; wins over `guixSigningKeyFile`. */
  readonly guixSigningKey?: GuixSecretKey;
  /** Host name written in Guix signatures (`Signature: 1;<host>;…`). Default this machine's name, as guix publish. */
  readonly guixSigningHost?: string;
  /** Narinfo layout served by default. Default: `guix` when the store directory is `/gnu/store`, else `nix`. */
  readonly flavour?: CacheFlavour;
  /** For the Nix layout (one file only): stored compressions in order of preference. Default zstd, lzip, gzip, none. */
  readonly compressionPreference?: readonly Compression[];
  /**
   * `Cache-Control: max-age` of narinfos and NARs, seconds. Default 86400 (a
   * day, as harmonia sends; guix publish sends its `--ttl`). Nix keeps
   * narinfos by its own settings; `guix substitute` follows this.
   */
  readonly narinfoMaxAge?: number;
  /** `Cache-Control: max-age` of a narinfo 404, seconds. Default 60: an output built a minute later is found. */
  readonly negativeMaxAge?: number;
}

/** The cache options with defaults applied and the key loaded. */
export interface ResolvedCacheOptions {
  readonly storeDir: string;
  readonly priority: number;
  readonly wantMassQuery: boolean;
  readonly signingKey: SecretKey | null;
  readonly guixSigningKey: GuixSecretKey | null;
  readonly guixSigningHost: string;
  readonly flavour: CacheFlavour;
  readonly compressionPreference: readonly Compression[];
  readonly narinfoMaxAge: number;
  readonly negativeMaxAge: number;
  /** When the keys were loaded (ms since the epoch): no narinfo text is older. */
  readonly loadedAt: number;
}

/** Applies the defaults of {@link CacheOptions} and reads the key files, if any (its errors propagate: a bad key must stop the start). */
export async function resolveCacheOptions(options: CacheOptions = {}): Promise<ResolvedCacheOptions> {
  let signingKey = options.signingKey ?? null;
  if (signingKey === null && options.signingKeyFile !== undefined) {
    signingKey = parseSecretKey((await readFile(options.signingKeyFile, 'utf8')).trim());
  }
  let guixSigningKey = options.guixSigningKey ?? null;
  if (guixSigningKey === null && options.guixSigningKeyFile !== undefined) {
    guixSigningKey = parseGuixSecretKey(await readFile(options.guixSigningKeyFile));
  }
  const storeDir = (options.storeDir ?? '/gnu/store').replace(/\/+$/, '');
  return {
    storeDir,
    priority: options.priority ?? 100,
    wantMassQuery: options.wantMassQuery ?? true,
    signingKey,
    guixSigningKey,
    guixSigningHost: options.guixSigningHost ?? hostname(),
    flavour: options.flavour ?? defaultFlavour(storeDir),
    compressionPreference: options.compressionPreference ?? COMPRESSIONS,
    narinfoMaxAge: seconds(options.narinfoMaxAge ?? 86_400, 'narinfoMaxAge'),
    negativeMaxAge: seconds(options.negativeMaxAge ?? 60, 'negativeMaxAge'),
    loadedAt: Date.now(),
  };
}

function seconds(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`cache option ${name} must be a whole number of seconds ≥ 0, not ${value}`);
  return value;
}

/** The layout a store directory's clients read: Guix's for `/gnu/store`, Nix's otherwise. */
export function defaultFlavour(storeDir: string): CacheFlavour {
  return storeDir.replace(/\/+$/, '') === '/gnu/store' ? 'guix' : 'nix';
}
