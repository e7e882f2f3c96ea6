// One allocated build, from set-up to the delivered result: set up, report
// the start, build with the log streamed, upload every output within the
// upload limit, report the result. GC roots on inputs and outputs are held
// until the outputs are uploaded.
import type { AgentClient, AllocatedBuild, BuildResultRequest } from '@gbc/protocol';
import { DaemonError, createBuildDaemon } from '@gbc/store';
import type { BasicDerivation, BuildDaemon, BuildRequest, BuildResult, LogLine } from '@gbc/store';
import type { UploadCompression } from './compression.js';
import { isAgentError } from './errors.js';
import { GUIX_SESSION_OPTIONS } from './guix-daemon-setup.js';
import type { GuixSigning } from './guix-signing.js';
import { LogStream } from './log-stream.js';
import type { NarSource } from './nar-source.js';
import type { Semaphore } from './semaphore.js';
import { setupBuild } from './setup.js';
import type { SharedTempRoots } from './shared-roots.js';
import type { PreparedBuild } from './setup.js';
import { uploadOutput } from './upload-output.js';
import { cappedLimits, type TimeLimitCaps } from './time-limits.js';

/** Daemon lines of a build kept for its failure message (the last ones). */
const DAEMON_LINES_KEPT = 8;

/** Why a held build was aborted. */
export type AbortReason = 'canceled' | 'lease-lost' | 'stopping';

/** What the agent learnt about building on its daemon, kept across builds. */
export interface BuildOps {
  /**
   * Whether to build with BuildDerivation: unknown (undefined) until the first
   * build asks the daemon's dialect; false on guix-daemon, which lacks it, and
   * from the first refusal on (a Nix daemon that does not trust the agent).
   */
  basic: boolean | undefined;
  /**
   * Set (to the daemon's words and what to do) once the daemon refused the
   * signature of an import: the agent's key is missing or not authorized,
   * so every build that imports an input would fail the same way. The agent
   * fetches no more builds until it is restarted with a key the daemon takes.
   */
  importsRefused?: string;
}

/** Everything a build run shares with the agent. */
export interface RunContext {
  readonly client: AgentClient;
  readonly daemon: BuildDaemon;
  /** The daemon's socket path, for builds with limits of their own (a connection each; none when undefined). */
  readonly rootsSocket: string | undefined;
  /** The agent's own caps on the builds' time limits. */
  readonly caps: TimeLimitCaps;
  /** The agent's Guix signing key (read at start), for imports into guix-daemon. */
  readonly signing?: GuixSigning;
  /** Prepares the daemon if that is not done yet (see guix-daemon-setup.ts). */
  readonly prepareDaemon?: () => Promise<void>;
  /** Temporary GC roots on the daemon, shared by builds started close together (none when undefined). */
  readonly roots: SharedTempRoots | undefined;
  readonly cache: NarSource;
  readonly spoolDir: string;
  readonly compression: UploadCompression;
  readonly compressAboveBytes: number;
  readonly derivationSubstituteUrls: readonly string[];
  readonly nonDerivationSubstituteUrls: readonly string[];
  readonly builds: Semaphore;
  readonly uploads: Semaphore;
  readonly buildOps: BuildOps;
  readonly call: <T>(fn: () => Promise<T>, signal?: AbortSignal) => Promise<T>;
  readonly log: (message: string, fields?: Record<string, unknown>) => void;
}

/**
 * Runs `build` to its end. Returns the result to deliver, or null when
 * nothing is to be reported (setup failure already reported, lease lost).
 */
