// Benchmark of agent logins under a flood of wrong passwords (issue 19,
// item 1): a `gbc coordinator` process on SQLite; an agent with 20 passwords;
// 200 bad logins for that agent's (public) UUID kept in flight over loopback
// HTTP while the real agent, with its password, makes 200 authenticated calls
// one after another (a status report each, as an agent does). Prints their
// latency (p50, p99, max) beside the same calls with no flood, and how the
// flood was answered (401 checked, 429 refused by the per-agent limit).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CoordinatorClient } from '@gbc/protocol';

const FLOOD = 200;
const LOGINS = 200;
const dir = mkdtempSync(join(tmpdir(), 'gbc-bench-flood-'));
const gbc = join(import.meta.dirname, '../../cli/bin/gbc');
const child = spawn(
  gbc,
  [
    'coordinator',
    '--json',
    '--database',
    `sqlite://${join(dir, 'gbc.db')}`,
    '--data-dir',
    join(dir, 'data'),
    '--agent-communication',
    'http://127.0.0.1:0',
    '--client-communication',
    'http://127.0.0.1:0',
    '--log-level',
    'error',
  ],
  { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] },
);
try {
  let text = '';
  const urls = await new Promise<{ agentUrl: string; clientUrl: string }>((resolve, reject) => {
    child.once('exit', () => reject(new Error('the coordinator exited')));
    createInterface({ input: child.stdout }).on('line', (line) => {
      text += line;
      try {
        resolve(JSON.parse(text) as { agentUrl: string; clientUrl: string });
      } catch {
        // not whole yet
      }
    });
  });
  const client = new CoordinatorClient({ baseUrl: urls.clientUrl });
  const created = await client.createAgent({ name: 'flooded' });
  const agent = created.agent.uuid;
  for (let i = 0; i < 19; i++) await client.newAgentPassword(agent);
  const answers = new Map<number, number>();
  const login = async (password: string): Promise<number> => {
    const t0 = performance.now();
    const res = await fetch(`${urls.agentUrl}/agent/${agent}/status`, {
      method: 'PUT',
      body: JSON.stringify({ load1: 0, builds: [] }),
      headers: {
        'Content-Type': 'application/json',
        Authorization: `Basic ${Buffer.from(`${agent}:${password}`).toString('base64')}`,
      },
    });
    await res.arrayBuffer();
    answers.set(res.status, (answers.get(res.status) ?? 0) + 1);
    if (!password.startsWith('wrong') && res.status !== 200)
      throw new Error(`the real agent's call answered ${res.status}`);
    return performance.now() - t0;
  };
  const realLogins = async (): Promise<number[]> => {
    const times: number[] = [];
    for (let i = 0; i < LOGINS; i++) times.push(await login(created.password!));
    return times.sort((a, b) => a - b);
  };
  const quiet = await realLogins();
  answers.clear();
  let stop = false;
  let bad = 0;
  const flood = Array.from({ length: FLOOD }, async (_, k) => {
    for (let i = 0; !stop; i++) {
      await login(`wrong-${k}-${i}-${'x'.repeat(30)}`);
      bad++;
    }
  });
  const t0 = performance.now();
  const flooded = await realLogins();
  const seconds = (performance.now() - t0) / 1000;
  stop = true;
  await Promise.all(flood);
  const q = (xs: number[], p: number) =>
    xs[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!.toFixed(1);
  console.log(`## Agent logins under a flood of wrong passwords (issue 19)

A \`gbc coordinator\` process (SQLite); an agent with 20 passwords; ${LOGINS} authenticated calls of the real
agent with its password (status reports, one after another), first with nothing else, then while
${FLOOD} wrong-password logins for the same agent's UUID are kept in flight over loopback.

| | p50 ms | p99 ms | max ms |
|---|---|---|---|
| real agent, quiet | ${q(quiet, 50)} | ${q(quiet, 99)} | ${quiet.at(-1)!.toFixed(1)} |
| real agent, ${FLOOD} bad logins in flight | ${q(flooded, 50)} | ${q(flooded, 99)} | ${flooded.at(-1)!.toFixed(1)} |

Wrong-password logins answered meanwhile: ${bad} (${(bad / seconds).toFixed(0)}/s): ${[...answers]
    .filter(([code]) => code !== 200)
    .map(([code, n]) => `${n} × ${code}`)
    .join(', ')}
(401: checked, found by the password's sha256, no scrypt; 429: refused by the per-agent limit without a check).
Target: p99 under 500 ms with the flood. Load average at the end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}.`);
} finally {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
}
