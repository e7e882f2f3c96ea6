// Guix's own substitute client takes outputs built by gbc agents from gbc's
// cache (issue 18), once per guix-daemon release: machine A's agent builds
// two fresh derivations (top's output refers to dep's); the coordinator,
// with /gnu/store and a Guix key, serves their narinfos in Guix's layout
// without being asked, and up to and including `Signature:` they are the
// bytes the real `guix publish` writes for the same items from A's store,
// signed with the same key. A second guix-daemon (B), substitutes on from the
// coordinator and /etc/guix/acl authorizing that key, gets top and its
// reference through the real `guix substitute`, driven by Guix's own client
// library (top's NAR zstd-compressed, dep's not). Through a lying cache in
// front of the coordinator, a narinfo altered after signing and a NAR with
// other contents are refused (daemon D); and a daemon C, after the
// coordinator was restarted with a key no ACL holds, fetches the same
// narinfos and refuses them.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBuildDaemon, type BuildDaemon, type PathInfo } from '@gbc/store';
import { guixDaemons, startGuixDaemon, type GuixDaemonProcess } from '@gbc/store/testing';
import { generateGuixKeyPair } from '../guix/guix-authenticate.js';
import { GNU_STORE } from '../guix/guix-farm-dag.js';
import { Closers, MACHINE_GUIX_KEY } from '../guix/guix-farm-setup.js';
import { guixEnsurePaths } from './guix-ensure-path.js';
import { startGuixPublish } from './guix-publish.js';
import { replaceOnce, startLyingCache } from './lying-cache.js';
import {
  restartCoordinator,
  startSubstituteSetup,
  substituteLogs,
  TOP_NUMBERS,
  type SubstituteSetup,
} from './substitute-setup.js';

const RUN_MS = 240_000;
const MACHINE_PUBLIC_KEY = '/etc/guix/signing-key.pub';

/** A narinfo up to and including its `Signature:` line: what Guix signs, and the signature. */
function signedPart(text: string): string {
  const at = text.indexOf('\nSignature: ');
  if (at < 0) throw new Error(`no Signature: line in ${text}`);
  return text.slice(0, text.indexOf('\n', at + 1) + 1);
}

