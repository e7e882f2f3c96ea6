// Benchmark: a 1 GiB NAR uploaded over loopback to a coordinator in a child
// process (this file run with `--serve DIR`), uncompressed and zstd
// (precompressed, as an agent streams it), each timed beside `sha256sum FILE`
// + `cp FILE` + `sync` of the same NAR in the same round; the coordinator's
// VmRSS is read from /proc before, during (peak of 50 ms samples) and after.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { AgentClient, CoordinatorClient, encodeDerivationText } from '@gbc/protocol';
import { createCoordinator } from '../src/coordinator/create-coordinator.js';
import { listen } from '../src/coordinator/listen.js';
import { silentLogger } from '../src/logger.js';
import { syntheticDerivation } from '../src/client-api/test-support.js';
import { BIG_NAR_FILES, makeBigNar } from './big-nar.js';

const ROUNDS = Number(process.env.GBC_BENCH_UPLOAD_ROUNDS ?? 3);
const MiB = 2 ** 20;

if (process.argv[2] === '--serve') await serve(process.argv[3]!);
else await main();

/** Child mode: a coordinator on SQLite in DIR; prints its URLs and pid as one JSON line. */
async function serve(dir: string): Promise<void> {
  const coordinator = await createCoordinator({
    databaseUri: `sqlite://${join(dir, 'gbc.db')}`,
    dataDir: join(dir, 'data'),
    cwd: dir,
    logger: silentLogger,
  });
  await coordinator.start();
  const l = await listen(coordinator, { agentUrl: 'http://127.0.0.1:0', clientUrl: 'http://127.0.0.1:0' });
  process.stdout.write(
    `${JSON.stringify({ pid: process.pid, agentUrl: l.agentUrl, clientUrl: l.clientUrl })}\n`,
  );
  process.on(
    'SIGTERM',
    () =>
      void l
        .close()
        .then(() => coordinator.stop())
        .then(() => process.exit(0)),
  );
}

function rssOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

