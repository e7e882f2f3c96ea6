// The chaos run's agents: real `gbc agent` processes, each with its own
// nix-daemon, state directory and identity, which a run SIGKILLs and starts
// again (same state directory, same identity) or SIGSTOPs and SIGCONTs.
// Exits nobody asked for are recorded: an agent must survive what the
// coordinator does. Output goes to `agent-<i>-<n>.out|.err` per incarnation.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { GBC_BIN, gbcEnv } from '../support/gbc-cli.js';

/** How one agent runs. */
export interface AgentSetup {
  readonly index: number;
  readonly uuid: string;
  readonly passwordFile: string;
  readonly daemonSocket: string;
  readonly stateDir: string;
  readonly coordinatorUrl: string;
  readonly compression: 'zstd' | 'gzip' | 'lzip' | 'none';
}

/** An exit nobody asked for. */
export interface UnexpectedExit {
  readonly agent: number;
  readonly incarnation: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Its standard error file. */
  readonly errFile: string;
}

/** One agent across its incarnations. */
export interface ChaosAgent {
  readonly setup: AgentSetup;
  readonly running: boolean;
  readonly paused: boolean;
  start(): void;
  /** SIGKILL (paused or not), then waits for the exit. */
  kill(): Promise<void>;
  pause(): void;
  resume(): void;
  /**
   * SIGCONT, SIGTERM, then waits (SIGKILL after `graceMs`); true when it
   * exited without the SIGKILL (an incarnation still loading its modules dies
   * of the SIGTERM itself, which is fine; a running one exits 0).
   */
  stop(graceMs?: number): Promise<boolean>;
}

/** An agent slot for `setup`, logging into `dir`; `onUnexpectedExit` hears of exits no one asked for. */
export function chaosAgent(
  dir: string,
  setup: AgentSetup,
  onUnexpectedExit: (exit: UnexpectedExit) => void,
): ChaosAgent {
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let incarnation = 0;
  let expectingExit = false;
  let paused = false;
  const alive = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;

  function start(): void {
    if (alive()) throw new Error(`agent ${setup.index} is already running`);
    incarnation += 1;
    const name = `agent-${setup.index}-${incarnation}`;
    const errFile = join(dir, `${name}.err`);
    const out = openSync(join(dir, `${name}.out`), 'w');
    const err = openSync(errFile, 'w');
    const c = spawn(
      GBC_BIN,
      [
        'agent',
        '--coordinator-url',
        setup.coordinatorUrl,
        '--uuid',
        setup.uuid,
        '--password-file',
        setup.passwordFile,
        '--store-dir',
        '/nix/store',
        '--daemon-socket',
        setup.daemonSocket,
        '--state-dir',
        setup.stateDir,
        '--max-parallel-builds',
        '2',
        '--max-1min-load-average',
        '1000',
        '--upload-compression',
        setup.compression,
        '--poll-interval',
        '0.5',
      ],
      { cwd: dir, env: gbcEnv(), stdio: ['ignore', out, err] },
    );
    closeSync(out);
    closeSync(err);
    child = c;
    expectingExit = false;
    paused = false;
    const mine = incarnation;
    exited = new Promise<void>((resolve) =>
      c.once('exit', (code, signal) => {
        if (!expectingExit)
          onUnexpectedExit({ agent: setup.index, incarnation: mine, code, signal, errFile });
        resolve();
      }),
    );
  }

  async function kill(): Promise<void> {
    expectingExit = true;
    if (alive()) child!.kill('SIGKILL');
    paused = false;
    await exited;
  }

  return {
    setup,
    get running() {
      return alive();
    },
    get paused() {
      return paused;
    },
    start,
    kill,
    pause() {
      if (alive()) child!.kill('SIGSTOP');
      paused = true;
    },
    resume() {
      if (alive()) child!.kill('SIGCONT');
      paused = false;
    },
    async stop(graceMs = 30_000) {
      if (!alive()) return true;
      expectingExit = true;
      child!.kill('SIGCONT');
      paused = false;
      const timer = setTimeout(() => child?.kill('SIGKILL'), graceMs);
      child!.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
      return child!.signalCode !== 'SIGKILL';
    },
  };
}
