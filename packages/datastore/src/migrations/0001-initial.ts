// Migration 0001 (frozen): the initial schema. Never edit a released
// migration; add a new file instead.
import { sql } from 'kysely';
import type { ColumnDefinitionBuilder, CreateTableBuilder, Kysely, Migration } from 'kysely';
import type { Dialect } from '../uri.js';

type Table = CreateTableBuilder<string, never>;

/** The initial schema for `dialect`. */
export function initialSchema(dialect: Dialect): Migration {
  const blob = dialect === 'postgres' ? 'bytea' : 'blob';
  const serial = (t: Table, name: string): Table =>
    dialect === 'postgres'
      ? t.addColumn(name, 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
      : t.addColumn(name, 'integer', (c) => c.primaryKey().autoIncrement());
  const notNull = (c: ColumnDefinitionBuilder) => c.notNull();

  return {
    async up(db: Kysely<any>): Promise<void> {
      const s = db.schema;
      await serial(s.createTable('derivations'), 'id')
        .addColumn('path', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', notNull)
        .addColumn('system', 'text', notNull)
        .addColumn('fixed_output', 'integer', notNull)
        .addColumn('text', sql.raw(blob), notNull)
        .execute();
      await s
        .createTable('derivation_outputs')
        .addColumn('derivation_id', 'bigint', (c) =>
          c.notNull().references('derivations.id').onDelete('cascade'),
        )
        .addColumn('name', 'text', notNull)
        .addColumn('path', 'text', notNull)
        .addColumn('hash_algo', 'text', notNull)
        .addColumn('hash', 'text', notNull)
        .addPrimaryKeyConstraint('derivation_outputs_pk', ['derivation_id', 'name'])
        .execute();
      await s.createIndex('derivation_outputs_path').on('derivation_outputs').column('path').execute();
      await s
        .createTable('derivation_inputs')
        .addColumn('derivation_id', 'bigint', (c) =>
          c.notNull().references('derivations.id').onDelete('cascade'),
        )
        .addColumn('input_path', 'text', notNull)
        .addColumn('output_name', 'text', notNull)
        .addPrimaryKeyConstraint('derivation_inputs_pk', ['derivation_id', 'input_path', 'output_name'])
        .execute();
      await s.createIndex('derivation_inputs_input').on('derivation_inputs').column('input_path').execute();
      await s
        .createTable('derivation_sources')
        .addColumn('derivation_id', 'bigint', (c) =>
          c.notNull().references('derivations.id').onDelete('cascade'),
        )
        .addColumn('path', 'text', notNull)
        .addPrimaryKeyConstraint('derivation_sources_pk', ['derivation_id', 'path'])
        .execute();

      await serial(s.createTable('builds'), 'id')
        .addColumn('uuid', 'text', (c) => c.notNull().unique())
        .addColumn('derivation_id', 'bigint', (c) => c.notNull().references('derivations.id'))
        .addColumn('system', 'text', notNull)
        .addColumn('priority', 'integer', notNull)
        .addColumn('created_at', 'bigint', notNull)
        .addColumn('defer_until', 'bigint')
        .addColumn('state', 'text', notNull)
        .addColumn('ended_at', 'bigint')
        .addColumn('blocked_by', 'text')
        .addColumn('timeout_s', 'integer')
        .addColumn('max_silent_time_s', 'integer')
        .execute();
      await s.createIndex('builds_derivation').on('builds').column('derivation_id').execute();
      await s.createIndex('builds_state_system').on('builds').columns(['state', 'system', 'id']).execute();
      await s
        .createIndex('builds_queue')
        .on('builds')
        .columns(['state', 'priority', 'created_at', 'id'])
        .execute();
      await s
        .createIndex('builds_blocked_by')
        .on('builds')
        .column('blocked_by')
        .where(sql.ref('blocked_by'), 'is not', null)
        .execute();
      await s
        .createTable('build_tags')
        .addColumn('build_id', 'bigint', (c) => c.notNull().references('builds.id').onDelete('cascade'))
        .addColumn('key', 'text', notNull)
        .addColumn('value', 'text', notNull)
        .addPrimaryKeyConstraint('build_tags_pk', ['build_id', 'key', 'value'])
        .execute();
      await s
        .createIndex('build_tags_key_value')
        .on('build_tags')
        .columns(['key', 'value', 'build_id'])
        .execute();

      await s
        .createTable('agents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text')
        .addColumn('active', 'integer', notNull)
        .addColumn('created_at', 'bigint', notNull)
        .addColumn('status_json', 'text')
        .addColumn('status_at', 'bigint')
        .execute();
      await s
        .createTable('agent_tags')
        .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
        .addColumn('key', 'text', notNull)
        .addColumn('value', 'text', notNull)
        .addPrimaryKeyConstraint('agent_tags_pk', ['agent_id', 'key', 'value'])
        .execute();
      await s
        .createTable('agent_systems')
        .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
        .addColumn('system', 'text', notNull)
        .addPrimaryKeyConstraint('agent_systems_pk', ['agent_id', 'system'])
        .execute();
      await serial(s.createTable('agent_passwords'), 'id')
        .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
        .addColumn('password_hash', 'text', notNull)
        .addColumn('created_at', 'bigint', notNull)
        .execute();
      await s.createIndex('agent_passwords_agent').on('agent_passwords').column('agent_id').execute();
      await serial(s.createTable('dynamic_auth_tokens'), 'id')
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', notNull)
        .addColumn('revoked_at', 'bigint')
        .execute();
      await serial(s.createTable('client_tokens'), 'id')
        .addColumn('name', 'text', notNull)
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('scope', 'text', notNull)
        .addColumn('created_at', 'bigint', notNull)
        .addColumn('revoked_at', 'bigint')
        .execute();

      await serial(s.createTable('attempts'), 'id')
        .addColumn('build_id', 'bigint', (c) => c.notNull().references('builds.id').onDelete('cascade'))
        .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id'))
        .addColumn('allocated_at', 'bigint', notNull)
        .addColumn('lease_expires_at', 'bigint', notNull)
        .addColumn('started_at', 'bigint')
        .addColumn('ended_at', 'bigint')
        .addColumn('result', 'text')
        .addColumn('failure_reason', 'text')
        .addColumn('log_location', 'text')
        .execute();
      await s.createIndex('attempts_build').on('attempts').column('build_id').execute();
      await s
        .createIndex('attempts_open_agent')
        .on('attempts')
        .column('agent_id')
        .where(sql.ref('ended_at'), 'is', null)
        .execute();
      await s
        .createIndex('attempts_open_lease')
        .on('attempts')
        .column('lease_expires_at')
        .where(sql.ref('ended_at'), 'is', null)
        .execute();
      await serial(s.createTable('setup_failures'), 'id')
        .addColumn('attempt_id', 'bigint', (c) => c.notNull().references('attempts.id').onDelete('cascade'))
        .addColumn('build_id', 'bigint', (c) => c.notNull().references('builds.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', notNull)
        .execute();
      await s.createIndex('setup_failures_build').on('setup_failures').column('build_id').execute();
      await s
        .createTable('setup_failure_missing_inputs')
        .addColumn('setup_failure_id', 'bigint', (c) =>
          c.notNull().references('setup_failures.id').onDelete('cascade'),
        )
        .addColumn('path', 'text', notNull)
        .addPrimaryKeyConstraint('setup_failure_missing_inputs_pk', ['setup_failure_id', 'path'])
        .execute();

      await s
        .createTable('output_metadata')
        .addColumn('store_path', 'text', (c) => c.primaryKey())
        .addColumn('hash_part', 'text', notNull)
        .addColumn('nar_hash', 'text', notNull)
        .addColumn('nar_size', 'bigint', notNull)
        .addColumn('references', 'text', notNull)
        .addColumn('deriver', 'text')
        .addColumn('build_id', 'bigint', (c) => c.references('builds.id').onDelete('set null'))
        .addColumn('created_at', 'bigint', notNull)
        .execute();
      await s.createIndex('output_metadata_hash_part').on('output_metadata').column('hash_part').execute();
      await s.createIndex('output_metadata_build').on('output_metadata').column('build_id').execute();
      await s
        .createTable('output_files')
        .addColumn('store_path', 'text', (c) =>
          c.notNull().references('output_metadata.store_path').onDelete('cascade'),
        )
        .addColumn('compression', 'text', notNull)
        .addColumn('file_size', 'bigint', notNull)
        .addColumn('file_hash', 'text')
        .addColumn('location', 'text')
        .addPrimaryKeyConstraint('output_files_pk', ['store_path', 'compression'])
        .execute();

      await serial(s.createTable('outbox'), 'id')
        .addColumn('event_type', 'text', notNull)
        .addColumn('payload', 'text', notNull)
        .addColumn('created_at', 'bigint', notNull)
        .addColumn('attempts', 'integer', notNull)
        .addColumn('next_attempt_at', 'bigint', notNull)
        .addColumn('lease_owner', 'text')
        .addColumn('lease_expires_at', 'bigint')
        .addColumn('last_error', 'text')
        .addColumn('done_at', 'bigint')
        .execute();
      await s
        .createIndex('outbox_pending')
        .on('outbox')
        .columns(['event_type', 'next_attempt_at', 'id'])
        .where(sql.ref('done_at'), 'is', null)
        .execute();
    },
  };
}
