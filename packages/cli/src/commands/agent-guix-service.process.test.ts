// `gbc agent` started exactly as Guix's agent service starts the original
// agent: the arguments come from gbc-agent-arguments in docs/guix-service.scm
// (loaded with plain guile), which writes the flags of
// guix-build-coordinator-agent-shepherd-services in their order and `=`
// forms, the substitute URLs as one space-separated argument. The agent
// builds a derivation, then (started again the same way) one whose input's
// output only a binary cache named in --non-derivation-substitute-urls still
// has: the output left the build machine's store, and its NAR the
// coordinator's data directory (as when an operator moves NARs to another
// server; the coordinator still knows the output, so it hands the build
// out). The agent asks the coordinator, then a cache that has nothing, then
// the one that has it; it asks nothing of the --derivation-substitute-urls
// while the coordinator gives every .drv. Its log lines carry no time
// (--timestamp-log-output=false).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSystem } from '@gbc/agent';
import { storePathHashPart } from '@gbc/store';
import { ExitCode } from '../errors.js';
import { runGbc, startCoordinator, startGbc, waitFor } from '../testing/gbc-process.js';
import type { CoordinatorProcess, GbcRun } from '../testing/gbc-process.js';
import { instantiateTestDerivations } from '../testing/nix-derivations.js';
import type { TestDerivations } from '../testing/nix-derivations.js';

const PROCESS_TIMEOUT = 240_000;
const SERVICE_FILE = resolve(
  fileURLToPath(new URL('.', import.meta.url)),
  '../../../../docs/guix-service.scm',
);
const env = { ...process.env, NIX_REMOTE: 'daemon' };
let dir: string;
let coordinator: CoordinatorProcess;
let drvs: TestDerivations;
let server: Server;
let cacheUrl: string;
/** Paths the loopback binary cache was asked for, in order. */
const asked: string[] = [];
const gbc = (args: string[]): Promise<GbcRun> =>
  runGbc([...args, '--coordinator', coordinator.clientUrl], { cwd: dir });

