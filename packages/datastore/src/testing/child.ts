// A child process for the multi-process tests: migrates, claims builds or
// outbox events, or runs a bulk write that the parent kills. Prints JSON lines.
// Usage: node --conditions=source --import tsx child.ts MODE URI [ARG]
import { createInterface } from 'node:readline';
import { openDatastore } from '../datastore.js';
import { claimNextBuilds } from '../attempts-claim.js';
import { createBuilds } from '../builds-create.js';
import { recordDerivations } from '../derivations.js';
import { claimEvents, completeEvent } from '../outbox.js';
import { fakeDerivation } from './fixtures.js';

const [mode, uri, arg] = process.argv.slice(2);
if (mode === undefined || uri === undefined) throw new Error('usage: child.ts MODE URI [ARG]');
const say = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

async function waitForGo(): Promise<void> {
  say({ ready: true });
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) if (line === 'go') break;
  lines.close();
}

if (mode === 'migrate') {
  const store = await openDatastore(uri, { migrate: false });
  await waitForGo();
  say({ applied: await store.migrate() });
  await store.close();
} else if (mode === 'claim-builds') {
  const store = await openDatastore(uri);
  await waitForGo();
  for (;;) {
    const got = await claimNextBuilds(store.db, {
      agentId: arg!,
      systems: ['x86_64-linux'],
      count: 3,
      leaseMs: 600_000,
    });
    if (got.length === 0) break;
    say({ builds: got.map((c) => c.buildId) });
  }
  await store.close();
} else if (mode === 'claim-events') {
  const store = await openDatastore(uri);
  await waitForGo();
  for (;;) {
    const got = await claimEvents(store.db, { owner: `child-${process.pid}`, leaseMs: 600_000, limit: 4 });
    if (got.length === 0) break;
    for (const e of got) await completeEvent(store.db, e.id, `child-${process.pid}`);
    say({ events: got.map((e) => e.id) });
  }
  await store.close();
} else if (mode === 'bulk-kill' || mode === 'bulk-commit') {
  // One transaction: derivations and builds tagged `arg`. In bulk-kill mode it
  // never commits: it reports `mid` after the first chunk and keeps writing
  // until the parent kills it (bounded, in case the parent never does).
  const store = await openDatastore(uri);
  await store.transaction(async (trx) => {
    for (let round = 0; round < (mode === 'bulk-kill' ? 2000 : 5); round++) {
      const drvs = Array.from({ length: 1000 }, (_, i) => fakeDerivation(`crash-${arg}-${round}-${i}`));
      await recordDerivations(trx, drvs);
      await createBuilds(
        trx,
        drvs.map((d) => ({ derivationPath: d.path, tags: [{ key: 'crash', value: arg! }] })),
      );
      if (round === 0) say({ mid: true });
    }
  });
  say({ committed: true });
  await store.close();
} else {
  throw new Error(`unknown mode ${mode}`);
}
