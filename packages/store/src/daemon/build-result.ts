// Nix's BuildResult on the wire: status, message, then (by protocol
// version) times built, determinism, start/stop times, built outputs.
import type { BuildResult, BuildStatus } from './build-daemon.js';
import { MAX_PATH, MAX_TEXT } from './constants.js';
import { stripAnsi } from './errors.js';
import type { DaemonSession } from './session.js';

/** Nix's BuildResult status numbers, in order. */
const STATUSES: readonly BuildStatus[] = [
  'built',
  'substituted',
  'already-valid',
  'permanent-failure',
  'input-rejected',
  'output-rejected',
  'transient-failure',
  'cached-failure',
  'timed-out',
  'misc-failure',
  'dependency-failed',
  'log-limit-exceeded',
  'not-deterministic',
  'resolves-to-already-valid',
  'no-substituters',
];

/** Statuses that mean the outputs are there. */
const SUCCESSES = new Set<BuildStatus>([
  'built',
  'substituted',
  'already-valid',
  'resolves-to-already-valid',
]);

/** The status name of a Nix BuildResult status number (`unknown` past the table). */
export function buildStatusOf(code: number): BuildStatus {
  return STATUSES[code] ?? 'unknown';
}

/** Reads one BuildResult body (without the derived path that BuildPathsWithResults puts first). */
export async function readBuildResult(session: DaemonSession): Promise<BuildResult> {
  const r = session.conn.reader;
  const statusCode = await r.readU64('build status');
  const errorMessage = stripAnsi(await r.readString(MAX_TEXT, 'build error message')).trim();
  let startTime: number | null = null;
  let stopTime: number | null = null;
  if (session.minor >= 29) {
    await r.readU64('times built');
    await r.readU64('non-deterministic flag');
    startTime = await r.readU64('start time');
    stopTime = await r.readU64('stop time');
  }
  if (session.minor >= 28) {
    const outputs = await r.readU64('built output count');
    for (let j = 0; j < outputs; j++) {
      await r.readString(MAX_PATH, 'output id');
      await r.readString(MAX_TEXT, 'realisation');
    }
  }
  const status = buildStatusOf(statusCode);
  return { success: SUCCESSES.has(status), status, statusCode, errorMessage, startTime, stopTime };
}
