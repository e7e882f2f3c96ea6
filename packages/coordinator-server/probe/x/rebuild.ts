import { openDatastore, streamQueue } from '@gbc/datastore';
const uri = process.argv[2]!;
const ds = await openDatastore(uri);
for (let r = 0; r < 3; r++) {
  const t0 = performance.now(); const c0 = process.cpuUsage();
  let n = 0;
  for await (const part of streamQueue(ds.db, { chunkSize: 20000 })) n += part.length;
  const c = process.cpuUsage(c0);
  console.log('streamQueue', n, Math.round(performance.now() - t0), 'ms wall', Math.round((c.user + c.system) / 1000), 'ms cpu');
}
await ds.close();
