// The dashboard in a real browser (issue 22): Debian's Chromium, headless,
// driven by Playwright, against `gbc coordinator` (SQLite, client tokens
// required) and one `gbc agent` building on its own nix-daemon store. It logs
// in, reads the overview, filters builds, follows a running build's log as
// the agent prints it, cancels the build with a read-write token while a
// read-only viewer watches its state change live, and finds no buttons for
// the read-only token. With GBC_SCREENSHOTS=1 it also writes the README's
// screenshots into docs/screenshots/.
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoordinatorClient } from '@gbc/protocol';
import type { BuildState, CreatedClientToken } from '@gbc/protocol';
import { gbcOk, startGbcAgent, startGbcCoordinator } from '../support/gbc-cli.js';
import type { GbcCoordinator, GbcProcess } from '../support/gbc-cli.js';
import { startNixDaemon } from '../support/nix-daemon-process.js';
import type { NixDaemonProcess } from '../support/nix-daemon-process.js';
import { waitFor } from '../support/wait-for.js';
import { instantiateWebDerivations, type WebDerivations } from './web-derivations.js';

const RUN_MS = 240_000;
const STEP_MS = 120_000;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium';
const SCREENSHOTS = process.env.GBC_SCREENSHOTS === '1';
const SCREENSHOT_DIR = fileURLToPath(new URL('../../../../docs/screenshots/', import.meta.url));

let dir: string;
let coordinator: GbcCoordinator | undefined;
let agent: GbcProcess | undefined;
let daemon: NixDaemonProcess | undefined;
let browser: Browser | undefined;
let drvs: WebDerivations;
let marker: string;
let admin: CreatedClientToken;
let viewer: CreatedClientToken;
const gbc = (...args: string[]) =>
  gbcOk([...args, '--coordinator', coordinator!.clientUrl, '--token', admin.secret], dir);
const api = () => new CoordinatorClient({ baseUrl: coordinator!.clientUrl, token: admin.secret });
const submit = async (drv: string, ...flags: string[]) =>
  (JSON.parse(await gbc('submit-build', drv, '--json', ...flags)) as { builds: Array<{ uuid: string }> })
    .builds[0]!.uuid;
const untilState = (uuid: string, states: readonly BuildState[]) =>
  waitFor(
    `build ${uuid} ${states.join('/')}`,
    async () => ((await api().getBuild(uuid)).state in toSet(states) ? true : undefined),
    STEP_MS,
  );
const toSet = (states: readonly string[]) => Object.fromEntries(states.map((s) => [s, true]));

/** A fresh browser context (its own cookies) logged in with `secret`, on page `path`. */
async function loggedIn(
  secret: string,
  path: string,
  viewport = { width: 1280, height: 900 },
): Promise<Page> {
  const context = await browser!.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(`${coordinator!.clientUrl}${path}`);
  // No session yet: the dashboard asks for a token, then comes back to `path`.
  expect(new URL(page.url()).pathname).toBe('/ui/login');
  await page.getByLabel('Client token').fill(secret);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL((url) => url.pathname + url.search === path);
  return page;
}

async function screenshot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gbc-web-'));
  marker = randomUUID();
  drvs = instantiateWebDerivations(dir, marker);
  const database = `sqlite://${join(dir, 'gbc.db')}`;
  const token = async (name: string, ...flags: string[]) =>
    JSON.parse(
      await gbcOk(['client-token', 'new', name, '--json', '--database', database, ...flags], dir),
    ) as CreatedClientToken;
  admin = await token('operator');
  viewer = await token('viewer', '--read-only');
  coordinator = await startGbcCoordinator(dir, [
    '--database',
    database,
    '--data-dir',
    join(dir, 'data'),
    '--agent-communication',
    'http://127.0.0.1:0',
    '--client-communication',
    'http://127.0.0.1:0',
    '--store-dir',
    '/nix/store',
    '--log-level',
    'warn',
    '--client-auth',
    'required',
    '--dashboard-communication',
    'http://127.0.0.1:0',
  ]);
  daemon = await startNixDaemon(join(dir, 'machine'), '/nix/store');
  agent = await startGbcAgent(
    { dir, coordinator: coordinator, daemonSocket: daemon.socket, gbc },
    'web-agent',
  );
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
}, RUN_MS);

afterAll(async () => {
  await browser?.close();
  const agentCode = await agent?.stop();
  const coordinatorCode = await coordinator?.stop();
  await daemon?.stop();
  rmSync(dir, { recursive: true, force: true });
  expect(agentCode ?? 0).toBe(0);
  expect(coordinatorCode ?? 0).toBe(0);
}, RUN_MS);

