// Shared field schemas: identifiers, store paths, hashes, times, tags and paging.
import { z } from 'zod';
import { named } from './registry.js';

/**
 * A UUID as the coordinator issues them (RFC 9562, lowercase or uppercase hex).
 * Builds, agents and attempts are identified by one.
 */
export const uuidSchema = z.uuid();

/**
 * A point in time: an ISO 8601 string in UTC with a `Z` suffix, e.g.
 * `2026-11-27T23:17:36.000Z` (what `Date.prototype.toISOString` writes).
 * Every timestamp in the protocol uses this form; durations are integer seconds.
 */
export const timestampSchema = z.iso.datetime();

/** Characters allowed in a store path name (after the hash and dash). */
const NAME = '[A-Za-z0-9+\\-_?=][A-Za-z0-9+\\-._?=]*';
/** Nix base32 alphabet: no e, o, u, t. */
const NIX32 = '[0123456789abcdfghijklmnpqrsvwxyz]';

/** A store path basename: 32 Nix-base32 characters, a dash, a name (e.g. `ab…z-hello-2.12`). */
export const storePathBaseNameSchema = z
  .string()
  .max(244)
  .regex(
    new RegExp(`^${NIX32}{32}-${NAME}$`),
    'expected a store path basename: 32 nix-base32 characters, "-", a name',
  );

/**
 * An absolute store path: a store directory (any, `/gnu/store` or `/nix/store`
 * or another), a slash and a basename.
 */
export const storePathSchema = z
  .string()
  .max(4096)
  .regex(
    new RegExp(`^(/[^/\\0]+)+/${NIX32}{32}-${NAME}$`),
    'expected an absolute store path such as /gnu/store/<hash>-<name>',
  );

/** The store path of a derivation: a store path whose name ends in `.drv`. */
export const derivationPathSchema = storePathSchema.refine(
  (p) => p.endsWith('.drv'),
  'expected a derivation path ending in .drv',
);

/** A derivation's basename (what `/derivation/{name}` and `/log/{drv}` take). */
export const derivationBaseNameSchema = storePathBaseNameSchema.refine(
  (p) => p.endsWith('.drv'),
  'expected a derivation basename ending in .drv',
);

/** A system type such as `x86_64-linux` or `aarch64-linux`. */
export const systemSchema = z
  .string()
  .max(64)
  .regex(/^[A-Za-z0-9_.]+-[A-Za-z0-9_.-]+$/, 'expected a system such as x86_64-linux');

/** A NAR hash as narinfo writes it: `sha256:` and 52 Nix-base32 characters. */
export const narHashSchema = z
  .string()
  .regex(new RegExp(`^sha256:${NIX32}{52}$`), 'expected sha256:<52 nix-base32 characters>');

/** A byte count: a non-negative safe integer. */
export const byteCountSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** A build priority: a 32-bit signed integer, higher runs first; default 0. */
export const prioritySchema = z.number().int().min(-2147483648).max(2147483647);

/**
 * Text of `min`..`max` characters without NUL: PostgreSQL refuses NUL in text
 * (a 500 there) while SQLite stores it, so the two databases would disagree.
 */
export function textSchema(min: number, max: number) {
  return z
    .string()
    .min(min)
    .max(max)
    .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters');
}

/** Most systems an agent may name in one request. */
export const MAX_SYSTEMS = 64;

/** A tag: a key/value pair attached to builds or agents. Keys are unique per build or agent. */
export const tagSchema = named(
  'Tag',
  z.object({
    key: textSchema(1, 255),
    value: textSchema(0, 4096),
  }),
  'A key/value label on a build or an agent.',
);
/** A key/value label on a build or an agent. */
export type Tag = z.infer<typeof tagSchema>;

/** A list of tags with unique keys. */
export const tagListSchema = z
  .array(tagSchema)
  .max(256)
  .refine((tags) => new Set(tags.map((t) => t.key)).size === tags.length, 'tag keys must be unique');

/** Compression of a stored or uploaded NAR or log. */
export const compressionSchema = z.enum(['none', 'gzip', 'lzip', 'zstd']);
/** Compression of a stored or uploaded NAR or log. */
export type Compression = z.infer<typeof compressionSchema>;

/** Reads a `key=value` tag filter from a query string. */
export const tagFilterSchema = z.string().regex(/^[^=]+=.*$/s, 'expected a tag filter key=value');

/** Query parameters are strings; this accepts one value or repeated values and yields an array. */
export function repeated<T extends z.ZodType<unknown, string>>(item: T) {
  return z
    .union([item, z.array(item)])
    .optional()
    .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]) as z.output<T>[]);
}

/** A row id in a path: a positive decimal integer of at most 15 digits, no sign, exponent or leading zero. */
export const rowIdParamSchema = z
  .string()
  .regex(/^[1-9][0-9]{0,14}$/, 'expected a positive decimal id')
  .transform(Number);

/** A page limit in a query string: 1 to 1000, default 100. */
export const limitQuerySchema = z.coerce.number().int().min(1).max(1000).default(100);

/** A build priority in a query string (text of an integer in the range of {@link prioritySchema}). */
export const priorityQuerySchema = z.coerce.number().int().min(-2147483648).max(2147483647);

/** A boolean in a query string: `true`/`1` or `false`/`0` (a client may pass a boolean; it is sent as text). */
export const booleanQuerySchema = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
  .transform((v) => v === true || v === 'true' || v === '1');
