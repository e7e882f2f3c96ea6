// Benchmark of the binary cache against the physical reference, Debian's
// nginx serving the same files from a directory, side by side in one run
// (gbc's cache port served by two processes, `cacheProcesses: 2`, as nginx's
// default has a worker per core; and by one, for reference):
// signed narinfo requests/s and p99 (wrk, 32 and 256 connections, keep-alive,
// 20,000 outputs held, every request a different narinfo in turn) and the
// download throughput of a 1 GiB NAR (curl, one client, to /dev/null). This
// process is the coordinator (its cache port, SQLite); wrk, curl and nginx are
// processes of their own. nginx runs twice: as Debian configures it
// (`worker_processes auto`) and with one worker, gbc's one thread's match.
// Each measure alternates the servers, two rounds; the better round of each
// is kept (the machine is shared).
import { spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { chmod, link, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { recordOutputMetadata } from '@gbc/datastore';
import { generateSecretKey } from '@gbc/store';
import { createCoordinator, listen, silentLogger } from '../src/index.js';

const OUTPUTS = 20_000;
const SECONDS = Number(process.env.GBC_BENCH_SECONDS ?? 8);
const NAR_BYTES = 1 << 30;
const ALPHABET = '0123456789abcdfghijklmnpqrsvwxyz';
const NAR_HASH = 'sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s';

/** Runs a program to its end without blocking this process's event loop (it serves meanwhile). */
function run(program: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${program} exited ${code}: ${err.slice(0, 500)}`)),
    );
  });
}

const hashOf = (i: number) => {
  let s = '';
  for (let k = 0, n = i * 2654435761 + 12345; k < 32; k++, n = Math.floor(n / 7) + k * 977)
    s += ALPHABET[(n + k * 13) % 32];
  return s;
};

/** A NAR of one regular file of random bytes, `size` bytes long in all, written to `path`. */
async function writeNar(path: string, size: number): Promise<number> {
  const str = (s: string) => {
    const b = Buffer.alloc(8 + Math.ceil(s.length / 8) * 8);
    b.writeBigUInt64LE(BigInt(s.length));
    b.write(s, 8);
    return b;
  };
  const head = Buffer.concat(['nix-archive-1', '(', 'type', 'regular', 'contents'].map(str));
  const tail = str(')');
  const contents = size - head.length - tail.length - 8;
  const out = createWriteStream(path);
  const lengthField = Buffer.alloc(8);
  lengthField.writeBigUInt64LE(BigInt(contents));
  out.write(Buffer.concat([head, lengthField]));
  const chunk = Buffer.alloc(1 << 20);
  for (let left = contents; left > 0; left -= chunk.length) {
    randomFillSync(chunk);
    if (!out.write(left >= chunk.length ? chunk : chunk.subarray(0, left))) await once(out, 'drain');
  }
  out.end(tail);
  await once(out, 'finish');
  return size;
}

const dir = await mkdtemp(join(tmpdir(), 'gbc-bench-nginx-'));
await chmod(dir, 0o755);
const www = join(dir, 'www');
const c = await createCoordinator({
  databaseUri: `sqlite://${join(dir, 'gbc.db')}`,
  dataDir: join(dir, 'data'),
  cwd: dir,
  logger: silentLogger,
  cache: { signingKey: generateSecretKey('bench-1'), flavour: 'nix' },
});
await c.start();
const CACHE_PROCESSES = Number(process.env.GBC_BENCH_CACHE_PROCESSES ?? 2);
const listening = await listen(c, {
  agentUrl: 'http://127.0.0.1:0',
  clientUrl: 'http://127.0.0.1:0',
  cacheUrl: 'http://127.0.0.1:0',
  cacheProcesses: CACHE_PROCESSES,
});
const listeningOne = await listen(c, {
  agentUrl: 'http://127.0.0.1:0',
  clientUrl: 'http://127.0.0.1:0',
  cacheUrl: 'http://127.0.0.1:0',
  cacheProcesses: 1,
});

// The outputs, their narinfo files (fetched from gbc: the same bytes) and the 1 GiB NAR.
const hashes = [...new Set(Array.from({ length: OUTPUTS * 2 }, (_, i) => hashOf(i)))].slice(0, OUTPUTS);
const narName = `${hashes[0]}-bench-1gib`;
const narKey = `none/${narName}`;
for (let i = 0; i < hashes.length; i += 1000) {
  await recordOutputMetadata(
    c.context.datastore.db,
    hashes.slice(i, i + 1000).map((h, k) => ({
      storePath: i + k === 0 ? `/gnu/store/${narName}` : `/gnu/store/${h}-bench-output`,
      narHash: NAR_HASH,
      narSize: i + k === 0 ? NAR_BYTES : 1024,
      references: [`/gnu/store/${hashes[1]}-bench-output`],
      deriver: `/gnu/store/${h}-bench-output.drv`,
      files: [
        i + k === 0
          ? { compression: 'none', fileSize: NAR_BYTES, fileHash: null, location: narKey }
          : { compression: 'zstd', fileSize: 512, fileHash: NAR_HASH, location: `zstd/${h}` },
      ],
    })),
  );
}
await mkdir(join(www, 'nar', 'none'), { recursive: true });
const cacheUrl = listening.cacheUrl!;
let nextFile = 0;
await Promise.all(
  Array.from({ length: 16 }, async () => {
    while (nextFile < hashes.length) {
      const h = hashes[nextFile++]!;
      const res = await fetch(`${cacheUrl}/${h}.narinfo`);
      if (res.status !== 200) throw new Error(`narinfo ${h}: ${res.status}`);
      await writeFile(join(www, `${h}.narinfo`), Buffer.from(await res.arrayBuffer()));
    }
  }),
);
await mkdir(join(dir, 'data', 'nar', 'none'), { recursive: true });
await writeNar(join(dir, 'data', 'nar', narKey), NAR_BYTES);
// One inode for both servers: the same page cache.
await link(join(dir, 'data', 'nar', narKey), join(www, 'nar', 'none', narName));
await chmod(join(dir, 'data'), 0o755);
const paths = join(dir, 'paths.txt');
await writeFile(paths, hashes.map((h) => `/${h}.narinfo`).join('\n') + '\n');
const lua = join(dir, 'paths.lua');
await writeFile(
  lua,
  `local paths = {}\nfor line in io.lines("${paths}") do paths[#paths + 1] = line end\n` +
    `local i = math.random(#paths)\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format("GET", paths[i])\nend\n`,
);

// nginx as Debian ships it, with its usual static-file settings: sendfile, keep-alive, no access log;
// once with Debian's `worker_processes auto` (2 here) and once with 1 worker, gbc's one thread's match.
/** CPU time (user + system, ms) used so far by the processes `pids`, from /proc. */
function processesCpuMs(pids: readonly number[]): number {
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  let ms = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ms += (Number(fields[11]) + Number(fields[12])) * tick;
    } catch {
      // gone meanwhile
    }
  }
  return ms;
}