export async function runBuild(
  ctx: RunContext,
  build: AllocatedBuild,
  signal: AbortSignal,
): Promise<BuildResultRequest | null> {
  const roots = ctx.roots?.acquire();
  const reasonOf = (): BuildResultRequest | null => {
    const reason = signal.reason as AbortReason;
    if (reason === 'canceled') return { result: 'canceled' };
    if (reason === 'stopping')
      return {
        result: 'infrastructure-failure',
        message: 'the agent stopped before the build finished; released',
      };
    return null;
  };
  try {
    const call = <T>(fn: () => Promise<T>): Promise<T> => ctx.call(fn, signal);
    const t0 = performance.now();
    let prepared;
    try {
      await ctx.prepareDaemon?.();
      const basic = (ctx.buildOps.basic ??= (await ctx.daemon.info()).dialect === 'nix');
      prepared = await setupBuild(
        { ...ctx, call },
        build.uuid,
        build.derivation,
        basic ? 'own' : 'all',
        basic ? build.closure : undefined,
      );
    } catch (error) {
      if (signal.aborted) return reasonOf();
      if (isAgentError(error, 'missing-inputs')) {
        ctx.log('setup failure', { build: build.uuid, missing: error.paths });
        await call(() => ctx.client.reportSetupFailure(build.uuid, error.paths));
        return null;
      }
      if (isAgentError(error, 'import-refused') && error.signature) {
        // Not the build's fault nor its inputs': this machine's key. Reported
        // once as an infrastructure failure (another agent may take the build);
        // this agent takes no more builds, rather than fail each one the same way.
        if (ctx.buildOps.importsRefused === undefined)
          ctx.log(
            'imports refused: fetching no more builds until the agent is restarted with an authorized key',
            { build: build.uuid, error: error.message },
          );
        ctx.buildOps.importsRefused ??= error.message;
      }
      return {
        result: 'infrastructure-failure',
        message: `set-up failed: ${(error as Error).message}`.slice(0, 65536),
      };
    }
    if (roots !== undefined) for (const p of prepared.inputs) await roots.add(p);
    const t1 = performance.now();
    let t2 = t1;
    let t3 = t1;
    let log: LogStream | undefined;
    const built = await ctx.builds
      .run(async (): Promise<BuildResultRequest | null | 'built'> => {
        if (signal.aborted) return reasonOf();
        t2 = performance.now();
        // The start report travels while the daemon begins: a round trip less in
        // the slot. The build's result is only reported after it succeeded.
        // If the coordinator refuses the start, the build stops at once.
        const building = new AbortController();
        const stop = (): void => building.abort(signal.reason);
        signal.addEventListener('abort', stop, { once: true });
        const started = call(() => ctx.client.reportBuildStart(build.uuid));
        started.catch(() => building.abort('start-refused'));
        log = new LogStream(ctx.client, build.uuid, call, ctx.spoolDir);
        const stream = log;
        // Should the daemon refuse BuildDerivation, the build goes through its .drv, and needs the whole closure.
        const addDerivations = async (): Promise<void> => {
          const full = await setupBuild({ ...ctx, call }, build.uuid, build.derivation, 'all');
          if (roots !== undefined) for (const p of full.inputs) await roots.add(p);
        };
        const said: string[] = [];
        const onLog = (line: LogLine): void => {
          // The uploaded log is what the builder printed, as `guix build --log-file`
          // and `nix log` show it; the daemon's own lines ("building path(s) …",
          // "timed out after …") go to the agent's log, where an operator looks for
          // the machine's side, and the last few into a failure's message.
          if (line.source === 'build') stream.line(line.text);
          else {
            ctx.log('daemon message', { build: build.uuid, text: line.text });
            if (said.push(line.text) > DAEMON_LINES_KEPT) said.shift();
          }
        };
        const [report, daemon] = await Promise.allSettled([
          started,
          buildWithLimits(ctx, build, prepared, addDerivations, { signal: building.signal, onLog }),
        ]);
        signal.removeEventListener('abort', stop);
        t3 = performance.now();
        if (report.status === 'rejected') throw report.reason;
        if (daemon.status === 'rejected') {
          // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- aborted changes while the daemon builds; TypeScript keeps its narrowing from before the await
          if (signal.aborted) return reasonOf();
          return {
            result: 'infrastructure-failure',
            message: `the daemon failed: ${(daemon.reason as Error).message}`.slice(0, 65536),
          };
        }
        const [result, operation] = daemon.value;
        // The result request has no place for the daemon's status (`already-valid`:
        // nothing was built, the outputs were in the store) nor its start and stop
        // times: they are in the agent's log; the attempt's times are the coordinator's.
        ctx.log('built', {
          build: build.uuid,
          status: result.status,
          operation,
          startTime: result.startTime,
          stopTime: result.stopTime,
        });
        if (result.success) return 'built';
        // guix-daemon's error is only "build of … failed": its lines say why.
        const message = [...said, result.errorMessage]
          .filter((l) => l !== '')
          .join('\n')
          .slice(0, 65536);
        if (result.status === 'timed-out') {
          // Which limit fired is the daemon's word (its log line or message, read by the
          // store client); a daemon that does not say stopped it at the wall clock.
          return { result: 'timeout', limit: result.timeLimit ?? 'timeout', message };
        }
        return { result: 'build-failure', message };
      })
      .finally(async () => {
        // The log goes up once the slot is free for the next build.
        await log
          ?.close()
          .catch((error: unknown) =>
            ctx.log('log upload failed', { build: build.uuid, error: String(error) }),
          );
      });
    if (built !== 'built') return built;
    // The build slot is free again while the outputs upload.
    const outputs = [...prepared.derivation.outputs].map(([name, o]) => ({ name, path: o.path }));
    if (roots !== undefined) for (const o of outputs) await roots.add(o.path);
    await Promise.all(
      outputs.map((o) =>
        ctx.uploads.run(() => uploadOutput({ ...ctx, call }, build.uuid, build.derivation, o.name, o.path)),
      ),
    );
    const ms = (a: number, b: number): number => Math.round(b - a);
    ctx.log('uploaded', {
      build: build.uuid,
      setupMs: ms(t0, t1),
      queuedMs: ms(t1, t2),
      buildMs: ms(t2, t3),
      uploadMs: ms(t3, performance.now()),
    });
    return { result: 'success' };
  } catch (error) {
    if (signal.aborted) return reasonOf();
    return { result: 'infrastructure-failure', message: String((error as Error).message).slice(0, 65536) };
  } finally {
    roots?.release();
  }
}

