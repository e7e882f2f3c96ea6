// The shapes of hooks: the event a hook receives, a hook function, and the
// configuration that names built-in hooks, commands, modules and functions.
//
// Configuration (`hooks` in gbc.config.json, or a JavaScript config module
// where a hook may be a function):
//
//   hooks: {
//     "build-success": [{ "builtin": "publish", "directory": "/srv/substitutes" },
//                       { "command": ["/usr/bin/logger", "-t", "gbc"] }],
//     "build-failure": [{ "builtin": "retry-on-failure", "maxRetries": 2, "kinds": ["build-failure"] }],
//     "build-missing-inputs": [{ "builtin": "submit-missing-inputs" }],
//     "build-started": [{ "builtin": "guix-data-service", "url": "https://data.qa.guix.gnu.org",
//                         "buildServerId": 2, "token": "…" }],
//     "build-canceled": [async (event, ctx) => { … }],            // JS config only
//     "build-submitted": [{ "module": "./my-hooks.js", "export": "onSubmitted" }]
//   },
//   parallelHooks: { "build-success": 4 }      // default 1 per event type
//
// The hooks of one event run in order; if one throws, the event is retried
// (with exponential backoff) from its first hook: hooks run at least once and
// must tolerate running again. Events of the standard types that have no
// hook are completed without running anything, so coordinator processes that
// share one PostgreSQL database must be configured with the same hooks.
import type { CoordinatorContext } from '../context.js';

/** The event types the outbox carries and hooks may be configured for. */
export const HOOK_EVENT_TYPES = [
  'build-submitted',
  'build-started',
  'build-success',
  'build-failure',
  'build-canceled',
  'build-missing-inputs',
] as const;
/** One of {@link HOOK_EVENT_TYPES}. */
export type HookEventType = (typeof HOOK_EVENT_TYPES)[number];

/** What a hook receives: the outbox event, with the fields every event carries lifted out. */
export interface HookEvent {
  /** The outbox id (stable across retries). */
  readonly id: number;
  readonly type: string;
  /** UUID of the build concerned (payload `build`), or null. */
  readonly build: string | null;
  /** Derivation path concerned (payload `derivation`), or null. */
  readonly derivation: string | null;
  /** The event's payload as enqueued. */
  readonly payload: Readonly<Record<string, unknown>>;
  /** When the event was enqueued (ms since the epoch). */
  readonly createdAt: number;
  /** Which try this is (1 = first). */
  readonly attempt: number;
}

/** What a hook may use besides the event: the coordinator and a signal aborted on forced stop. */
export interface HookRunContext {
  readonly coordinator: CoordinatorContext;
  readonly signal: AbortSignal;
}

/** A hook: resolves when done; throwing makes the event fail and be retried. */
export type HookFunction = (event: HookEvent, context: HookRunContext) => void | Promise<void>;

/** `publish`: narinfos and NARs of a successful build's outputs into a directory. */
export interface PublishHookSpec {
  readonly builtin: 'publish';
  /** Where to write `<hash>.narinfo`, `nar/<compression>/<basename>` and `nix-cache-info`. */
  readonly directory: string;
  /** Narinfo layout; default the cache's (`nix`). */
  readonly flavour?: 'nix' | 'guix';
}

/** `retry-on-failure`: resubmit a failed build's derivation up to `maxRetries` times. */
export interface RetryHookSpec {
  readonly builtin: 'retry-on-failure';
  /** Failed builds of the derivation allowed before giving up. Default 3. */
  readonly maxRetries?: number;
  /** Result kinds retried. Default `build-failure` and `timeout`. */
  readonly kinds?: readonly string[];
}

/** `submit-missing-inputs`: submit builds for derivations whose outputs an agent could not get. */
export interface SubmitMissingInputsHookSpec {
  readonly builtin: 'submit-missing-inputs';
}

/** `guix-data-service`: report build events to a Guix Data Service instance. */
export interface GuixDataServiceHookSpec {
  readonly builtin: 'guix-data-service';
  /** Base URL, e.g. `https://data.qa.guix.gnu.org`. */
  readonly url: string;
  readonly buildServerId: number | string;
  readonly token: string;
  /** Request timeout, ms. Default 30000. */
  readonly timeoutMs?: number;
}

/** Runs a program with the event as JSON on standard input; a non-zero exit fails the run with its stderr. */
export interface CommandHookSpec {
  /** Program and arguments (no shell). */
  readonly command: readonly string[];
  /** Extra environment variables. */
  readonly env?: Readonly<Record<string, string>>;
  /** Kill the program after this long, ms. Default 300000. */
  readonly timeoutMs?: number;
}

/** A function exported by a JavaScript module (path relative to the coordinator's cwd). */
export interface ModuleHookSpec {
  readonly module: string;
  /** Export name; default `default`. */
  readonly export?: string;
}

/** One configured hook. */
export type HookSpec =
  | HookFunction
  | PublishHookSpec
  | RetryHookSpec
  | SubmitMissingInputsHookSpec
  | GuixDataServiceHookSpec
  | CommandHookSpec
  | ModuleHookSpec;

/** Hooks per event type (one spec or a list). */
export type HooksConfig = Readonly<Partial<Record<string, HookSpec | readonly HookSpec[]>>>;