/** CPU time (ms) used so far by the children of process `pid` (nginx's workers). */
function childrenCpuMs(pid: number): number {
  const children = readdirSync('/proc').filter((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
    } catch {
      return false; // gone meanwhile
    }
  });
  return processesCpuMs(children.map(Number));
}

/** CPU time (ms) this process (gbc) has used so far. */
function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

interface Server {
  readonly url: string;
  cpuMs(): number;
}

async function startNginx(name: string, workers: string): Promise<Server & { stop(): Promise<void> }> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const conf = join(dir, `${name}.conf`);
  await writeFile(
    conf,
    `${process.getuid?.() === 0 ? 'user root root;\n' : ''}worker_processes ${workers};\ndaemon off;\n` +
      `pid ${dir}/${name}.pid;\nevents { worker_connections 4096; }\nhttp {\n  access_log off;\n` +
      `  sendfile on;\n  tcp_nopush on;\n  keepalive_requests 1000000;\n` +
      `  types { text/x-nix-narinfo narinfo; }\n  default_type application/x-nix-nar;\n` +
      ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
        .map((t) => `  ${t}_temp_path ${dir}/tmp;\n`)
        .join('') +
      `  server { listen 127.0.0.1:${port}; root ${www}; }\n}\n`,
  );
  const child = spawn('nginx', ['-e', join(dir, `${name}-error.log`), '-p', dir, '-c', conf], {
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const ok = await fetch(`${url}/${hashes[0]}.narinfo`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (i > 100) throw new Error(`nginx did not answer on ${url}; see ${dir}/${name}-error.log`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    cpuMs: () => childrenCpuMs(child.pid!),
    async stop() {
      child.kill('SIGQUIT');
      await once(child, 'exit');
    },
  };
}
const nginxAuto = await startNginx('nginx-auto', 'auto');
const nginxOne = await startNginx('nginx-one', '1');
// gbc's CPU: this process's and its cache helpers'.
const gbcServer: Server = {
  url: cacheUrl,
  cpuMs: () => ownCpuMs() + processesCpuMs(listening.cacheHelperPids?.() ?? []),
};
const gbcOne: Server = { url: listeningOne.cacheUrl!, cpuMs: ownCpuMs };

interface Load {
  readonly rps: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** The server's CPU time per request answered: what a busy machine divides its cores by. */
  readonly cpuUsPerRequest: number;
}

const toMs = (v: string, unit: string) => Number(v) * ({ us: 0.001, ms: 1, s: 1000 }[unit] ?? NaN);

async function wrk(server: Server, connections: number): Promise<Load> {
  const cpu0 = server.cpuMs();
  const out = await run('wrk', [
    '-t2',
    `-c${connections}`,
    `-d${SECONDS}s`,
    '--latency',
    '-s',
    lua,
    server.url,
  ]);
  const cpuMs = server.cpuMs() - cpu0;
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  const p99 = /^\s*99%\s+([\d.]+)(us|ms|s)\s*$/m.exec(out);
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(out);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (p99 === null || rps === null) throw new Error(`unexpected wrk output:\n${out}`);
  const errors = Number(non2xx?.[1] ?? 0) + (socketErrors?.slice(1).reduce((n, x) => n + Number(x), 0) ?? 0);
  return {
    rps: Number(rps[1]),
    p99Ms: toMs(p99[1]!, p99[2]!),
    errors,
    cpuUsPerRequest: (cpuMs * 1000) / requests,
  };
}

interface Download {
  readonly mibPerS: number;
  readonly bytes: number;
  /** The server's CPU time per GiB sent. */
  readonly cpuSPerGiB: number;
}

async function download(server: Server, path: string): Promise<Download> {
  const cpu0 = server.cpuMs();
  const out = await run('curl', [
    '-s',
    '-o',
    '/dev/null',
    '-w',
    '%{speed_download} %{size_download}',
    `${server.url}${path}`,
  ]);
  const cpuMs = server.cpuMs() - cpu0;
  const [speed, size] = out.trim().split(' ').map(Number);
  return { mibPerS: speed! / (1 << 20), bytes: size!, cpuSPerGiB: cpuMs / 1000 / (size! / 2 ** 30) };
}

const best = <T>(a: T, b: T, better: (x: T, y: T) => boolean) => (better(b, a) ? b : a);
const fasterLoad = (x: Load, y: Load) => x.rps > y.rps;
const narinfo: Record<number, { gbc: Load; nginx: Load; gbcOne: Load; nginxOne: Load }> = {};
// Warm all four: gbc's narinfo caches (each process's), nginx's open files and the page cache.
const servers = [gbcServer, nginxAuto, gbcOne, nginxOne];
for (const server of servers) await wrk(server, 32);
for (const connections of [32, 256]) {
  const kept: (Load | undefined)[] = servers.map(() => undefined);
  for (let round = 0; round < 2; round++) {
    for (const [i, server] of servers.entries()) {
      const r = await wrk(server, connections);
      kept[i] = kept[i] === undefined ? r : best(kept[i], r, fasterLoad);
    }
  }
  narinfo[connections] = { gbc: kept[0]!, nginx: kept[1]!, gbcOne: kept[2]!, nginxOne: kept[3]! };
}
const narUrl = `/nar/none/${narName}`;
await download(nginxAuto, narUrl); // the file into the page cache
const faster = (x: Download, y: Download) => x.mibPerS > y.mibPerS;
let gbcNar = await download(gbcServer, narUrl);
let nginxNar = await download(nginxAuto, narUrl);
gbcNar = best(gbcNar, await download(gbcServer, narUrl), faster);
nginxNar = best(nginxNar, await download(nginxAuto, narUrl), faster);
const load = loadavg()
  .map((l) => l.toFixed(1))
  .join(' / ');

await nginxAuto.stop();
await nginxOne.stop();
await listening.close();
await listeningOne.close();
await c.stop();
await rm(dir, { recursive: true, force: true });

const NARINFO_TARGET = 0.5;
const NAR_TARGET = 0.8;
const ratio = (a: number, b: number) => a / b;
const cell = (l: Load) =>
  `${l.rps.toFixed(0)} /s, p99 ${l.p99Ms.toFixed(1)} ms, ${l.cpuUsPerRequest.toFixed(0)} µs CPU/request (${l.errors} errors)`;
const row = (connections: number) => {
  const { gbc, nginx, gbcOne, nginxOne } = narinfo[connections]!;
  return `| narinfo, ${connections} connections | ${cell(gbc)} | ${cell(nginx)} | ${ratio(gbc.rps, nginx.rps).toFixed(2)}× | ${cell(gbcOne)} | ${cell(nginxOne)} | ${ratio(gbcOne.rps, nginxOne.rps).toFixed(2)}× |`;
};
const narRatio = ratio(gbcNar.mibPerS, nginxNar.mibPerS);
const narinfoMet = [32, 256].every(
  (k) => ratio(narinfo[k]!.gbc.rps, narinfo[k]!.nginx.rps) >= NARINFO_TARGET && narinfo[k]!.gbc.errors === 0,
);
const narMet = narRatio >= NAR_TARGET && gbcNar.bytes === NAR_BYTES && nginxNar.bytes === NAR_BYTES;
console.log(`## Binary cache vs nginx (narinfos and a 1 GiB NAR)

\`node --conditions=source --import tsx packages/coordinator-server/bench/cache-nginx.bench.ts\`, ${new Date().toISOString().slice(0, 10)}.
gbc's cache port (SQLite, ${OUTPUTS.toLocaleString('en')} outputs held, signed Nix narinfos; \`cacheProcesses: ${CACHE_PROCESSES}\`,
i.e. the coordinator and ${CACHE_PROCESSES - 1} helper process(es) sharing the port) against Debian's nginx
(\`worker_processes auto\`, sendfile, keep-alive, no access log) serving the same narinfo bytes and the same NAR file
(one inode) from a directory. Narinfos: \`wrk -t2 -cN -d${SECONDS}s --latency\`, each request the next of the
${OUTPUTS.toLocaleString('en')} narinfos; NAR: \`curl -o /dev/null\`, one client, file in the page cache. Measures
alternate gbc and nginx, two rounds; the better round of each is shown. wrk, curl, nginx and gbc share the
machine's 2 cores with whatever else runs on it: load average at the end ${load} — compare ratios, not
absolute figures, and only at similar load.

| measure | gbc, ${CACHE_PROCESSES} processes | nginx (auto = 2 workers) | gbc / nginx | gbc, 1 process | nginx, 1 worker | gbc 1 / nginx 1 |
|---|---|---|---|---|---|---|
${row(32)}
${row(256)}
| 1 GiB NAR, one client | ${gbcNar.mibPerS.toFixed(0)} MiB/s, ${gbcNar.cpuSPerGiB.toFixed(2)} s CPU/GiB | ${nginxNar.mibPerS.toFixed(0)} MiB/s, ${nginxNar.cpuSPerGiB.toFixed(2)} s CPU/GiB | ${narRatio.toFixed(2)}× | | | |

nginx's default runs a worker per core; gbc's cache port is measured the same way (\`--cache-processes 2\`) and, for
reference, with one process against one nginx worker. CPU per request (per GiB) is the server's own CPU time (gbc:
this process and its helpers; nginx: its workers, from /proc) divided by what it answered: on a machine whose cores
are all taken, throughput follows it, whatever the load.

Targets (against Debian's default, \`auto\`): narinfo rate ≥ ${NARINFO_TARGET}× nginx's at 32 and 256 connections, no errors — ${narinfoMet ? 'met' : 'NOT met'}; NAR throughput ≥ ${NAR_TARGET}× nginx's — ${narMet ? 'met' : 'NOT met'}.`);
