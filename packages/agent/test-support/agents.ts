// Test support (not exported): in-process agents against a test coordinator,
// each on a private daemon, with a fast poll and their own state directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgent } from '../src/index.js';
import type { Agent, AgentOptions } from '../src/index.js';

/** A running in-process agent. */
export interface RunningAgent {
  readonly agent: Agent;
  readonly stateDir: string;
  readonly done: Promise<void>;
  /** The agent's progress messages so far. */
  readonly messages: readonly string[];
  /** Stops (gracefully by default) and waits for `run()` to end. */
  stop(graceful?: boolean): Promise<void>;
}

/** Starts an agent with `options` (state directory made here unless given). */
export function runAgent(options: Omit<AgentOptions, 'stateDir'> & { stateDir?: string }): RunningAgent {
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'gbc-agent-state-'));
  const messages: string[] = [];
  const log = (m: string, f?: Record<string, unknown>): void => {
    messages.push(m);
    options.log?.(m, f);
    if (process.env.GBC_AGENT_TEST_LOG !== undefined) console.error(m, JSON.stringify(f));
  };
  const agent = createAgent({
    pollIntervalMs: 100,
    maxLoad1: 10_000,
    retry: { baseMs: 50, maxMs: 500 },
    ...options,
    log,
    stateDir,
  });
  const done = agent.run();
  return {
    agent,
    stateDir,
    done,
    messages,
    async stop(graceful = true) {
      agent.stop(graceful);
      await done;
      if (options.stateDir === undefined) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
