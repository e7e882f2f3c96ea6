// Building a derivation through a session: BuildPathsWithResults (Nix ≥ 1.34)
// for a typed result, else build-paths (op 9), with the log streamed by line
// and guix-daemon's builder output told from its own messages.
import { encodeStringList, encodeU64 } from '../wire/byte-writer.js';
import type { BuildRequest, BuildResult, BuildStatus } from './build-daemon.js';
import { readBuildResult } from './build-result.js';
import { BuildMode, MAX_PATH, Op } from './constants.js';
import { DaemonError, DaemonProtocolError } from './errors.js';
import { BuildOutput, type BuildObservations } from './build-output.js';
import { timeLimitOf } from './build-trace.js';
import type { DaemonSession } from './session.js';
import { isBuildLogLine, type StderrEvent } from './stderr.js';

/**
 * The path-with-outputs string build-paths takes: `DRV!out,dev`. Nix ≥ 1.30
 * reads a bare path as "this .drv file" (nothing built), so all outputs are
 * `DRV!*` there; older Nix and guix-daemon build every output of a bare path.
 */
export function pathWithOutputs(
  drvPath: string,
  outputs: readonly string[] | undefined,
  modernNix: boolean,
): string {
  if (outputs !== undefined && outputs.length > 0) return `${drvPath}!${[...outputs].sort().join(',')}`;
  return modernNix ? `${drvPath}!*` : drvPath;
}

/** Builds `drvPath` on `session`; builder failures become results, other refusals DaemonErrors. */
export async function buildOn(
  session: DaemonSession,
  drvPath: string,
  request: BuildRequest = {},
): Promise<BuildResult> {
  const nix = session.info.dialect === 'nix';
  // Builder output and traces are told apart only once set-options asked for them.
  if (!nix && !session.buildTraces) await session.setOptions({});
  const target = pathWithOutputs(drvPath, request.outputs, nix && session.minor >= 30);
  const mode = encodeU64(BuildMode[request.mode ?? 'normal']);
  return runBuild(session, drvPath, request, async (onEvent) => {
    if (nix && session.minor >= 34) {
      session.request(Op.BuildPathsWithResults, encodeStringList([target]), mode);
      await session.finish('build-paths-with-results', onEvent);
      return readResults(session);
    }
    session.request(Op.BuildPaths, encodeStringList([target]), mode);
    await session.finish('build-paths', onEvent);
    await session.conn.reader.readU64('acknowledgement');
    return {
      success: true,
      status: 'built',
      statusCode: 0,
      errorMessage: '',
      startTime: null,
      stopTime: null,
    };
  });
}

/**
 * Runs one build exchange (`exchange` sends the request and reads the reply)
 * with the log passed to `request.onLog` line by line, abort by closing the
 * connection, and Guix / old Nix build-failure errors turned into results,
 * completed with what the daemon's lines said (time limit, times, whether
 * anything was built).
 */
export async function runBuild(
  session: DaemonSession,
  drvPath: string,
  request: BuildRequest,
  exchange: (onEvent: (event: StderrEvent) => void) => Promise<BuildResult>,
): Promise<BuildResult> {
  const output = new BuildOutput(drvPath, request.onLog ?? ((): void => undefined));
  const onEvent = (event: StderrEvent): void => {
    if (event.kind === 'next') output.push(event.bytes);
    else if (isBuildLogLine(event)) output.builderLine(String(event.fields[0]));
  };
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
  let result: BuildResult;
  try {
    result = await exchange(onEvent);
  } catch (error) {
    if (signal?.aborted) throw aborted();
    if (!(error instanceof DaemonError && isBuildFailure(error))) throw error;
    const status: BuildStatus = error.status === 101 ? 'timed-out' : 'permanent-failure';
    result = {
      success: false,
      status,
      statusCode: error.status ?? 1,
      errorMessage: error.daemonMessage,
      startTime: null,
      stopTime: null,
    };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    output.flush();
  }
  return completeResult(result, output, session.info.dialect === 'guix' && session.buildTraces);
}

/**
 * Adds what the daemon's lines told: the time limit of a timed-out build;
 * with guix-daemon's traces, the build's times, `already-valid` (or
 * `substituted`) when it reported success without building the derivation,
 * and `dependency-failed` when it failed before building it because another
 * build failed.
 */
export function completeResult(result: BuildResult, seen: BuildObservations, traced: boolean): BuildResult {
  let completed = result;
  if (result.status === 'timed-out') {
    const limit = seen.timeLimit ?? timeLimitOf(result.errorMessage);
    if (limit !== undefined) completed = { ...completed, timeLimit: limit };
  }
  if (!traced) return completed;
  completed = { ...completed, startTime: seen.startTime ?? null, stopTime: seen.stopTime ?? null };
  if (completed.status === 'built' && seen.startTime === undefined) {
    completed = { ...completed, status: seen.substituted ? 'substituted' : 'already-valid' };
  }
  if (completed.status === 'permanent-failure' && seen.startTime === undefined && seen.otherFailed) {
    completed = { ...completed, status: 'dependency-failed' };
  }
  return completed;
}

/** Guix marks builder failures with status 100+; old Nix only says so in words. */
function isBuildFailure(error: DaemonError): boolean {
  if (error.status !== undefined && error.status >= 100) return true;
  return (
    error.status === undefined && /^build of .* failed|^builder for .* failed/m.test(error.daemonMessage)
  );
}

/** Reads BuildPathsWithResults' answer: one keyed BuildResult per requested path; returns the first. */
async function readResults(session: DaemonSession): Promise<BuildResult> {
  const count = await session.conn.reader.readU64('result count');
  let first: BuildResult | undefined;
  for (let i = 0; i < count; i++) {
    await session.conn.reader.readString(MAX_PATH, 'derived path');
    const result = await readBuildResult(session);
    first ??= result;
  }
  if (first === undefined)
    throw new DaemonError({
      daemonMessage: 'no build result returned',
      operation: 'build-paths-with-results',
    });
  return first;
}
