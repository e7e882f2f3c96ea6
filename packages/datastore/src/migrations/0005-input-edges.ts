// Migration 0005 (frozen): input derivations stored by id alone. Until now
// every input row carried the input's path (60-odd bytes) twice, in the row
// and in its primary key, although the row also held the input's id: a third
// of a bulk insert of a wide graph went into writing that text. Rows now
// live in derivation_input_edges with the path only while the input
// derivation is not recorded (input_id null); the view derivation_inputs
// shows the same rows with the path filled in from derivations, so readers
// see what they saw before.
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

/** Moves derivation_inputs into derivation_input_edges and puts a view of the old shape in its place. */
export function inputEdges(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('derivation_input_edges')
        .addColumn('derivation_id', 'bigint', (c) =>
          c.notNull().references('derivations.id').onDelete('cascade'),
        )
        // No foreign key: derivations are never deleted, and the check per row costs a bulk insert dearly.
        .addColumn('input_id', 'bigint')
        .addColumn('input_path', 'text')
        .addColumn('output_name', 'text', (c) => c.notNull())
        // Exactly one of the two names the input.
        .addCheckConstraint('derivation_input_edges_input', sql`(input_id is null) <> (input_path is null)`)
        .execute();
      await sql`insert into derivation_input_edges (derivation_id, input_id, input_path, output_name)
        select derivation_id, input_id, case when input_id is null then input_path end, output_name
        from derivation_inputs order by derivation_id`.execute(db);
      await db.schema.dropTable('derivation_inputs').execute();
      await db.schema
        .createIndex('derivation_input_edges_derivation')
        .on('derivation_input_edges')
        .column('derivation_id')
        .execute();
      await db.schema
        .createIndex('derivation_input_edges_input')
        .on('derivation_input_edges')
        .column('input_id')
        .execute();
      await db.schema
        .createIndex('derivation_input_edges_unresolved')
        .on('derivation_input_edges')
        .column('input_path')
        .where(sql.ref('input_id'), 'is', null)
        .execute();
      await db.schema
        .createView('derivation_inputs')
        .as(
          db
            .selectFrom('derivation_input_edges as e')
            .leftJoin('derivations as d', 'd.id', 'e.input_id')
            .select([
              'e.derivation_id',
              sql<string>`coalesce(e.input_path, d.path)`.as('input_path'),
              'e.output_name',
              'e.input_id',
            ]),
        )
        .execute();
    },
  };
}
