// NAR benchmark: dumps and restores a generated ~1 GiB tree (about 20k small
// files in nested directories, plus one large file) with @gbc/store and with
// nix-store, nix-hash and sha256sum in the same run, and prints a Markdown section for BENCHMARKS.md.
// Each of our operations runs in a child process of its own (this file, run
// with `phase NAME TREE NAR WORK`), so that each peak RSS is that operation's
// own. The children run this file bundled by tsup under plain `node`, as the
// built package runs in production; the tsx loader alone takes ~85 MiB.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { dumpNar, hashNar, restoreNar } from '../src/index.js';

const MiB = 1024 * 1024;
const DIRS = 20;
const SUBDIRS = 20;
const FILES = 50; // 20 × 20 × 50 = 20 000 small files
const LARGE = 512 * MiB;

const RUNS = 5;

/** Builds the tree from one buffer of pseudo-random bytes (xorshift, fixed seed). */
function generate(tree: string): { files: number; bytes: number } {
  const pool = Buffer.alloc(4 * MiB);
  let x = 0x9e3779b9;
  for (let i = 0; i < pool.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    pool.writeUInt32LE(x >>> 0, i);
  }
  let files = 0;
  let bytes = 0;
  mkdirSync(tree);
  for (let d = 0; d < DIRS; d++) {
    for (let s = 0; s < SUBDIRS; s++) {
      const dir = join(tree, `dir-${d}`, `sub-${s}`);
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < FILES; f++) {
        const size =
          (pool.readUInt32LE((files * 4) % (pool.length - 4)) % (50 * 1024)) + (f % 7 === 0 ? 0 : 1);
        const start = (files * 4099) % (pool.length - size);
        writeFileSync(join(dir, `file-${f}.dat`), pool.subarray(start, start + size));
        if (f % 10 === 0) chmodSync(join(dir, `file-${f}.dat`), 0o755);
        files++;
        bytes += size;
      }
      symlinkSync('file-0.dat', join(dir, 'link'));
    }
  }
  const fd = openSync(join(tree, 'large.bin'), 'w');
  for (let at = 0; at < LARGE; at += pool.length) writeSync(fd, pool, 0, Math.min(pool.length, LARGE - at));
  closeSync(fd);
  return { files: files + 1, bytes: bytes + LARGE };
}

/** Best wall time of `runs` runs of `fn`, in seconds; `after` (untimed) cleans up each run. */
async function best(
  runs: number,
  fn: (run: number) => Promise<void> | void,
  after?: (run: number) => void,
): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await fn(i);
    min = Math.min(min, Number(process.hrtime.bigint() - start) / 1e9);
    after?.(i);
  }
  return min;
}

