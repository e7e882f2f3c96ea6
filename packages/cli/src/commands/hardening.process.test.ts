// Issue 19 through real gbc processes against a coordinator started by
// `gbc coordinator`: `gbc agent password list|revoke` and `gbc dynamic-auth
// list|revoke` (item 2) never print a secret, and what they revoke is refused
// on the agent port from the next call on; `--metrics-communication` (item 7)
// takes /metrics, which names every agent, off the agent port;
// `--dashboard-communication` serves the dashboard read-only, without a login.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../errors.js';
import { runGbc, startCoordinator } from '../testing/gbc-process.js';
import type { CoordinatorProcess, GbcRun } from '../testing/gbc-process.js';

const PROCESS_TIMEOUT = 120_000;
let dir: string;
let coordinator: CoordinatorProcess;
const gbc = (args: string[]): Promise<GbcRun> =>
  runGbc([...args, '--coordinator', coordinator.clientUrl], { cwd: dir });
const json = <T>(run: GbcRun): T => {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as T;
};
const status = (agent: string, password: string): Promise<number> =>
  fetch(`${coordinator.agentUrl}/agent/${agent}/status`, {
    method: 'PUT',
    headers: {
      Authorization: `Basic ${Buffer.from(`${agent}:${password}`).toString('base64')}`,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify({ load1: 0, builds: [] }),
  }).then((r) => r.status);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gbc-cli-credentials-'));
  coordinator = await startCoordinator(dir, [
    '--database',
    `sqlite://${join(dir, 'gbc.db')}`,
    '--agent-communication',
    'http://127.0.0.1:0',
    '--client-communication',
    'http://127.0.0.1:0',
    '--metrics-communication',
    'http://127.0.0.1:0',
    '--dashboard-communication',
    'http://127.0.0.1:0',
    '--log-level',
    'warn',
  ]);
});

afterAll(async () => {
  // undefined when beforeAll failed before the coordinator started
  const started = coordinator as CoordinatorProcess | undefined;
  expect(await started?.stop()).toBe(0);
  rmSync(dir, { recursive: true, force: true });
});

describe('gbc credential administration and metrics address', () => {
  it(
    'serves /metrics on --metrics-communication only, not on the agent port',
    async () => {
      expect(coordinator.metricsUrl).toBeDefined();
      expect((await fetch(`${coordinator.agentUrl}/metrics`)).status).toBe(404);
      const own = await fetch(`${coordinator.metricsUrl!}/metrics`);
      expect(own.status).toBe(200);
      expect(await own.text()).toContain('gbc_agents');
    },
    PROCESS_TIMEOUT,
  );

  it(
    'serves the dashboard read-only on --dashboard-communication, without a login',
    async () => {
      const page = await fetch(`${coordinator.dashboardUrl!}/ui/agents`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('read-only view');
      const post = await fetch(`${coordinator.dashboardUrl!}/ui/login`, { method: 'POST', body: 'token=x' });
      expect(post.status).toBe(405);
    },
    PROCESS_TIMEOUT,
  );

  it(
    "lists an agent's passwords without secrets and revokes one; the agent port refuses it at once",
    async () => {
      const created = json<{ agent: { uuid: string }; password: string }>(
        await gbc(['agent', 'new', 'cred-builder', '--json']),
      );
      const id = created.agent.uuid;
      const second = (await gbc(['agent', 'password', 'new', id])).stdout.trim();
      expect([await status(id, created.password), await status(id, second)]).toEqual([200, 200]);
      const listedText = await gbc(['agent', 'password', 'list', id]);
      expect(listedText.stdout).not.toContain(created.password);
      expect(
        listedText.stdout
          .trim()
          .split('\n')
          .map((l) => l.split(/\s+/)[2]),
      ).toEqual(['operator', 'operator']);
      const listed = json<{ passwords: Array<{ id: number }> }>(
        await gbc(['agent', 'password', 'list', id, '--json']),
      );
      const revoked = await gbc(['agent', 'password', 'revoke', id, String(listed.passwords[0]!.id)]);
      expect(revoked.code).toBe(0);
      expect([await status(id, created.password), await status(id, second)]).toEqual([401, 200]);
      const again = await gbc(['agent', 'password', 'revoke', id, String(listed.passwords[0]!.id)]);
      expect(again.code).toBe(ExitCode.failure);
      expect(again.stderr).toMatch(/^gbc: .*password/);
    },
    PROCESS_TIMEOUT,
  );

  it(
    'lists dynamic-auth tokens with their agents and revokes one, ending its sessions',
    async () => {
      const token = json<{ token: string; id: number }>(await gbc(['dynamic-auth', 'new-token', '--json']));
      const res = await fetch(`${coordinator.agentUrl}/agent/session`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'cred-dyn', token: token.token }),
      });
      const session = (await res.json()) as { agent: string; password: string };
      expect(await status(session.agent, session.password)).toBe(200);
      const listed = await gbc(['dynamic-auth', 'list']);
      expect(listed.stdout).toMatch(new RegExp(`^${token.id}\\s+\\S+\\s+live\\s+${session.agent}$`, 'm'));
      expect(listed.stdout).not.toContain(token.token);
      expect((await gbc(['dynamic-auth', 'revoke', String(token.id)])).stdout).toContain(
        '1 session password(s) of 1 agent(s) removed',
      );
      expect(await status(session.agent, session.password)).toBe(401);
      expect((await gbc(['dynamic-auth', 'list'])).stdout).toMatch(
        new RegExp(`^${token.id}\\s+\\S+\\s+revoked `, 'm'),
      );
    },
    PROCESS_TIMEOUT,
  );
});