describe('the web dashboard in Chromium (issue 22)', () => {
  let ticking: string;
  let idle: string;

  it(
    'logs in with a token and shows the overview: the agent, and the builds by system',
    async () => {
      ticking = await submit(drvs.ticking, '--tag', `suite=web-${marker}`);
      idle = await submit(drvs.idle, '--tag', 'suite=other', '--defer-until', '2999-01-01T00:00:00Z');
      await untilState(ticking, ['started']);
      const page = await loggedIn(admin.secret, '/ui');
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      const agents = page.locator('[data-part="agents"]');
      await agents.getByRole('link', { name: 'web-agent' }).waitFor();
      // The agent's current work is listed beside it, by derivation name.
      await agents.getByRole('link', { name: 'gbc-web-ticking.drv' }).waitFor();
      const systems = await page.locator('[data-part="systems"]').innerText();
      expect(systems).toContain('x86_64-linux');
      await screenshot(page, 'overview');
      await page.context().close();
    },
    STEP_MS,
  );

  it(
    'filters the builds list through its form, into a URL that can be shared',
    async () => {
      const page = await loggedIn(admin.secret, '/ui/builds');
      const rows = page.locator('[data-part="builds"] tbody tr');
      await rows.first().waitFor();
      expect(await rows.count()).toBe(2);
      await page.getByLabel('Tag').fill(`suite=web-${marker}`);
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForURL((url) => url.searchParams.get('tag') === `suite=web-${marker}`);
      expect(await rows.count()).toBe(1);
      expect(await rows.first().innerText()).toContain('gbc-web-ticking.drv');
      // The same URL in another browser shows the same list.
      const shared = await loggedIn(viewer.secret, new URL(page.url()).pathname + new URL(page.url()).search);
      const sharedRows = shared.locator('[data-part="builds"] tbody tr');
      await sharedRows.first().waitFor();
      expect(await sharedRows.count()).toBe(1);
      await page.context().close();
      await shared.context().close();
    },
    STEP_MS,
  );

  it(
    "follows a running build's log live, cancels it with a read-write token while a read-only viewer watches it end, and shows the viewer no buttons",
    async () => {
      const path = `/ui/build/${ticking}`;
      const watcher = await loggedIn(viewer.secret, path);
      const page = await loggedIn(admin.secret, path);
      const log = page.locator('#log');
      await log.filter({ hasText: `of ${marker}` }).waitFor({ timeout: STEP_MS });
      // Lines keep arriving in the page itself, without a reload: wait for one five lines later.
      const seen = Math.max(
        ...[...(await log.innerText()).matchAll(/line (\d+) of/g)].map((m) => Number(m[1])),
      );
      await log.filter({ hasText: `line ${seen + 5} of ${marker}` }).waitFor({ timeout: STEP_MS });
      expect(await page.locator('[data-field="state"]').innerText()).toContain('started');
      await screenshot(page, 'build');

      // The read-only viewer sees the log too, but no buttons.
      await watcher
        .locator('#log')
        .filter({ hasText: `of ${marker}` })
        .waitFor({ timeout: STEP_MS });
      expect(await watcher.getByRole('button', { name: 'Cancel build' }).count()).toBe(0);
      expect(await watcher.getByRole('button', { name: 'Change priority' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Change priority' }).count()).toBe(1);

      page.once('dialog', (dialog) => void dialog.accept());
      await page.getByRole('button', { name: 'Cancel build' }).click();
      await page.locator('[data-field="state"] .state-canceled').waitFor({ timeout: STEP_MS });
      expect(await page.getByRole('button', { name: 'Cancel build' }).count()).toBe(0);
      // The viewer's page changed by itself, through the event stream.
      await watcher.locator('[data-field="state"] .state-canceled').waitFor({ timeout: STEP_MS });
      expect(await watcher.evaluate('document.body.dataset.refreshed')).toBeDefined();
      expect((await api().getBuild(ticking)).state).toBe('canceled');
      await page.context().close();
      await watcher.context().close();
    },
    RUN_MS,
  );

  it(
    'shows the buttons of a queued build to the read-write token only',
    async () => {
      const path = `/ui/build/${idle}`;
      const viewerPage = await loggedIn(viewer.secret, path);
      await viewerPage.getByRole('heading', { name: /Why is it queued/ }).waitFor();
      expect(await viewerPage.getByRole('button', { name: 'Cancel build' }).count()).toBe(0);
      const operatorPage = await loggedIn(admin.secret, path);
      await operatorPage.getByRole('heading', { name: /Why is it queued/ }).waitFor();
      expect(await operatorPage.getByRole('button', { name: 'Cancel build' }).count()).toBe(1);
      expect(await operatorPage.getByText('Deferred until').count()).toBe(1);
      // The read-only address: no login, the same page, no button.
      const open = await (await browser!.newContext()).newPage();
      await open.goto(`${coordinator!.dashboardUrl!}${path}`);
      expect(new URL(open.url()).pathname).toBe(path);
      await open.getByRole('heading', { name: /Why is it queued/ }).waitFor();
      expect(await open.getByText('read-only view').count()).toBe(1);
      expect(await open.getByRole('button').count()).toBe(0);
      await viewerPage.context().close();
      await operatorPage.context().close();
      await open.context().close();
    },
    STEP_MS,
  );

  it(
    'fits a phone screen and is usable by keyboard',
    async () => {
      const page = await loggedIn(viewer.secret, '/ui', { width: 390, height: 844 });
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      const width = await page.evaluate<number>('document.documentElement.scrollWidth');
      expect(width).toBeLessThanOrEqual(390);
      await screenshot(page, 'overview-phone');
      // The first Tab reaches the skip link, the next ones the navigation.
      await page.keyboard.press('Tab');
      expect(await page.evaluate<string | undefined>('document.activeElement?.textContent')).toBe(
        'Skip to content',
      );
      await page.keyboard.press('Tab');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Tab');
      expect(await page.evaluate<string | undefined>('document.activeElement?.textContent')).toBe('Builds');
      await page.keyboard.press('Enter');
      await page.waitForURL((url) => url.pathname === '/ui/builds');
      await page.context().close();
    },
    STEP_MS,
  );
});