async function startChild(
  dir: string,
): Promise<{ pid: number; agentUrl: string; clientUrl: string; stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', new URL(import.meta.url).pathname, '--serve', dir],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the coordinator exited (${code}) before listening`)));
  });
  child.stdout.resume();
  const info = JSON.parse(line) as { pid: number; agentUrl: string; clientUrl: string };
  const exited = new Promise((r) => child.once('exit', r));
  return {
    ...info,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function timeBaseline(file: string, dir: string): number {
  const dest = join(dir, 'copy.nar');
  const t0 = performance.now();
  execFileSync('sha256sum', [file], { stdio: 'ignore' });
  execFileSync('cp', [file, dest]);
  execFileSync('sync', [dest]);
  const ms = performance.now() - t0;
  rmSync(dest, { force: true });
  return ms;
}

interface Upload {
  ms: number;
  before: number;
  peak: number;
  after: number;
  hwm: number;
  fileBytes: number;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gbc-bench-upload-'));
  let child: Awaited<ReturnType<typeof startChild>> | undefined;
  try {
    const nar = await makeBigNar(dir);
    execFileSync('zstd', ['-q', '-3', '-T2', nar.file, '-o', `${nar.file}.zst`]);
    const zstSize = statSync(`${nar.file}.zst`).size;
    mkdirSync(join(dir, 'coordinator'));
    child = await startChild(join(dir, 'coordinator'));
    const client = new CoordinatorClient({ baseUrl: child.clientUrl });
    const created = await client.createAgent({ name: 'bench' });
    const agent = new AgentClient({
      baseUrl: child.agentUrl,
      credentials: { agent: created.agent.uuid, password: created.password ?? '' },
    });
    const tag = randomBytes(4).toString('hex');

    const upload = async (i: number, compression: 'none' | 'zstd'): Promise<Upload> => {
      const drv = syntheticDerivation(`upload-bench-${tag}-${i}`);
      await client.uploadDerivations([{ path: drv.path, text: encodeDerivationText(drv.bytes) }]);
      const { uuid } = await client.submitBuild({ derivation: drv.path });
      let fetched = false;
      for (let k = 0; k < 200 && !fetched; k++) {
        fetched = (await agent.fetchBuilds({ count: 1, systems: ['x86_64-linux'] })).builds.some(
          (b) => b.uuid === uuid,
        );
        if (!fetched) await new Promise((r) => setTimeout(r, 50));
      }
      if (!fetched) throw new Error(`build ${uuid} was never allocated`);
      await agent.reportBuildStart(uuid);
      const before = rssOf(child!.pid).rss;
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, rssOf(child!.pid).rss);
      }, 50);
      const file = compression === 'none' ? nar.file : `${nar.file}.zst`;
      const t0 = performance.now();
      const stored = await agent.uploadOutput(
        uuid,
        'out',
        { compression, narHash: nar.narHash, narSize: nar.narSize, references: [] },
        createReadStream(file, { highWaterMark: MiB }),
      );
      const ms = performance.now() - t0;
      clearInterval(sampler);
      peak = Math.max(peak, rssOf(child!.pid).rss);
      if (stored.narHash !== nar.narHash)
        throw new Error(`stored ${stored.narHash}, expected ${nar.narHash}`);
      await agent.reportResult(uuid, { result: 'success' });
      const { rss: after, hwm } = rssOf(child!.pid);
      rmSync(join(dir, 'coordinator', 'data', 'nar'), { recursive: true, force: true });
      mkdirSync(join(dir, 'coordinator', 'data', 'nar'));
      return { ms, before, peak, after, hwm, fileBytes: stored.fileSize };
    };

    const rows: { round: number; baseline: number; none: Upload; zstd: Upload }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const baseline = timeBaseline(nar.file, dir);
      const none = await upload(round * 2, 'none');
      const zstd = await upload(round * 2 + 1, 'zstd');
      rows.push({ round: round + 1, baseline, none, zstd });
      process.stderr.write(
        `round ${round + 1}: baseline ${baseline.toFixed(0)} ms, none ${none.ms.toFixed(0)} ms, zstd ${zstd.ms.toFixed(0)} ms\n`,
      );
    }
    report(rows, nar.narSize, zstSize);
  } finally {
    await child?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(
  rows: { round: number; baseline: number; none: Upload; zstd: Upload }[],
  narSize: number,
  zstSize: number,
): void {
  const mb = (b: number) => (b / MiB).toFixed(0);
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const rate = (ms: number) => (narSize / MiB / (ms / 1000)).toFixed(0);
  const ratios = rows.map((r) => r.none.ms / r.baseline);
  const growth = Math.max(...rows.flatMap((r) => [r.none.peak - r.none.before, r.zstd.peak - r.zstd.before]));
  const best = Math.min(...ratios);
  const median = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)]!;
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const lines = [
    `## Output upload: a 1 GiB NAR over loopback to a coordinator process (\`packages/coordinator-server/bench/upload.bench.ts\`)`,
    '',
    `${new Date().toISOString().slice(0, 10)}, \`pnpm bench upload\`. NAR of ${BIG_NAR_FILES} files (${mb(narSize)} MiB, half random, half repetitive text; zstd -3: ${mb(zstSize)} MiB), streamed from a file by AgentClient.uploadOutput to a coordinator (SQLite, data dir on the same disk) in a child process. The coordinator decompresses, parses, hashes, writes, fsyncs and renames. Baseline in the same round: \`sha256sum NAR\` then \`cp NAR copy\` then \`sync copy\`. RSS = the coordinator's VmRSS from /proc (peak of 50 ms samples during the upload). Load average at the end: ${load} (2 cores, shared with other engineers' work).`,
    '',
    '| round | sha256sum+cp+sync | upload none | ratio | upload zstd | RSS before → peak → after (none) | RSS before → peak → after (zstd) | VmHWM |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.round} | ${s(r.baseline)} s | ${s(r.none.ms)} s (${rate(r.none.ms)} MiB/s) | ${(r.none.ms / r.baseline).toFixed(2)}× | ${s(r.zstd.ms)} s (${rate(r.zstd.ms)} MiB/s of NAR) | ${mb(r.none.before)} → ${mb(r.none.peak)} → ${mb(r.none.after)} MiB | ${mb(r.zstd.before)} → ${mb(r.zstd.peak)} → ${mb(r.zstd.after)} MiB | ${mb(r.zstd.hwm)} MiB |`,
    ),
    '',
    `Uncompressed upload / (sha256sum + cp + sync): best ${best.toFixed(2)}×, median ${median.toFixed(2)}×, spread ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}× — target ≤ 1.3×: **${median <= 1.3 ? 'met' : best <= 1.3 ? 'met in the best round, not the median' : 'not met'}**.`,
    `Largest RSS growth during an upload: ${mb(growth)} MiB — target < 64 MB: **${growth < 64e6 ? 'met' : 'not met'}**.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
