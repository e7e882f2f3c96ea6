import { createBuilds, openDatastore, recordDerivations } from '@gbc/datastore';
import { fakeDrv } from '../../src/agent-api/test-support.js';
const SYSTEMS = ['x86_64-linux', 'aarch64-linux', 'i686-linux', 'riscv64-linux'];
const uri = process.argv[2]!;
const N = Number(process.argv[3] ?? 1_000_000);
const ds = await openDatastore(uri);
await ds.migrate();
const t0 = Date.now();
for (let i = 0; i < N; i += 5000) {
  const drvs = Array.from({ length: Math.min(5000, N - i) }, (_, k) => fakeDrv(`b${i + k}`, [], SYSTEMS[(i + k) % 4]));
  await recordDerivations(ds.db, drvs);
  await createBuilds(ds.db, drvs.map((d, k) => ({ derivationPath: d.path, priority: (i + k) % 10, tags: [{ key: 'project', value: `p${(i + k) % 20}` }] })));
  if (i % 100000 === 0) console.log(i, Date.now() - t0);
}
await ds.close();
console.log('filled', N, Date.now() - t0, 'ms');
