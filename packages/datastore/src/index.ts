// Public entry of @gbc/datastore: open a datastore from a URI, then call the
// query functions with its `db` (or a transaction of it).
export * from './errors.js';
export * from './uri.js';
export type { SqliteOptions } from './sqlite-dialect.js';
export type { PostgresOptions } from './postgres-dialect.js';
export type * from './schema.js';
export * from './types.js';
export { inTransaction, chunk, MAX_PARAMS } from './transaction.js';
export type { Db } from './transaction.js';
export * from './datastore.js';
export { appliedMigrations, knownMigrations, migrateToLatest } from './migrate.js';
export * from './derivations.js';
export * from './builds-create.js';
export * from './builds-list.js';
export { getBuild, showBuild } from './builds-show.js';
export * from './builds-update.js';
export * from './blocking.js';
export { claimBuildsById, claimNextBuilds, isPg } from './attempts-claim.js';
export type { Claim, ClaimOptions, ClaimNextOptions } from './attempts-claim.js';
export { claimBuildsForAgents, MAX_CLAIM_BATCH } from './attempts-claim-many.js';
export type { ClaimItem, ClaimRequest, ClaimManyOptions, ClaimRunner } from './attempts-claim-many.js';
export * from './attempts-lifecycle.js';
export * from './attempts-query.js';
export * from './outputs.js';
export * from './outbox.js';
export * from './agents.js';
export * from './agent-auth.js';
export * from './credential-admin.js';
export * from './client-tokens.js';
export { hashPassword, verifyPassword, hashToken } from './secrets.js';
export { loadQueue, streamQueue, type StreamQueueOptions } from './queue-snapshot.js';
export * from './queue-reads.js';
export {
  startSqliteClaimWorker,
  type SqliteClaimWorker,
  type SqliteClaimWorkerOptions,
} from './sqlite-claim-worker.js';
export * from './control-session.js';
export * from './notify.js';
export * from './sqlite-process-lock.js';
