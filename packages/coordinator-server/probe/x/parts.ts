import { openDatastore } from '@gbc/datastore';
import { sql } from 'kysely';
const ds = await openDatastore(process.argv[2]!);
const db = ds.db;
const time = async (name: string, f: () => Promise<unknown>) => {
  const t0 = performance.now(); const c0 = process.cpuUsage();
  const r = await f();
  const c = process.cpuUsage(c0);
  console.log(name, Math.round(performance.now() - t0), 'ms wall', Math.round((c.user + c.system) / 1000), 'ms cpu', Array.isArray(r) ? r.length : '');
};
const lo = 500000, hi = 520000;
await time('main rows', () => db.selectFrom('builds as b').innerJoin('derivations as d', 'd.id', 'b.derivation_id').select(['b.id','b.uuid','d.path','b.system','b.priority','b.created_at','b.defer_until','b.blocked_by']).where('b.state','=','queued').where('b.id','>',lo).orderBy('b.id').limit(20000).execute());
const ids = Array.from({length: 20000}, (_, i) => lo + 1 + i);
await time('tags IN', () => db.selectFrom('build_tags').selectAll().where('build_id','in',ids).orderBy('build_id').orderBy('key').orderBy('value').execute());
await time('tags range', () => db.selectFrom('build_tags').selectAll().where('build_id','>',lo).where('build_id','<=',hi).orderBy('build_id').orderBy('key').orderBy('value').execute());
await time('pending IN', async () => (await sql`select distinct b.id as build_id, i.input_path from builds b join derivation_inputs i on i.derivation_id = b.derivation_id left join derivation_outputs o on o.derivation_id = i.input_id and o.name = i.output_name left join output_metadata m on m.store_path = o.path where b.id in (${sql.join(ids)}) and m.store_path is null order by b.id, i.input_path`.execute(db)).rows);
await time('pending range', async () => (await sql`select distinct b.id as build_id, i.input_path from builds b join derivation_inputs i on i.derivation_id = b.derivation_id left join derivation_outputs o on o.derivation_id = i.input_id and o.name = i.output_name left join output_metadata m on m.store_path = o.path where b.id > ${lo} and b.id <= ${hi} and b.state = 'queued' and m.store_path is null order by b.id, i.input_path`.execute(db)).rows);
await ds.close();
