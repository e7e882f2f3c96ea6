// Test support: runs testing/child.ts in its own Node process, collecting its
// JSON lines; stderr goes to a file, never to the terminal.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { openSync, closeSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const repoRoot = join(import.meta.dirname, '..', '..', '..', '..');
const script = join(import.meta.dirname, 'child.ts');

// One directory for the stderr files of this test file's children; see removeChildLogs.
let logDir: string | undefined;
function childLogDir(): string {
  logDir ??= mkdtempSync(join(tmpdir(), 'gbc-child-'));
  return logDir;
}

/** Removes the children's stderr files (call it in afterAll, once the children ended). */
export function removeChildLogs(): void {
  if (logDir !== undefined) rmSync(logDir, { recursive: true, force: true });
  logDir = undefined;
}
let children = 0;

/** A running child and what it printed so far. */
export interface Child {
  readonly process: ChildProcess;
  readonly lines: unknown[];
  /** Resolves with the exit code (or signal name) once the process ended. */
  readonly exited: Promise<number | string>;
  /** Resolves with the first printed line that satisfies `pred`. */
  waitFor(pred: (line: unknown) => boolean): Promise<unknown>;
  /** Waits until the child is ready, then tells it to begin (modes that wait for `go`). */
  go(): Promise<void>;
  /** What the child wrote on stderr. */
  stderr(): string;
}

/** Starts `child.ts MODE URI ARG`. */
export function spawnChild(mode: string, uri: string, arg = ''): Child {
  const errFile = join(childLogDir(), `stderr-${++children}`);
  const errFd = openSync(errFile, 'w');
  const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script, mode, uri, arg], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', errFd],
  });
  closeSync(errFd);
  const lines: unknown[] = [];
  const waiters: { pred: (line: unknown) => boolean; resolve: (line: unknown) => void }[] = [];
  createInterface({ input: proc.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as unknown;
    lines.push(line);
    for (const w of waiters.splice(0))
      if (w.pred(line)) w.resolve(line);
      else waiters.push(w);
  });
  const exited = new Promise<number | string>((resolve) =>
    proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    process: proc,
    lines,
    exited,
    waitFor: (pred) => {
      const found = lines.find(pred);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        waiters.push({ pred, resolve });
        void exited.then((code) =>
          reject(
            new Error(
              `child exited (${code}) before the expected line; stderr: ${readFileSync(errFile, 'utf8').slice(-2000)}`,
            ),
          ),
        );
      });
    },
    go: async function (this: Child) {
      await this.waitFor((l) => (l as { ready?: boolean }).ready === true);
      proc.stdin!.write('go\n');
    },
    stderr: () => readFileSync(errFile, 'utf8'),
  };
}
