// Domain types at the package boundary (camelCase). Times are milliseconds
// since the Unix epoch; durations of builds are seconds.

/** Where a build is in its life. */
export type BuildState = 'queued' | 'allocated' | 'started' | 'succeeded' | 'failed' | 'canceled';
/** States from which a build can still change by itself. */
export const ACTIVE_BUILD_STATES: readonly BuildState[] = ['queued', 'allocated', 'started'];
/** How an attempt ended. */
export type ResultKind =
  'success' | 'build-failure' | 'setup-failure' | 'infrastructure-failure' | 'canceled' | 'timeout';
/** Every result kind, for validation. */
export const RESULT_KINDS: readonly ResultKind[] = [
  'success',
  'build-failure',
  'setup-failure',
  'infrastructure-failure',
  'canceled',
  'timeout',
];

/** A key/value tag of a build or an agent. */
export interface Tag {
  readonly key: string;
  readonly value: string;
}

/** An output a derivation declares; `hashAlgo`/`hash` are empty unless fixed-output. */
export interface DerivationOutput {
  readonly name: string;
  readonly path: string;
  readonly hashAlgo: string;
  readonly hash: string;
}

/** An input derivation and the output names used from it. */
export interface DerivationInput {
  readonly path: string;
  readonly outputs: readonly string[];
}

/** A derivation as the datastore records it. */
export interface DerivationRecord {
  /** The `.drv` store path. */
  readonly path: string;
  readonly name: string;
  readonly system: string;
  readonly fixedOutput: boolean;
  /** The ATerm text, as bytes. */
  readonly text: Uint8Array;
  readonly outputs: readonly DerivationOutput[];
  readonly inputDerivations: readonly DerivationInput[];
  readonly inputSources: readonly string[];
}

/** A build request and its current state. */
export interface Build {
  /** The build's UUID. */
  readonly id: string;
  readonly derivationPath: string;
  readonly system: string;
  readonly priority: number;
  readonly createdAt: number;
  readonly deferUntil: number | null;
  readonly state: BuildState;
  readonly endedAt: number | null;
  /** Derivation path of a failed dependency that blocks this build, or null. */
  readonly blockedBy: string | null;
  /** Build timeout in seconds, or null for the farm default. */
  readonly timeout: number | null;
  /** Max silent time in seconds, or null for the farm default. */
  readonly maxSilentTime: number | null;
  readonly tags: readonly Tag[];
}

/** One allocation of a build to an agent. */
export interface Attempt {
  readonly id: number;
  /** The attempt's UUID, as the protocol shows it. */
  readonly uuid: string;
  /** The build's UUID. */
  readonly buildId: string;
  readonly agentId: string;
  readonly allocatedAt: number;
  readonly leaseExpiresAt: number;
  readonly startedAt: number | null;
  readonly endedAt: number | null;
  readonly result: ResultKind | null;
  readonly failureReason: string | null;
  readonly logLocation: string | null;
}

/** A setup failure and the store paths it lacked. */
export interface SetupFailure {
  readonly id: number;
  readonly attemptId: number;
  readonly buildId: string;
  readonly createdAt: number;
  readonly missingInputs: readonly string[];
}

/** One stored (compressed) file of an output. */
export interface StoredFile {
  /** `none`, `gzip`, `lzip`, `zstd`, … */
  readonly compression: string;
  readonly fileSize: number;
  readonly fileHash: string | null;
  /** Where the storage layer keeps it (opaque to the datastore). */
  readonly location: string | null;
}

/** What the coordinator knows about an output store path. */
export interface OutputMetadata {
  readonly storePath: string;
  /** The 32-character nix32 hash part of the store path. */
  readonly hashPart: string;
  /** `sha256:` + nix32, as in a narinfo. */
  readonly narHash: string;
  readonly narSize: number;
  /** Full store paths. */
  readonly references: readonly string[];
  /** Full `.drv` path, or null. */
  readonly deriver: string | null;
  /** UUID of the build that produced it, or null. */
  readonly buildId: string | null;
  readonly createdAt: number;
  readonly files: readonly StoredFile[];
}

/** A build with everything known about it. */
export interface BuildDetails extends Build {
  readonly attempts: readonly Attempt[];
  readonly setupFailures: readonly SetupFailure[];
  /** Output name → store path, from the derivation. */
  readonly outputs: readonly DerivationOutput[];
  /** Metadata of the outputs the coordinator holds. */
  readonly outputMetadata: readonly OutputMetadata[];
}

/** A build machine. */
export interface Agent {
  readonly id: string;
  readonly name: string;
  readonly description: string | null;
  readonly active: boolean;
  readonly createdAt: number;
  readonly tags: readonly Tag[];
  readonly systems: readonly string[];
  /** The last status the agent reported (JSON), or null. */
  readonly status: unknown;
  readonly statusAt: number | null;
}

/** Scope of a client API token. */
export type ClientTokenScope = 'read-only' | 'read-write';

/** A client API token (never the token itself). */
export interface ClientToken {
  /** The token's UUID. */
  readonly id: string;
  readonly name: string;
  readonly scope: ClientTokenScope;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

/** An event in the hook outbox. */
export interface OutboxEvent {
  readonly id: number;
  readonly eventType: string;
  readonly payload: unknown;
  readonly createdAt: number;
  /** How many times processing was tried (incremented by each claim). */
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly lastError: string | null;
  readonly doneAt: number | null;
}

/** A queued build as the scheduler needs it. */
export interface QueueEntry {
  /** The build's UUID. */
  readonly id: string;
  readonly derivationPath: string;
  readonly system: string;
  readonly priority: number;
  readonly createdAt: number;
  readonly deferUntil: number | null;
  readonly blockedBy: string | null;
  readonly tags: readonly Tag[];
  /** Input derivations with a used output the coordinator holds no metadata for. */
  readonly pendingInputs: readonly string[];
}