/** The `q` (public key point, base16) of a key file or a signature s-expression. */
function publicPoint(sexp: string): string {
  const q = /\(q #([0-9A-Fa-f]+)#\)/.exec(sexp);
  if (q === null) throw new Error(`no (q #…#) in ${sexp.slice(0, 400)}`);
  return q[1]!.toUpperCase();
}

/** The public key point a narinfo's `Signature: 1;<host>;<base64>` was made with. */
function signerOf(narinfo: string): string {
  const line = /^Signature: 1;[^;\n]+;([A-Za-z0-9+/=]+)$/m.exec(narinfo);
  if (line === null) throw new Error(`no version-1 Signature in ${narinfo}`);
  return publicPoint(Buffer.from(line[1]!, 'base64').toString('latin1'));
}

/** The narinfo the cache at `url` serves for `storePath` by default (no query). */
async function defaultNarinfo(url: string, storePath: string): Promise<string> {
  const hash = storePath.slice(GNU_STORE.length + 1, GNU_STORE.length + 33);
  const res = await fetch(`${url}/${hash}.narinfo`);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${hash}.narinfo: ${res.status} ${text}`);
  return text;
}

/**
 * The narinfo text `guix substitute` in a private-store daemon cached for
 * `storePath` (any server; it caches what it fetched before checking it), or
 * undefined. The entry is `(narinfo … (value "<text>"))`, written by Scheme's `write`.
 */
function cachedLookup(daemon: GuixDaemonProcess, storePath: string): string | undefined {
  const root = join(daemon.dir, 'var', 'substitute', 'cache');
  const hash = storePath.slice(GNU_STORE.length + 1, GNU_STORE.length + 33);
  if (!existsSync(root)) return undefined;
  const found = readdirSync(root)
    .map((server) => join(root, server, hash))
    .find((f) => existsSync(f));
  if (found === undefined) return undefined;
  const entry = readFileSync(found, 'utf8');
  const value = /\(value "((?:[^"\\]|\\.)*)"\)/.exec(entry);
  if (value === null) throw new Error(`no narinfo text in the cache entry ${found}: ${entry.slice(0, 400)}`);
  return value[1]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}

/** The numbers top's output ends with. */
const numbers = Array.from({ length: TOP_NUMBERS }, (_, i) => `${i + 1}\n`).join('');

const facts = (info: PathInfo | null) =>
  info === null
    ? null
    : {
        narHash: info.narHash,
        narSize: info.narSize,
        references: [...info.references].sort(),
        deriver: info.deriver,
      };

for (const daemonCase of guixDaemons()) {
  describe.skipIf(daemonCase.skip !== undefined)(
    `guix substitute from gbc's cache on ${daemonCase.label}`,
    () => {
      const closers = new Closers();
      let setup: SubstituteSetup;
      const extraLogs: string[] = [];

      /** Starts a private-store daemon substituting from `url` and a client of it, both closed at the end. */
      const substitutingDaemon = async (
        name: string,
        url: string,
      ): Promise<{ daemon: GuixDaemonProcess; client: BuildDaemon }> => {
        const daemon = await startGuixDaemon({
          version: daemonCase.version,
          privateStore: true,
          substituteUrls: [url],
        });
        closers.add(`stopping guix-daemon ${name}`, () => daemon.stop());
        extraLogs.push(daemon.logFile);
        const client = createBuildDaemon({ socket: daemon.socket, storeDir: GNU_STORE });
        closers.add(`closing the client of daemon ${name}`, () => client.close());
        return { daemon, client };
      };

      beforeAll(async () => {
        setup = await startSubstituteSetup(daemonCase.version, closers, RUN_MS - 60_000);
      }, RUN_MS);
      afterAll(() => closers.closeAll(), RUN_MS);
      // Runs only after tests that ran, so after beforeAll set `setup`.
      afterEach(({ task }) => {
        if (task.result?.state === 'fail') console.error(substituteLogs(setup, extraLogs));
      });

      it(
        "built dep and top on machine A, top's output referring to dep's",
        async () => {
          const { items, clientA } = setup;
          expect(setup.items.builds.map((b) => `${b.derivation} ${b.state}`).sort()).toEqual(
            [`${items.dep.drvPath} succeeded`, `${items.top.drvPath} succeeded`].sort(),
          );
          const top = await clientA.queryPathInfo(items.topOut);
          expect(top).toMatchObject({ references: [items.depOut], deriver: items.top.drvPath });
          expect(
            readFileSync(join(setup.daemonA.storeOnDisk, items.topOut.slice(GNU_STORE.length + 1)), 'utf8'),
          ).toBe(`top ${items.marker}\n${items.depOut}\n${numbers}`);
        },
        RUN_MS,
      );

      it(
        'serves, without being asked, the signed part and Signature that the real `guix publish` writes for the same items',
        async () => {
          const publish = await startGuixPublish(
            setup.guixDir,
            setup.daemonA.socket,
            { publicKeyFile: MACHINE_PUBLIC_KEY, secretKeyFile: MACHINE_GUIX_KEY },
            setup.dir,
          );
          extraLogs.push(publish.logFile);
          try {
            for (const path of [setup.items.depOut, setup.items.topOut]) {
              const [ours, theirs] = await Promise.all([
                defaultNarinfo(setup.coordinator.agentUrl, path),
                publish.narinfo(path),
              ]);
              expect(signedPart(ours), `the narinfo of ${path}`).toBe(signedPart(theirs));
              // The comparison covers what matters: a reference (for top) and the deriver, signed by the machine's key.
              expect(ours).toContain(
                `\nDeriver: ${(path === setup.items.topOut ? setup.items.top : setup.items.dep).drvPath.slice(GNU_STORE.length + 1)}\n`,
              );
              expect(signerOf(ours)).toBe(publicPoint(readFileSync(MACHINE_PUBLIC_KEY, 'latin1')));
            }
            const top = await defaultNarinfo(setup.coordinator.agentUrl, setup.items.topOut);
            expect(top).toContain(`\nReferences: ${setup.items.depOut.slice(GNU_STORE.length + 1)}\n`);
            // top's NAR is offered zstd-compressed only, dep's uncompressed: substituting top makes `guix substitute` decompress.
            const offered = (text: string) => [...text.matchAll(/^Compression: (.*)$/gm)].map((m) => m[1]);
            expect([
              offered(top),
              offered(await defaultNarinfo(setup.coordinator.agentUrl, setup.items.depOut)),
            ]).toEqual([['zstd'], ['none']]);
          } finally {
            await publish.stop();
          }
        },
        RUN_MS,
      );

      it(
        'a daemon whose ACL authorizes the key substitutes top and its reference through `guix substitute`',
        async () => {
          const { items } = setup;
          // The key is the one /etc/guix/acl authorizes (shared by every namespace: daemon B reads it too).
          expect(readFileSync('/etc/guix/acl', 'latin1').toUpperCase()).toContain(
            publicPoint(readFileSync(MACHINE_PUBLIC_KEY, 'latin1')),
          );
          const b = await substitutingDaemon('B', setup.coordinator.agentUrl);
          expect(readFileSync(`/proc/${b.daemon.pid}/root/etc/guix/acl`, 'utf8')).toBe(
            readFileSync('/etc/guix/acl', 'utf8'),
          );
          expect([
            await b.client.isValidPath(items.topOut),
            await b.client.isValidPath(items.depOut),
          ]).toEqual([false, false]);
          const report = await guixEnsurePaths(setup.guixDir, b.daemon.socket, [items.topOut]);
          expect(report.substitutable, report.stderr).toEqual([items.topOut]);
          expect(report.infos).toEqual([
            {
              path: items.topOut,
              deriver: items.top.drvPath,
              references: [items.depOut],
              narSize: (await setup.clientA.queryPathInfo(items.topOut))!.narSize,
            },
          ]);
          expect(report.ensured, report.stderr).toEqual([{ path: items.topOut, ok: true }]);
          for (const path of [items.topOut, items.depOut]) {
            const [onA, onB] = await Promise.all([
              setup.clientA.queryPathInfo(path),
              b.client.queryPathInfo(path),
            ]);
            expect(facts(onB), `${path} on daemon B`).toEqual(facts(onA));
            const file = path.slice(GNU_STORE.length + 1);
            expect(readFileSync(join(b.daemon.storeOnDisk, file), 'utf8')).toBe(
              readFileSync(join(setup.daemonA.storeOnDisk, file), 'utf8'),
            );
            // What it read came from gbc's cache: the narinfo it keeps is the coordinator's.
            expect(cachedLookup(b.daemon, path)).toContain(
              signedPart(await defaultNarinfo(setup.coordinator.agentUrl, path)),
            );
          }
        },
        RUN_MS,
      );

      it(
        'refuses a narinfo altered after it was signed, and a NAR that is not the one its narinfo hashes',
        async () => {
          const { items } = setup;
          const base = (path: string) => path.slice(GNU_STORE.length + 1);
          const topDeriver = base(items.top.drvPath);
          const otherDeriver = `${topDeriver[0] === 'a' ? 'b' : 'a'}${topDeriver.slice(1)}`;
          const topNarinfo = `/${base(items.topOut).slice(0, 32)}.narinfo`;
          const depNar = `/nar/none/${base(items.depOut)}`;
          // top's Deriver changed (a field only the signature protects); dep's file content changed, its length kept.
          const lying = await startLyingCache(setup.coordinator.agentUrl, (path, body) => {
            if (path === topNarinfo)
              return replaceOnce(body, `Deriver: ${topDeriver}`, `Deriver: ${otherDeriver}`);
            if (path === depNar) return replaceOnce(body, `dep ${items.marker}`, `deq ${items.marker}`);
            return body;
          });
          closers.add('closing the lying cache', () => lying.close());
          const d = await substitutingDaemon('D', lying.url);
          const report = await guixEnsurePaths(setup.guixDir, d.daemon.socket, [items.topOut, items.depOut]);
          // dep's narinfo is intact, so dep is offered; top's is not.
          expect(report.substitutable, report.stderr).toEqual([items.depOut]);
          expect(report.ensured.map((e) => `${e.path} ${e.ok}`)).toEqual([
            `${items.topOut} false`,
            `${items.depOut} false`,
          ]);
          const [topError, depError] = report.ensured.map((e) => (e.ok ? '' : e.error));
          console.info(
            `guix-daemon ${daemonCase.version} refusing a narinfo altered after signing: ${topError}`,
          );
          console.info(`guix-daemon ${daemonCase.version} refusing a NAR with other contents: ${depError}`);
          expect(topError).toContain(items.topOut);
          expect(depError).toContain(items.depOut);
          // The daemon's reasons, relayed to the client: no substituter for top (its narinfo was dropped), a hash mismatch for dep.
          expect(report.stderr).toContain(
            `path \`${items.topOut}' is required, but there is no substituter that can build it`,
          );
          expect(report.stderr).toContain(`hash mismatch for substituted item \`${items.depOut}'`);
          expect([
            await d.client.isValidPath(items.topOut),
            await d.client.isValidPath(items.depOut),
          ]).toEqual([false, false]);
          // It read both narinfos, and downloaded dep's NAR before refusing it; top's NAR was never asked for.
          expect(lying.requested).toEqual(
            expect.arrayContaining([topNarinfo, `/${base(items.depOut).slice(0, 32)}.narinfo`, depNar]),
          );
          expect(
            lying.requested.filter((p) => p.startsWith('/nar/') && p.endsWith(base(items.topOut))),
          ).toEqual([]);
        },
        RUN_MS,
      );

      it(
        'a daemon whose ACL lacks the key refuses the same narinfos',
        async () => {
          const { items } = setup;
          // The same database and data, now signed with a key of its own that no ACL here authorizes.
          const fresh = generateGuixKeyPair(setup.guixDir, join(setup.dir, 'fresh-key'));
          const freshPoint = publicPoint(readFileSync(fresh.publicKeyFile, 'latin1'));
          expect(readFileSync('/etc/guix/acl', 'latin1').toUpperCase()).not.toContain(freshPoint);
          const coordinator = await restartCoordinator(setup, fresh.secretKeyFile, 'restarted');
          const served = await defaultNarinfo(coordinator.agentUrl, items.topOut);
          expect(signerOf(served)).toBe(freshPoint);
          const c = await substitutingDaemon('C', coordinator.agentUrl);
          const report = await guixEnsurePaths(setup.guixDir, c.daemon.socket, [items.topOut]);
          expect(report.substitutable).toEqual([]);
          expect(report.infos).toEqual([]);
          expect(report.ensured).toHaveLength(1);
          const [ensured] = report.ensured;
          expect(ensured).toMatchObject({ path: items.topOut, ok: false });
          const error = ensured !== undefined && !ensured.ok ? ensured.error : '';
          console.info(`guix-daemon ${daemonCase.version} refusing an untrusted key: ${error}`);
          expect(error).toContain(items.topOut);
          expect(report.stderr).toContain(
            `path \`${items.topOut}' is required, but there is no substituter that can build it`,
          );
          expect([
            await c.client.isValidPath(items.topOut),
            await c.client.isValidPath(items.depOut),
          ]).toEqual([false, false]);
          // It did fetch the narinfo from gbc's cache — the one signed with the untrusted key — and refused it.
          expect(cachedLookup(c.daemon, items.topOut)).toContain(signedPart(served));
        },
        RUN_MS,
      );
    },
  );
}
