// What the failover test asks PostgreSQL directly, with psql (this package has
// no database driver): which coordinator process holds the scheduler lock, when
// the first allocation after a moment happened, how builds ended, and whether
// hook events are still waiting.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Runs `statement` and returns its rows, fields split on tabs. */
export function psqlRows(uri: string, statement: string): string[][] {
  const out = execFileSync(
    psqlProgram(),
    ['--no-psqlrc', '-At', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-d', uri, '-c', statement],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}

/** The pid of the coordinator process holding the scheduler lock (its application_name is `gbc-coordinator host/pid/…`), if any. */
export function schedulerPid(uri: string): number | undefined {
  const rows = psqlRows(
    uri,
    `select a.application_name from pg_locks l join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted and l.classid = ${0x67626300} and l.objid = 1 and l.objsubid = 2`,
  );
  const name = rows[0]?.[0];
  const pid = name === undefined ? undefined : /^gbc-coordinator [^/]*\/(\d+)\//.exec(name)?.[1];
  return pid === undefined ? undefined : Number(pid);
}

/** The earliest allocation strictly after `afterMs` (epoch ms), if any. */
export function firstAllocationAfter(uri: string, afterMs: number): number | undefined {
  const v = psqlRows(
    uri,
    `select min(allocated_at) from attempts where allocated_at > ${Math.floor(afterMs)}`,
  )[0]?.[0];
  return v === undefined || v === '' ? undefined : Number(v);
}

/** Per build: how many of its attempts ended in success, and its state. */
export function successfulAttempts(uri: string): Map<string, { state: string; successes: number }> {
  const rows = psqlRows(
    uri,
    `select b.uuid, b.state, count(a.id) filter (where a.result = 'success')
       from builds b left join attempts a on a.build_id = b.id group by b.uuid, b.state`,
  );
  return new Map(rows.map(([uuid, state, n]) => [uuid!, { state: state!, successes: Number(n) }]));
}

/** Hook events not yet done. */
export function pendingHookEvents(uri: string): number {
  return Number(psqlRows(uri, 'select count(*) from outbox where done_at is null')[0]?.[0] ?? 0);
}

/** `psql` from PATH, else from the newest /usr/lib/postgresql/N/bin. */
function psqlProgram(): string {
  for (const dir of (process.env.PATH ?? '').split(':'))
    if (dir !== '' && existsSync(join(dir, 'psql'))) return join(dir, 'psql');
  const base = '/usr/lib/postgresql';
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin/psql')))
    .sort((a, b) => Number(b) - Number(a));
  if (versions[0] === undefined)
    throw new Error('psql not found on PATH nor under /usr/lib/postgresql/*/bin');
  return join(base, versions[0], 'bin/psql');
}