/** A NAR file's bytes through one recycled 1 MiB buffer (the parser copies what it keeps). */
function* fileChunks(path: string): Generator<Uint8Array> {
  const fd = openSync(path, 'r');
  const buffer = Buffer.allocUnsafe(MiB);
  try {
    for (let n; (n = readSync(fd, buffer, 0, MiB, null)) > 0;) yield buffer.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** One of our operations, and the nix command it is compared with. */
// A phase's run is synchronous when the operation is (hashing a file, spawning the reference command).
type Phase = { run: (run: number) => Promise<void> | void; after?: (run: number) => void; nix?: Phase };
const phases: Record<string, (tree: string, nar: string, work: string) => Phase> = {
  baseline: () => ({ run: () => undefined }),
  // The default pool, used as meant: each chunk handed back once written.
  dump: (tree) => ({
    nix: nixPhase(['nix-store', '--dump', tree]),
    run: async () => {
      const sink = openSync('/dev/null', 'w');
      const dump = dumpNar(tree);
      for await (const chunk of dump) {
        writeSync(sink, chunk);
        dump.release(chunk);
      }
      closeSync(sink);
    },
  }),
  // A consumer that never hands chunks back: every one is left to the GC.
  'dump-kept': (tree) => ({
    nix: nixPhase(['nix-store', '--dump', tree]),
    run: async () => {
      const sink = openSync('/dev/null', 'w');
      for await (const chunk of dumpNar(tree)) writeSync(sink, chunk);
      closeSync(sink);
    },
  }),
  'dump-reuse': (tree) => ({
    nix: nixPhase(['nix-store', '--dump', tree]),
    run: async () => {
      const sink = openSync('/dev/null', 'w');
      for await (const chunk of dumpNar(tree, { reuseBuffers: true })) writeSync(sink, chunk);
      closeSync(sink);
    },
  }),
  // hashNar releases each chunk once hashed. nix-hash does the same work (dump + sha256).
  'dump-hash': (tree) => ({
    nix: nixPhase(['nix-hash', '--type', 'sha256', tree]),
    run: async () => void (await hashNar(dumpNar(tree))),
  }),
  // The hash alone, over the NAR file's bytes, against sha256sum: what hashing costs on this CPU.
  sha256: (_tree, nar) => ({
    nix: nixPhase(['sha256sum', nar]),
    run: () => {
      const hash = createHash('sha256');
      for (const chunk of fileChunks(nar)) hash.update(chunk);
      hash.digest();
    },
  }),
  restore: (_tree, nar, work) => ({
    nix: nixPhase(['nix-store', '--restore'], nar, work),
    run: (run) => restoreNar(fileChunks(nar), join(work, `ours-${run}`)),
    after: (run) => rmSync(join(work, `ours-${run}`), { recursive: true }),
  }),
};

/**
 * The reference command, its stdout to /dev/null; with `restoreInto`, fed
 * `stdin` and given a fresh directory under it as last argument.
 */
function nixPhase(command: string[], stdin?: string, restoreInto?: string): Phase {
  return {
    run: (run) => {
      const args = restoreInto === undefined ? command : [...command, join(restoreInto, `nix-${run}`)];
      const fd = stdin === undefined ? 'ignore' : openSync(stdin, 'r');
      lastNixCpu = timed(args, fd);
      if (typeof fd === 'number') closeSync(fd);
    },
    after:
      restoreInto === undefined
        ? undefined
        : (run) => rmSync(join(restoreInto, `nix-${run}`), { recursive: true }),
  };
}

/** CPU seconds (user + system) of the last reference command. */
let lastNixCpu = 0;

/**
 * Runs `args` with stdout to /dev/null; its CPU seconds come from the shell's
 * `times` (children's user and system), written to fd 3.
 */
function timed(args: string[], stdin: number | 'ignore'): number {
  const r = spawnSync('sh', ['-c', '"$@" >/dev/null; s=$?; times >&3; exit $s', 'sh', ...args], {
    stdio: [stdin, 'ignore', 'inherit', 'pipe'],
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status ?? r.signal})`);
  const children = String(r.output[3]).trim().split('\n')[1] ?? '';
  const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  if (seconds.length !== 2) throw new Error(`cannot read the CPU time of ${args[0]} from "${children}"`);
  return seconds[0]! + seconds[1]!;
}

/**
 * Times a phase and its nix-store counterpart alternately (best of RUNS
 * each), so that both see the same machine load.
 */
async function timePhase(phase: Phase): Promise<Omit<Measure, 'rssMiB'>> {
  let seconds = Infinity;
  let nixSeconds = Infinity;
  let cpu = Infinity;
  let nixCpu = Infinity;
  for (let i = 0; i < RUNS; i++) {
    if (phase.nix !== undefined) {
      nixSeconds = Math.min(nixSeconds, await best(1, phase.nix.run, phase.nix.after));
      nixCpu = Math.min(nixCpu, lastNixCpu);
    }
    const start = process.cpuUsage();
    seconds = Math.min(seconds, await best(1, () => phase.run(i)));
    const used = process.cpuUsage(start);
    cpu = Math.min(cpu, (used.user + used.system) / 1e6);
    phase.after?.(i);
  }
  return { seconds, nixSeconds, cpu, nixCpu };
}

/** Best wall and CPU seconds of ours and of the reference, and our peak RSS. */
type Measure = { seconds: number; nixSeconds: number; cpu: number; nixCpu: number; rssMiB: number };

/** Bundles this file (and @gbc/store from source) for plain `node`; the command to run it. */
async function bundle(work: string): Promise<string[]> {
  const { build } = await import('tsup');
  const outDir = join(work, 'bundle');
  await build({
    entry: { 'nar-bench': import.meta.filename },
    format: ['esm'],
    outDir,
    target: 'node20',
    platform: 'node',
    silent: true,
    dts: false,
    sourcemap: false,
    splitting: false,
    external: ['tsup'],
    esbuildOptions: (o) => void (o.conditions = ['source']),
  });
  return [join(outDir, 'nar-bench.js')];
}

function runPhase(
  command: readonly string[],
  name: string,
  tree: string,
  nar: string,
  work: string,
): Measure {
  const child = spawnSync(process.execPath, [...command, 'phase', name, tree, nar, work], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (child.status !== 0) throw new Error(`phase ${name} failed (${child.status ?? child.signal})`);
  return JSON.parse(child.stdout) as Measure;
}

async function main(): Promise<void> {
  // tmpfs when there is one: the figures then compare CPU work, not how fast the disk drains.
  const base = process.env.GBC_BENCH_TMPDIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
  const work = mkdtempSync(join(base, 'gbc-nar-bench-'));
  try {
    const tree = join(work, 'tree');
    const narFile = join(work, 'tree.nar');
    const { files, bytes } = generate(tree);
    const narOut = openSync(narFile, 'w');
    const dumped = spawnSync('nix-store', ['--dump', tree], { stdio: ['ignore', narOut, 'inherit'] }); // also warms the page cache
    closeSync(narOut);
    if (dumped.status !== 0) throw new Error(`nix-store --dump failed (${dumped.status ?? dumped.signal})`);
    const command = await bundle(work);
    const ours = Object.fromEntries(
      Object.keys(phases).map((name) => [name, runPhase(command, name, tree, narFile, work)]),
    ) as Record<string, Measure>;
    const tsxBaseline = runPhase(
      [...process.execArgv, import.meta.filename],
      'baseline',
      tree,
      narFile,
      work,
    );
    report({ files, bytes, base, ours, tsxBaseline });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function report(r: {
  files: number;
  bytes: number;
  base: string;
  ours: Record<string, Measure>;
  tsxBaseline: Measure;
}): void {
  const { bytes, ours } = r;
  const m = (name: string): Measure => ours[name]!;
  const rate = (s: number) => `${(bytes / MiB / s).toFixed(0)} MiB/s`;
  const row = (label: string, reference: string, name: string) => {
    const { seconds, nixSeconds, cpu, nixCpu, rssMiB } = m(name);
    return `| ${label} | ${reference} | ${seconds.toFixed(2)} s | ${rate(seconds)} | ${nixSeconds.toFixed(2)} s | ${(seconds / nixSeconds).toFixed(2)}× | ${cpu.toFixed(2)} s / ${nixCpu.toFixed(2)} s = ${(cpu / nixCpu).toFixed(2)}× | ${rssMiB.toFixed(0)} MiB |`;
  };
  const dump = m('dump');
  const ratio = dump.seconds / dump.nixSeconds;
  const cpuRatio = dump.cpu / dump.nixCpu;
  // The limit is 100 MB (95.4 MiB), over the default uses: dump with
  // released chunks, hashing, restoring.
  const limitMiB = 100e6 / MiB;
  const worstRss = Math.max(...['dump', 'dump-hash', 'restore'].map((n) => m(n).rssMiB));
  const verdict = (ok: boolean) => (ok ? 'met' : '**not met**');
  const out = [
    '### NAR write/restore',
    '',
    `Tree: ${r.files} files (${DIRS * SUBDIRS} directories of ${FILES} files of 0–50 KiB, a tenth executable, ${DIRS * SUBDIRS} symlinks, one ${LARGE / MiB} MiB file), ${(bytes / 1024 ** 3).toFixed(2)} GiB of contents, under ${r.base} (page cache warm). Each row: best of ${RUNS} runs of ours and of the reference command, alternated in the same window; wall time, and CPU time (ours: \`process.cpuUsage\`, all threads; the reference: the shell's \`times\`), which the machine's load disturbs much less. Each row ran in its own process (plain \`node\` on this file bundled with @gbc/store by tsup, as the built package runs), whose peak RSS (\`process.resourceUsage().maxRSS\`) is shown.`,
    '',
    '| operation | reference | time | throughput | reference, same window | ratio | CPU ours / reference | peak RSS |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    row('`dumpNar` → /dev/null, each chunk `release`d once written (default)', '`nix-store --dump`', 'dump'),
    row('`dumpNar` → /dev/null, chunks never released (left to the GC)', '`nix-store --dump`', 'dump-kept'),
    row('`dumpNar` → /dev/null with `reuseBuffers`', '`nix-store --dump`', 'dump-reuse'),
    row(
      '`hashNar(dumpNar(tree))` (sha256; hashNar releases chunks)',
      '`nix-hash --type sha256`',
      'dump-hash',
    ),
    row('sha256 of the NAR file alone (node:crypto)', '`sha256sum`', 'sha256'),
    row('`restoreNar` from a file', '`nix-store --restore`', 'restore'),
    '',
    `A process that only loads the code peaks at ${m('baseline').rssMiB.toFixed(0)} MiB; under the tsx loader (\`node --conditions=source --import tsx\`, as \`pnpm bench\` runs this file) it would be ${r.tsxBaseline.rssMiB.toFixed(0)} MiB before doing anything. Chunks never released cost what V8 lets pile up before it collects dropped buffers (~64 MB of external memory); any consumer that is done with a chunk should release it.`,
    '',
    `Targets: dump ≤ 1.5× \`nix-store --dump\` — ${verdict(ratio <= 1.5)} (wall ${ratio.toFixed(2)}×, CPU ${cpuRatio.toFixed(2)}×); peak RSS < 100 MB (${limitMiB.toFixed(1)} MiB) for dump, hash and restore — ${verdict(worstRss < limitMiB)} (worst ${worstRss.toFixed(0)} MiB).`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

if (process.argv[2] === 'phase') {
  const [name, tree, nar, work] = process.argv.slice(3) as [string, string, string, string];
  const measure = await timePhase(phases[name]!(tree, nar, work));
  process.stdout.write(JSON.stringify({ ...measure, rssMiB: process.resourceUsage().maxRSS / 1024 }));
} else {
  await main();
}
