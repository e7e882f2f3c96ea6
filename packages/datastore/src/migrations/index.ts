// The ordered list of migrations, defined in code; names sort in the order they run.
import type { Migration } from 'kysely';
import type { Dialect } from '../uri.js';
import { initialSchema } from './0001-initial.js';
import { listIndexes } from './0002-list-indexes.js';
import { inputIds } from './0003-input-ids.js';
import { attemptUuids } from './0004-attempt-uuids.js';
import { inputEdges } from './0005-input-edges.js';
import { agentCredentials } from './0006-agent-credentials.js';
import { agentRecentAttempts } from './0007-agent-recent-attempts.js';

/** Every migration this code knows, by name; names sort in the order they run. */
export function migrationsFor(dialect: Dialect): Record<string, Migration> {
  return {
    '0001-initial': initialSchema(dialect),
    '0002-list-indexes': listIndexes(),
    '0003-input-ids': inputIds(),
    '0004-attempt-uuids': attemptUuids(dialect),
    '0005-input-edges': inputEdges(),
    '0006-agent-credentials': agentCredentials(),
    '0007-agent-recent-attempts': agentRecentAttempts(),
  };
}
