// Built-in hook `command`: runs a program (no shell) with the event as one
// JSON object on standard input; a non-zero exit, a signal or the timeout
// fails the run with the program's standard error.
import { spawn } from 'node:child_process';
import { HookError } from '../hook-errors.js';
import type { CommandHookSpec, HookFunction } from '../hook-types.js';

const STDERR_LIMIT = 16 * 1024;

/** Creates the command hook for `spec`. */
export function createCommandHook(spec: CommandHookSpec, cwd: string): HookFunction {
  const [program, ...args] = spec.command;
  if (program === undefined)
    throw new HookError(
      'bad-hook-config',
      'a command hook needs a program: { "command": ["/path/to/program", …] }',
    );
  const timeoutMs = spec.timeoutMs ?? 300_000;
  return (event, { signal }) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(program, args, {
        cwd,
        env: { ...process.env, ...spec.env },
        stdio: ['pipe', 'ignore', 'pipe'],
        signal,
        timeout: timeoutMs,
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        if (stderr.length < STDERR_LIMIT) stderr += d.slice(0, STDERR_LIMIT - stderr.length);
      });
      // A program that does not read its input must not fail the hook (EPIPE).
      child.stdin.on('error', () => undefined);
      child.stdin.end(`${JSON.stringify(event)}\n`);
      child.on('error', (error) =>
        reject(
          new HookError('command-failed', `could not run ${program}: ${error.message}`, { cause: error }),
        ),
      );
      child.on('close', (code, sig) => {
        if (code === 0) resolve();
        else
          reject(
            new HookError(
              'command-failed',
              `${program} ${sig === null ? `exited with ${code}` : `was killed by ${sig}`}${stderr.trim() === '' ? '' : `: ${stderr.trim()}`}`,
            ),
          );
      });
    });
}
