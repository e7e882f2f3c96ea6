// Building a derivation through a session: BuildPathsWithResults (Nix ≥ 1.34)
// for a typed result, else build-paths (op 9), with the log streamed by line.
import { encodeStringList, encodeU64 } from '../wire/byte-writer.js';
import type { BuildRequest, BuildResult, BuildStatus, LogLine } from './build-daemon.js';
import { readBuildResult } from './build-result.js';
import { BuildMode, MAX_PATH, Op } from './constants.js';
import { DaemonError, DaemonProtocolError } from './errors.js';
import { LineSplitter } from './line-splitter.js';
import type { DaemonSession } from './session.js';
import { isBuildLogLine, type StderrEvent } from './stderr.js';

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
export function buildOn(session: DaemonSession, drvPath: string, request: BuildRequest = {}): Promise<BuildResult> {
  const nix = session.info.dialect === 'nix';
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
    return { success: true, status: 'built', statusCode: 0, errorMessage: '', startTime: null, stopTime: null };
  });
}

/**
 * Runs one build exchange (`exchange` sends the request and reads the reply)
 * with the log passed to `request.onLog` line by line, abort by closing the
 * connection, and Guix / old Nix build-failure errors turned into results.
 */
export async function runBuild(
  session: DaemonSession,
  drvPath: string,
  request: BuildRequest,
  exchange: (onEvent: (event: StderrEvent) => void) => Promise<BuildResult>,
): Promise<BuildResult> {
  const nix = session.info.dialect === 'nix';
  const emit = request.onLog ?? ((): void => undefined);
  // Guix sends builder output as plain text (STDERR_NEXT); Nix sends it as log-line results.
  const splitter = new LineSplitter((text) => emit({ text, source: nix ? 'daemon' : 'build' } satisfies LogLine));
  const onEvent = (event: StderrEvent): void => {
    if (event.kind === 'next') splitter.push(event.text);
    else if (isBuildLogLine(event)) emit({ text: String(event.fields[0]), source: 'build' });
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
  try {
    return await exchange(onEvent);
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

/** Reads BuildPathsWithResults' answer: one keyed BuildResult per requested path; returns the first. */
async function readResults(session: DaemonSession): Promise<BuildResult> {
  const count = await session.conn.reader.readU64('result count');
  let first: BuildResult | undefined;
  for (let i = 0; i < count; i++) {
    await session.conn.reader.readString(MAX_PATH, 'derived path');
    const result = await readBuildResult(session);
    first ??= result;
  }
  if (first === undefined) throw new DaemonError({ daemonMessage: 'no build result returned', operation: 'build-paths-with-results' });
  return first;
}