/** The daemon operation a build ran with (in the agent's `built` log entry). */
type DaemonBuildOperation = 'BuildDerivation' | 'BuildPaths';

/**
 * Builds with the build's own time limits: daemon settings apply to a whole
 * connection, so a build with limits gets a connection of its own (when the
 * agent knows the daemon's socket); others use the shared pool.
 */
async function buildWithLimits(
  ctx: RunContext,
  build: AllocatedBuild,
  prepared: PreparedBuild,
  addDerivations: () => Promise<void>,
  request: BuildRequest,
): Promise<[BuildResult, DaemonBuildOperation]> {
  const limits = cappedLimits(build, ctx.caps);
  if (limits.timeoutSeconds === null && limits.maxSilentTimeSeconds === null)
    return buildOn(ctx, ctx.daemon, build.derivation, prepared, addDerivations, request);
  if (ctx.rootsSocket === undefined) {
    ctx.log('time limits not applied: the agent was given a daemon client, not a socket', {
      build: build.uuid,
      ...limits,
    });
    return buildOn(ctx, ctx.daemon, build.derivation, prepared, addDerivations, request);
  }
  const own = createBuildDaemon({
    socket: ctx.rootsSocket,
    storeDir: ctx.daemon.storeDir,
    maxConnections: 1,
  });
  try {
    const guix = (await ctx.daemon.info()).dialect === 'guix';
    await own.setOptions({
      ...(guix ? GUIX_SESSION_OPTIONS : {}),
      timeout: limits.timeoutSeconds ?? 0,
      maxSilentTime: limits.maxSilentTimeSeconds ?? 0,
    });
    return await buildOn(ctx, own, build.derivation, prepared, addDerivations, request);
  } finally {
    await own.close();
  }
}

/**
 * Builds on `daemon` with BuildDerivation where it can: a Nix daemon that
 * trusts the agent, and a coordinator that named the input outputs. BuildPaths
 * on the .drv makes Nix start its build hook (`nix __build-remote`, a whole
 * process that declines) for every call; with one call per build that was a
 * fifth of a farm's CPU on small builds. A daemon that refuses (untrusted
 * agent) gets BuildPaths from then on, the derivation closure added first
 * (set-up adds none for BuildDerivation).
 */
async function buildOn(
  ctx: RunContext,
  daemon: BuildDaemon,
  drvPath: string,
  prepared: PreparedBuild,
  addDerivations: () => Promise<void>,
  request: BuildRequest,
): Promise<[BuildResult, DaemonBuildOperation]> {
  // Whether BuildDerivation is for this daemon was learnt at set-up (runBuild).
  if (prepared.inputOutputs !== undefined && ctx.buildOps.basic === true) {
    const drv = prepared.derivation;
    const basic: BasicDerivation = {
      ...drv,
      inputSrcs: [...new Set([...drv.inputSrcs, ...prepared.inputOutputs])],
    };
    try {
      return [await daemon.buildDerivation(drvPath, basic, request), 'BuildDerivation'];
    } catch (error) {
      if (!(error instanceof DaemonError) || !/not privileged/i.test(error.daemonMessage)) throw error;
      stopBasicBuilds(ctx, error.daemonMessage);
    }
  }
  if (!prepared.derivationsAdded) await addDerivations();
  return [await daemon.build(drvPath, request), 'BuildPaths'];
}

/** Builds go through the .drv from now on; said once, though builds running at once may all have been refused. */
function stopBasicBuilds(ctx: RunContext, daemonMessage: string): void {
  if (ctx.buildOps.basic === false) return;
  ctx.buildOps.basic = false;
  ctx.log(
    "the daemon does not trust this agent with BuildDerivation; building through the .drv from now on (add the agent's user to trusted-users to spare a build-hook process per build)",
    { error: daemonMessage },
  );
}