/** Calls gbc-agent-arguments of docs/guix-service.scm with `call` (a Scheme expression of its keyword arguments). */
function serviceArguments(call: string): string[] {
  const script = join(dir, 'agent-arguments.scm');
  writeFileSync(
    script,
    `
(use-modules (ice-9 match))
(call-with-input-file (cadr (command-line))
  (lambda (port)
    (let loop ((form (read port)))
      (unless (eof-object? form)
        (match form
          (('define* ('gbc-agent-arguments . _) . _) (primitive-eval form))
          (_ #f))
        (loop (read port))))))
(for-each (lambda (arg) (display arg) (display "\\x00")) (gbc-agent-arguments ${call}))
`,
  );
  const out = execFileSync('guile', ['--no-auto-compile', '-s', script, SERVICE_FILE], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return out.split('\0').slice(0, -1);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gbc-guix-service-'));
  drvs = instantiateTestDerivations(dir, randomUUID());
  server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    asked.push(path);
    const [, root, ...rest] = path.split('/');
    try {
      if (root !== 'cache') throw new Error('only /cache holds anything');
      res.end(readFileSync(join(dir, 'cache', rest.join('/').replace(/\.\./g, ''))));
    } catch {
      res.statusCode = 404;
      res.end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cacheUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  coordinator = await startCoordinator(dir, [
    '--database',
    `sqlite://${join(dir, 'gbc.db')}`,
    '--agent-communication',
    'http://127.0.0.1:0',
    '--client-communication',
    'http://127.0.0.1:0',
    '--store-dir',
    '/nix/store',
    '--data-dir',
    'gbc-data',
    '--log-level',
    'warn',
  ]);
}, PROCESS_TIMEOUT);

afterAll(async () => {
  // undefined when beforeAll failed before they started
  const started = coordinator as CoordinatorProcess | undefined;
  const listening = server as Server | undefined;
  expect(await started?.stop()).toBe(0);
  await new Promise((r) => listening?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe("gbc agent with the Guix service's command line", () => {
  it(
    'is the command line of the Guix service, and builds with it, inputs from the non-derivation substitute URLs',
    async () => {
      const created = JSON.parse((await gbc(['agent', 'new', 'guix-service', '--json'])).stdout) as {
        agent: { uuid: string };
        password: string;
      };
      const passwordFile = join(dir, 'agent.password');
      writeFileSync(passwordFile, created.password, { mode: 0o600 });
      const system = defaultSystem();
      const drvUrls = [`${cacheUrl}/drv-a`, `${cacheUrl}/drv-b`];
      const otherUrls = [`${cacheUrl}/empty`, `${cacheUrl}/cache`];
      const args = serviceArguments(
        [
          `#:coordinator ${JSON.stringify(coordinator.agentUrl)}`,
          `#:authentication '(password-file ${JSON.stringify(created.agent.uuid)} ${JSON.stringify(passwordFile)})`,
          '#:max-parallel-builds 1 #:max-parallel-uploads 1 #:max-allocated-builds 2 #:max-1min-load-average 1000',
          `#:derivation-substitute-urls '(${drvUrls.map((u) => JSON.stringify(u)).join(' ')})`,
          `#:non-derivation-substitute-urls '(${otherUrls.map((u) => JSON.stringify(u)).join(' ')})`,
          `#:systems '(${JSON.stringify(system)})`,
        ].join(' '),
      );
      // What guix-build-coordinator-agent-shepherd-services writes for these fields, after bin/gbc.
      expect(args).toEqual([
        'agent',
        `--coordinator=${coordinator.agentUrl}`,
        '--timestamp-log-output=false',
        `--uuid=${created.agent.uuid}`,
        `--password-file=${passwordFile}`,
        '--max-parallel-builds=1',
        '--max-parallel-uploads=1',
        '--max-allocated-builds=2',
        '--max-1min-load-average=1000',
        `--derivation-substitute-urls=${drvUrls.join(' ')}`,
        `--non-derivation-substitute-urls=${otherUrls.join(' ')}`,
        `--system=${system}`,
      ]);
      // What the service puts in the environment, but for a Nix store.
      const start = (name: string) =>
        startGbc(dir, name, args, { GBC_STATE_DIR: join(dir, 'agent-state'), GBC_STORE_DIR: '/nix/store' });
      const build = async (agent: ReturnType<typeof start>, drv: string): Promise<void> => {
        try {
          const submitted = await gbc(['submit-build', drv, '--json']);
          expect(submitted.code, submitted.stderr).toBe(0);
          const uuid = (JSON.parse(submitted.stdout) as { builds: Array<{ uuid: string }> }).builds[0]!.uuid;
          const watched = await gbc(['build', 'watch', uuid]);
          expect(watched.stdout, `agent log:\n${agent.log()}`).toMatch(new RegExp(`${uuid} succeeded\\n$`));
          expect(watched.code).toBe(0);
        } finally {
          expect(await agent.stop()).toBe(0);
        }
      };
      await build(start('agent-1'), drvs.dep);
      const depOutput = execFileSync('nix-store', ['--query', '--outputs', drvs.dep], {
        encoding: 'utf8',
        env,
      }).trim();
      execFileSync('nix', ['copy', '--to', `file://${join(dir, 'cache')}`, depOutput], {
        env,
        stdio: 'pipe',
      });
      // Deleted once the daemon processes of the stopped agent's connections (their temporary roots) are gone.
      await waitFor(() => {
        try {
          execFileSync('nix-store', ['--delete', depOutput], { env, stdio: 'pipe' });
          return true;
        } catch {
          return undefined;
        }
      });
      const nars = readdirSync(join(dir, 'gbc-data'), { recursive: true, encoding: 'utf8' }).filter((f) =>
        f.endsWith(depOutput.slice('/nix/store/'.length)),
      );
      expect(nars).toHaveLength(1);
      rmSync(join(dir, 'gbc-data', nars[0]!));
      const agent = start('agent-2');
      await build(agent, drvs.top);
      // The input's output came from the second non-derivation URL, after the first said 404.
      const narinfo = `${storePathHashPart(depOutput)}.narinfo`;
      expect(asked.filter((p) => p.endsWith(narinfo))).toEqual([`/empty/${narinfo}`, `/cache/${narinfo}`]);
      // The derivation URLs are for .drv files the coordinator lacks: it had them all.
      expect(asked.filter((p) => p.startsWith('/drv-'))).toEqual([]);
      // --timestamp-log-output=false: JSON lines without a time (shepherd stamps them).
      const lines = agent
        .log()
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.filter((l) => 'time' in l)).toEqual([]);
      expect(lines.map((l) => l.msg)).toContain(
        'gbc agent: stopping after the builds it holds (signal again to abort them)',
      );
    },
    PROCESS_TIMEOUT,
  );

  it(
    'refuses a bad --timestamp-log-output, a URL list with a non-http URL, and takes no agent URL from GBC_COORDINATOR',
    async () => {
      const common = [
        'agent',
        '--uuid=00000000-0000-4000-8000-000000000001',
        '--password=pppppppppppppppppppp',
        `--state-dir=${join(dir, 'refused-state')}`,
      ];
      const [maybe, ftp, fromEnv] = await Promise.all([
        runGbc([...common, `--coordinator=${coordinator.agentUrl}`, '--timestamp-log-output=maybe'], {
          cwd: dir,
        }),
        runGbc(
          [
            ...common,
            `--coordinator=${coordinator.agentUrl}`,
            `--non-derivation-substitute-urls=${cacheUrl}/cache ftp://mirror.example/guix`,
          ],
          { cwd: dir },
        ),
        runGbc(common, { cwd: dir, env: { GBC_COORDINATOR: coordinator.agentUrl } }),
      ]);
      expect([maybe.code, maybe.stderr.trim()]).toEqual([
        ExitCode.usage,
        'gbc: --timestamp-log-output takes true or false, got "maybe"',
      ]);
      expect(ftp.code).toBe(ExitCode.failure);
      expect(ftp.stderr.trim()).toBe(
        'gbc: bad-options: nonDerivationSubstituteUrls: "ftp://mirror.example/guix" is not an http or https URL',
      );
      expect(fromEnv.code).toBe(ExitCode.usage);
      expect(fromEnv.stderr).toMatch(/^gbc: gbc agent needs --coordinator-url/);
    },
    PROCESS_TIMEOUT,
  );
});
