// The dashboard's pages through app.request() on a real coordinator (SQLite
// file and PostgreSQL), client auth off: each page renders what the client
// API answers, the builds list filters and pages like `gbc builds list`, a
// build's page shows why it waits and its inputs, the assets are its own.
import { getBuild } from '@gbc/datastore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../clock.js';
import type { Coordinator } from '../coordinator/create-coordinator.js';
import {
  call,
  createTestPlace,
  fakeDrv,
  makeAgent,
  startedBuild,
  submit,
} from '../agent-api/test-support.js';
import type { TestPlace } from '../agent-api/test-support.js';
import { startControlled } from '../limits/test-support.js';
import { createTestBrowser } from './web-test-support.js';

describe.each(['sqlite', 'postgres'] as const)('dashboard pages on %s', (dialect) => {
  let place: TestPlace;
  let c: Coordinator;
  let clock: ManualClock;
  let dependent: string;
  let input: string;
  let running: string;
  const tagged: string[] = [];

  beforeAll(async () => {
    place = createTestPlace(dialect);
    ({ c, clock } = await startControlled(place));
    const agent = await makeAgent(c, 'web-agent');
    running = await startedBuild(c, agent, fakeDrv('web-running'));
    const lib = fakeDrv('web-lib');
    const app = fakeDrv('web-app', [lib]);
    [input, dependent] = (await submit(
      c,
      [lib, app],
      [{ derivationPath: lib.path }, { derivationPath: app.path }],
    )) as [string, string];
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      const drv = fakeDrv(`web-tagged-${i}`, [], 'aarch64-linux');
      tagged.push(
        ...(await submit(c, [drv], [{ derivationPath: drv.path, tags: [{ key: 'jobset', value: 'web' }] }])),
      );
    }
  });
  afterAll(async () => {
    await c.stop();
    place.remove();
  });

  it('redirects / to the dashboard, and serves the overview with an anonymous session while auth is off', async () => {
    const browser = createTestBrowser(c);
    const root = await browser.get('/');
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/ui');
    expect((await browser.get('/ui/')).headers.get('location')).toBe('/ui');
    const res = await browser.get('/ui');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(browser.cookie).toBeDefined();
    const html = await res.text();
    expect(html.startsWith('<!DOCTYPE html><html lang="en">')).toBe(true);
    expect(html).toContain('Unfinished builds by system');
    // aarch64: three queued; x86_64: lib and app queued, one running.
    expect(html).toMatch(/aarch64-linux<\/td><td class="num"><a href="[^"]*state=queued[^"]*">3<\/a>/);
    expect(html).toContain('web-agent');
    expect(html).toContain('web-running.drv');
    expect(html).toContain('client auth is off');
  });

  it('lists builds with the filters of gbc builds list, one keyset page at a time', async () => {
    const browser = createTestBrowser(c);
    const first = await (await browser.get('/ui/builds?tag=jobset%3Dweb&limit=2&system=')).text();
    const uuidsOf = (html: string) =>
      [...html.matchAll(/<a class="mono" href="\/ui\/build\/([0-9a-f-]{36})"/g)].map((m) => m[1]);
    expect(uuidsOf(first)).toEqual([tagged[2], tagged[1]]);
    const next = /<a rel="next" href="([^"]+)"/.exec(first)![1]!.replaceAll('&amp;', '&');
    expect(next).toContain('tag=jobset%3Dweb');
    const second = await (await browser.get(next)).text();
    expect(uuidsOf(second)).toEqual([tagged[0]]);
    expect(second).not.toContain('rel="next"');
    const started = await (await browser.get('/ui/builds?state=started')).text();
    expect(uuidsOf(started)).toEqual([running]);
    // Priority and time, as `gbc builds list --priority-min/--created-after/--created-before`.
    const raised = await c.clientApp.request(`/build/${tagged[1]!}/update-priority`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ priority: 7 }),
    });
    expect(raised.status).toBe(200);
    const urgent = await (await browser.get('/ui/builds?tag=jobset%3Dweb&priorityMin=5&priorityMax=')).text();
    expect(uuidsOf(urgent)).toEqual([tagged[1]]);
    expect(urgent).toContain('name="priorityMin" value="5"');
    const at = async (i: number) =>
      new Date((await getBuild(c.context.datastore.db, tagged[i]!))!.createdAt).toISOString();
    const window = `createdAfter=${await at(0)}&createdBefore=${await at(2)}`;
    expect(uuidsOf(await (await browser.get(`/ui/builds?${window}`)).text())).toEqual([tagged[1]]);
  });

  it('shows a refused filter beside the form', async () => {
    const res = await createTestBrowser(c).get('/ui/builds?state=nonsense');
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('role="alert"');
  });

  it("shows a waiting build's why, its inputs and their builds", async () => {
    const html = await (await createTestBrowser(c).get(`/ui/build/${dependent}`)).text();
    expect(html).toContain('Waiting for inputs being built');
    expect(html).toContain(`/ui/build/${input}`);
    expect(html).toContain('web-lib.drv');
    expect(html).toContain('Cancel build');
  });

  it('lists agents, the allocation plan and the hooks', async () => {
    const browser = createTestBrowser(c);
    expect(await (await browser.get('/ui/agents')).text()).toContain('web-agent');
    expect((await browser.get('/ui/allocation-plan')).status).toBe(200);
    expect(await (await browser.get('/ui/hooks')).text()).toContain('Queue');
  });

  it("shows an agent's current builds and its recently finished ones", async () => {
    const agent = await makeAgent(c, 'web-finisher');
    const done = await startedBuild(c, agent, fakeDrv('web-finished', [], 'riscv64-linux'));
    const res = await call(c, 'POST', `/build/${done}/report-result`, agent.auth, {
      result: 'build-failure',
    });
    expect(res.status).toBe(204);
    const current = await startedBuild(c, agent, fakeDrv('web-current', [], 'riscv64-linux'));
    const html = await (await createTestBrowser(c).get(`/ui/agent/${agent.id}`)).text();
    const [now, finished] = html.split('Recently finished') as [string, string];
    expect(now).toContain(`/ui/build/${current}`);
    expect(now).not.toContain(`/ui/build/${done}`);
    expect(finished).toContain(`/ui/build/${done}`);
    expect(finished).toContain('web-finished.drv');
    expect(finished).toContain('build-failure');
    expect(finished).not.toContain(`/ui/build/${current}`);
  });

  it('serves its own assets under content-hashed names, and a 404 page for unknown paths', async () => {
    const browser = createTestBrowser(c);
    const html = await (await browser.get('/ui/agents')).text();
    for (const m of html.matchAll(/(?:src|href)="(\/ui\/assets\/[^"]+)"/g)) {
      const res = await browser.get(m[1]!);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toContain('immutable');
    }
    expect((await browser.get('/ui/assets/nothing.js')).status).toBe(404);
    const missing = await browser.get('/ui/no-such-page');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('text/html');
  });
});
