// Runs benchmark scripts (`packages/*/bench/*.bench.ts`, `tests/e2e/bench/*.bench.ts`),
// each in its own Node process so that its peak memory is its own, and writes
// what each prints (a Markdown section) into BENCHMARKS.md, replacing the
// section of the same benchmark and keeping the others.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const filters = process.argv.slice(2);

function benchFiles(): string[] {
  const dirs = [
    ...readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p, 'bench')),
    join(root, 'tests', 'e2e', 'bench'),
  ];
  return dirs
    .filter((d) => existsSync(d))
    .flatMap((d) =>
      readdirSync(d)
        .filter((f) => f.endsWith('.bench.ts'))
        .map((f) => join(d, f)),
    )
    .filter((f) => filters.length === 0 || filters.some((x) => basename(f).includes(x)))
    .sort();
}

const begin = (id: string) => `<!-- bench:${id} -->`;
const end = (id: string) => `<!-- /bench:${id} -->`;

function replaceSection(doc: string, id: string, body: string): string {
  const block = `${begin(id)}\n${body.trim()}\n${end(id)}`;
  const start = doc.indexOf(begin(id));
  const stop = doc.indexOf(end(id));
  if (start >= 0 && stop > start) return doc.slice(0, start) + block + doc.slice(stop + end(id).length);
  return `${doc.trimEnd()}\n\n${block}\n`;
}

const target = join(root, 'BENCHMARKS.md');
const header =
  '# Benchmarks\n\nProduced by `pnpm bench` (all) or `pnpm bench NAME` (benchmarks whose file name contains NAME)\non the project machine (2 cores, 24 GiB). Each section names its own command and date.\n';
// Re-read just before each write: another benchmark run may have recorded its section meanwhile.
const currentDoc = () => (existsSync(target) ? readFileSync(target, 'utf8') : header);
let failures = 0;
for (const file of benchFiles()) {
  const id = relative(root, file);
  process.stderr.write(`bench: ${id}\n`);
  const run = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', '--expose-gc', file], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) {
    failures++;
    process.stderr.write(`bench: ${id} failed (exit ${run.status ?? run.signal})\n`);
    continue;
  }
  const stamp = `_Command: \`pnpm bench ${id.split('/').pop()?.replace('.bench.ts', '')}\` — run ${new Date().toISOString().slice(0, 16)}Z_`;
  writeFileSync(target, replaceSection(currentDoc(), id, `${run.stdout.trim()}\n\n${stamp}`));
}
process.exit(failures ? 1 : 0);
