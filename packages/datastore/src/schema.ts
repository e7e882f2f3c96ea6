// The Kysely `Database` interface: tables and snake_case columns as stored.
// Times are integer milliseconds since the Unix epoch; flags are 0/1 integers.
import type { Generated } from 'kysely';

/** A derivation: one row per `.drv` store path. */
export interface DerivationsTable {
  id: Generated<number>;
  path: string;
  name: string;
  system: string;
  fixed_output: number;
  text: Uint8Array;
}

/** The outputs a derivation declares. */
export interface DerivationOutputsTable {
  derivation_id: number;
  name: string;
  path: string;
  hash_algo: string;
  hash: string;
}

/**
 * One row per (input derivation, output name used), as stored: the input by
 * id once its derivation is recorded, by path until then (exactly one is set).
 */
export interface DerivationInputEdgesTable {
  derivation_id: number;
  input_id: number | null;
  input_path: string | null;
  output_name: string;
}

/** The view of derivation_input_edges with every input's path (read only). */
export interface DerivationInputsView {
  derivation_id: number;
  input_path: string;
  output_name: string;
  /** derivations.id of input_path; null until that derivation is recorded. */
  input_id: number | null;
}

/** Input sources (plain store paths) of a derivation. */
export interface DerivationSourcesTable {
  derivation_id: number;
  path: string;
}

/** A build request. */
export interface BuildsTable {
  id: Generated<number>;
  uuid: string;
  derivation_id: number;
  /** Denormalised from the derivation so that filtering by system needs no join. */
  system: string;
  priority: number;
  created_at: number;
  defer_until: number | null;
  state: string;
  ended_at: number | null;
  /** Derivation path of the failed dependency that blocks this build, if any. */
  blocked_by: string | null;
  timeout_s: number | null;
  max_silent_time_s: number | null;
}

/** Tags of builds, many per build. */
export interface BuildTagsTable {
  build_id: number;
  key: string;
  value: string;
}

/** An allocation of a build to an agent, and what became of it. */
export interface AttemptsTable {
  id: Generated<number>;
  /** Set on every row (migration 0004 fills the old ones; the column is nullable only because SQLite adds columns that way). */
  uuid: string;
  build_id: number;
  agent_id: string;
  allocated_at: number;
  lease_expires_at: number;
  started_at: number | null;
  ended_at: number | null;
  result: string | null;
  failure_reason: string | null;
  log_location: string | null;
}

/** A setup failure reported for an attempt. */
export interface SetupFailuresTable {
  id: Generated<number>;
  attempt_id: number;
  build_id: number;
  created_at: number;
}

/** Store paths a setup failure said were missing. */
export interface SetupFailureMissingInputsTable {
  setup_failure_id: number;
  path: string;
}

/** What the coordinator holds for an output store path. */
export interface OutputMetadataTable {
  store_path: string;
  hash_part: string;
  nar_hash: string;
  nar_size: number;
  /** JSON array of full store paths. */
  references: string;
  deriver: string | null;
  build_id: number | null;
  created_at: number;
}

/** Stored (compressed) files of an output. */
export interface OutputFilesTable {
  store_path: string;
  compression: string;
  file_size: number;
  file_hash: string | null;
  location: string | null;
}

/** A build machine. */
export interface AgentsTable {
  id: string;
  name: string;
  description: string | null;
  active: number;
  created_at: number;
  status_json: string | null;
  status_at: number | null;
  /** The dynamic-auth token that created the agent (only it may resume the agent); null for an operator's agent. */
  created_by_token: number | null;
}

/** Tags of agents. */
export interface AgentTagsTable {
  agent_id: string;
  key: string;
  value: string;
}

/** Systems an agent builds for. */
export interface AgentSystemsTable {
  agent_id: string;
  system: string;
}

/** scrypt hashes of agent passwords, several per agent. */
export interface AgentPasswordsTable {
  id: Generated<number>;
  agent_id: string;
  password_hash: string;
  created_at: number;
  /** 1 for a password minted for a dynamic-auth session (capped per agent), 0 for an operator's. */
  from_session: Generated<number>;
  /** sha256 (hex) of the password: how a login finds its row; null for rows from before migration 0006 until their next login. */
  lookup: string | null;
}

/** Dynamic-auth tokens (sha256 of the token) that create agents on first use. */
export interface DynamicAuthTokensTable {
  id: Generated<number>;
  token_hash: string;
  created_at: number;
  revoked_at: number | null;
}

/** Bearer tokens for the client API (sha256 of the token). */
export interface ClientTokensTable {
  id: Generated<number>;
  /** Set on every row (migration 0004 fills the old ones; the column is nullable only because SQLite adds columns that way). */
  uuid: string;
  name: string;
  token_hash: string;
  scope: string;
  created_at: number;
  revoked_at: number | null;
}

/** The hook outbox. */
export interface OutboxTable {
  id: Generated<number>;
  event_type: string;
  payload: string;
  created_at: number;
  attempts: number;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  last_error: string | null;
  done_at: number | null;
}

/** Every table of the schema, as Kysely sees it. */
export interface Database {
  derivations: DerivationsTable;
  derivation_outputs: DerivationOutputsTable;
  derivation_input_edges: DerivationInputEdgesTable;
  derivation_inputs: DerivationInputsView;
  derivation_sources: DerivationSourcesTable;
  builds: BuildsTable;
  build_tags: BuildTagsTable;
  attempts: AttemptsTable;
  setup_failures: SetupFailuresTable;
  setup_failure_missing_inputs: SetupFailureMissingInputsTable;
  output_metadata: OutputMetadataTable;
  output_files: OutputFilesTable;
  agents: AgentsTable;
  agent_tags: AgentTagsTable;
  agent_systems: AgentSystemsTable;
  agent_passwords: AgentPasswordsTable;
  dynamic_auth_tokens: DynamicAuthTokensTable;
  client_tokens: ClientTokensTable;
  outbox: OutboxTable;
}
