// Building a derivation through a session: BuildPathsWithResults (Nix ≥ 1.34)
// for a typed result, else build-paths (op 9), with the log streamed by line.
import { encodeStringList, encodeU64 } from '../wire/byte-writer.js';
import type { BuildRequest, BuildResult, BuildStatus, LogLine } from './build-daemon.js';
import { BuildMode, MAX_PATH, MAX_TEXT, Op } from './constants.js';
import { DaemonError, DaemonProtocolError, stripAnsi } from './errors.js';
import { LineSplitter } from './line-splitter.js';
import type { DaemonSession } from './session.js';
import { isBuildLogLine, type StderrEvent } from './stderr.js';

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
const SUCCESSES = new Set<BuildStatus>(['built', 'substituted', 'already-valid', 'resolves-to-already-valid']);

/**
 * The path-with-outputs string build-paths takes: `DRV!out,dev`. Nix ≥ 1.30
 * reads a bare path as "this .drv file" (nothing built), so all outputs are
 * `DRV!*` there; older Nix and guix-daemon build every output of a bare path.
 */
export function pathWithOutputs(drvPath: string, outputs: readonly string[] | undefined, modernNix: boolean): string {
  if (outputs !== undefined && outputs.length > 0) return `${drvPath}!${[...outputs].sort().join(',')}`;
  return modernNix ? `${drvPath}!*` : drvPath;
}

/** Builds `drvPath` on `session`; builder failures become results, other refusals DaemonErrors. */
export async function buildOn(session: DaemonSession, drvPath: string, request: BuildRequest = {}): Promise<BuildResult> {
  const nix = session.info.dialect === 'nix';
  const emit = request.onLog ?? ((): void => undefined);
  // Guix sends builder output as plain text (STDERR_NEXT); Nix sends it as log-line results.
  const splitter = new LineSplitter((text) => emit({ text, source: nix ? 'daemon' : 'build' } satisfies LogLine));
  const onEvent = (event: StderrEvent): void => {
    if (event.kind === 'next') splitter.push(event.text);
    else if (isBuildLogLine(event)) emit({ text: String(event.fields[0]), source: 'build' });
  };
  const target = pathWithOutputs(drvPath, request.outputs, nix && session.minor >= 30);
  const mode = encodeU64(BuildMode[request.mode ?? 'normal']);
  const signal = request.signal;
  const aborted = (): DaemonProtocolError =>
    new DaemonProtocolError('aborted', `the build of ${drvPath} was aborted`, { cause: signal?.reason });
  if (signal?.aborted) throw aborted();
  // Closing the connection is the protocol's only way to stop a build.
  const onAbort = (): void => {
    session.broken = true;
    session.conn.close();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (nix && session.minor >= 34) {
      session.request(Op.BuildPathsWithResults, encodeStringList([target]), mode);
      await session.finish('build-paths-with-results', onEvent);
      return await readResults(session);
    }
    session.request(Op.BuildPaths, encodeStringList([target]), mode);
    await session.finish('build-paths', onEvent);
    await session.conn.reader.readU64('acknowledgement');
    return { success: true, status: 'built', statusCode: 0, errorMessage: '', startTime: null, stopTime: null };
  } catch (error) {
    if (signal?.aborted) throw aborted();
    if (error instanceof DaemonError && isBuildFailure(error)) {
      const status: BuildStatus = error.status === 101 ? 'timed-out' : 'permanent-failure';
      return { success: false, status, statusCode: error.status ?? 1, errorMessage: error.daemonMessage, startTime: null, stopTime: null };
    }
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    splitter.flush();
  }
}

/** Guix marks builder failures with status 100+; old Nix only says so in words. */
function isBuildFailure(error: DaemonError): boolean {
  if (error.status !== undefined && error.status >= 100) return true;
  return error.status === undefined && /^build of .* failed|^builder for .* failed/m.test(error.daemonMessage);
}

/** Reads BuildPathsWithResults' answer: one keyed BuildResult per requested path. */
async function readResults(session: DaemonSession): Promise<BuildResult> {
  const r = session.conn.reader;
  const count = await r.readU64('result count');
  let first: BuildResult | undefined;
  for (let i = 0; i < count; i++) {
    await r.readString(MAX_PATH, 'derived path');
    const statusCode = await r.readU64('build status');
    const errorMessage = stripAnsi(await r.readString(MAX_TEXT, 'build error message')).trim();
    await r.readU64('times built');
    await r.readU64('non-deterministic flag');
    const startTime = await r.readU64('start time');
    const stopTime = await r.readU64('stop time');
    const outputs = await r.readU64('built output count');
    for (let j = 0; j < outputs; j++) {
      await r.readString(MAX_PATH, 'output id');
      await r.readString(MAX_TEXT, 'realisation');
    }
    const status = STATUSES[statusCode] ?? 'unknown';
    first ??= { success: SUCCESSES.has(status), status, statusCode, errorMessage, startTime, stopTime };
  }
  if (first === undefined) throw new DaemonError({ daemonMessage: 'no build result returned', operation: 'build-paths-with-results' });
  return first;
}
