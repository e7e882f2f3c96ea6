// Submission by name, end to end with real processes: derivations made by
// nix-instantiate are copied by `nix copy --derivation` into a signed binary
// cache served over loopback HTTP, then deleted from the local store, so the
// client holds no copy. `gbc submit-build --no-upload` names the derivation;
// the coordinator fetches its closure from the cache (Sig: checked against
// --trusted-public-key) and the build runs on an agent whose own nix-daemon
// gets the input source from the same cache. A name no server has is refused
// with a clear error.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildDetail } from '@gbc/protocol';
import {
  gbcOk,
  runGbc,
  startGbcAgent,
  startGbcCoordinator,
  type GbcCoordinator,
  type GbcProcess,
} from '../support/gbc-cli.js';
import { startNixDaemon, type NixDaemonProcess } from '../support/nix-daemon-process.js';
import { waitFor } from '../support/wait-for.js';

const RUN_MS = 180_000;
const env = { ...process.env, NIX_REMOTE: 'daemon' };
const nix = (command: string, ...args: string[]) =>
  execFileSync(command, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

describe('submission by name (a client with no local copy)', () => {
  let dir: string;
  let cacheServer: Server | undefined;
  let coordinator: GbcCoordinator | undefined;
  let daemon: NixDaemonProcess | undefined;
  let agent: GbcProcess | undefined;
  let top: string;
  let texts: Map<string, Buffer>;
  const gbc = (...args: string[]) => gbcOk([...args, '--coordinator', coordinator!.clientUrl], dir);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gbc-by-name-'));
    const stamp = randomUUID();
    writeFileSync(
      join(dir, 'expr.nix'),
      `let
  mk = attrs: derivation ({ system = builtins.currentSystem; builder = "/bin/sh"; PATH = "/usr/bin:/bin"; stamp = "${stamp}"; } // attrs);
  greeting = builtins.toFile "by-name-greeting" "hello by name ${stamp}\\n";
  dep = mk { name = "by-name-dep"; args = [ "-c" "cat \${greeting} > $out" ]; };
in mk { name = "by-name-top"; args = [ "-c" "cat \${dep} > $out; echo top >> $out" ]; }
`,
    );
    top = nix('nix-instantiate', join(dir, 'expr.nix'));
    const closure = nix('nix-store', '-qR', top).split('\n');
    texts = new Map(closure.map((p) => [p, readFileSync(p)]));
    nix(
      'nix-store',
      '--generate-binary-cache-key',
      'by-name-1',
      join(dir, 'cache.sec'),
      join(dir, 'cache.pub'),
    );
    nix(
      'nix',
      'copy',
      '--derivation',
      '--to',
      `file://${join(dir, 'cache')}?compression=xz&secret-key=${join(dir, 'cache.sec')}`,
      top,
    );
    // The client's store keeps no copy: only the binary cache has them now.
    nix('nix-store', '--delete', ...closure);
    for (const p of closure) expect(() => statSync(p)).toThrow();

    cacheServer = createServer((req, res) => {
      const rel = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(
        /^\/+/,
        '',
      );
      let body: Buffer;
      try {
        body = readFileSync(join(dir, 'cache', rel));
      } catch {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200).end(body);
    });
    await new Promise<void>((resolve) => cacheServer!.listen(0, '127.0.0.1', resolve));
    const cacheUrl = `http://127.0.0.1:${(cacheServer.address() as AddressInfo).port}`;

    coordinator = await startGbcCoordinator(dir, [
      '--database',
      `sqlite://${join(dir, 'gbc.db')}`,
      '--data-dir',
      join(dir, 'data'),
      '--store-dir',
      '/nix/store',
      '--agent-communication',
      'http://127.0.0.1:0',
      '--client-communication',
      'http://127.0.0.1:0',
      '--log-level',
      'warn',
      '--derivation-substitute-url',
      cacheUrl,
      '--trusted-public-key',
      readFileSync(join(dir, 'cache.pub'), 'utf8').trim(),
    ]);
    daemon = await startNixDaemon(join(dir, 'machine'), '/nix/store');
    agent = await startGbcAgent({ dir, coordinator, daemonSocket: daemon.socket, gbc }, 'by-name-agent', [
      '--poll-interval',
      '0.2',
      '--non-derivation-substitute-url',
      cacheUrl,
    ]);
  }, RUN_MS);

  afterAll(async () => {
    const agentCode = await agent?.stop();
    const coordinatorCode = await coordinator?.stop();
    await daemon?.stop();
    await new Promise((resolve) =>
      cacheServer === undefined ? resolve(undefined) : cacheServer.close(resolve),
    );
    rmSync(dir, { recursive: true, force: true });
    expect(agentCode ?? 0).toBe(0);
    expect(coordinatorCode ?? 0).toBe(0);
  }, RUN_MS);

  it(
    'the coordinator fetches the closure from the signed cache and the build runs',
    async () => {
      // Its input `dep` has no build yet: the related builds are made with it.
      const submitted = JSON.parse(
        await gbc(
          'submit-build',
          '--no-upload',
          top,
          '--ensure-all-related-derivation-outputs-have-successful-builds',
          '--json',
        ),
      ) as {
        builds: { uuid: string; created: boolean; relatedBuilds: string[] }[];
      };
      expect(submitted.builds.map((b) => [b.created, b.relatedBuilds.length])).toEqual([[true, 1]]);
      // The coordinator holds each derivation of the closure, byte for byte.
      for (const [path, bytes] of texts) {
        if (!path.endsWith('.drv')) continue;
        const res = await fetch(`${coordinator!.clientUrl}/derivation/${path.slice('/nix/store/'.length)}`);
        expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
      }
      const uuid = submitted.builds[0]!.uuid;
      const done = await waitFor(
        'the build to end',
        async () => {
          const b = JSON.parse(await gbc('build', 'show', uuid, '--json')) as BuildDetail;
          return ['succeeded', 'failed', 'canceled'].includes(b.state) ? b : undefined;
        },
        RUN_MS - 30_000,
        500,
      );
      expect(done.state).toBe('succeeded');
      // The output as the agent built it: the greeting (a source from the cache) through dep, then top's line.
      const out = done.outputs.find((o) => o.name === 'out')!.path;
      const files = readdirSync(join(daemon!.root, 'nix', 'store')).filter((n) => out.endsWith(n));
      expect(files).toHaveLength(1);
      expect(readFileSync(join(daemon!.root, 'nix', 'store', files[0]!), 'utf8')).toMatch(
        /^hello by name .*\ntop\n$/,
      );
    },
    RUN_MS,
  );

  it('a name no server has is refused, saying so', async () => {
    const unknown = top.replace(/\/[0-9a-z]{32}-/, `/${'0'.repeat(32)}-`);
    const r = await runGbc(
      ['submit-build', '--no-upload', unknown, '--coordinator', coordinator!.clientUrl],
      dir,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no derivation substitute server has it');
  });
});
