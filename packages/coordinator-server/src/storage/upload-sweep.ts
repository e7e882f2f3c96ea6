// The partial-upload sweep. An upload that breaks off is kept so that its
// agent can resume it; but an agent that died, or whose build was released to
// another agent, may never come back for it, and nothing else would ever
// remove it. Every so often, partial uploads untouched for longer than the
// configured age are removed (one being received never is).
import type { Logger } from '../logger.js';
import type { NarUploads } from './nar-uploads.js';

/** A running sweep. */
export interface UploadSweep {
  /** Removes the partial uploads older than the age now; returns how many. */
  sweepNow(): Promise<number>;
  /** Stops the timer and waits for a pass in progress. */
  stop(): Promise<void>;
}

/** Options of {@link startUploadSweep}. */
export interface UploadSweepOptions {
  /** Partial uploads untouched for longer than this are removed, seconds; 0 turns the sweep off. */
  readonly maxAgeSeconds: number;
  readonly logger: Logger;
  /** Wall-clock time in ms (file times are wall-clock times). Default Date.now. */
  readonly now?: () => number;
}

/** Starts sweeping `nars` every half of the age (at most hourly); a pass runs at once too. */
export function startUploadSweep(nars: NarUploads, options: UploadSweepOptions): UploadSweep {
  const now = options.now ?? Date.now;
  let running: Promise<number> = Promise.resolve(0);
  const pass = async (): Promise<number> => {
    const removed = await nars.sweep(new Date(now() - options.maxAgeSeconds * 1000));
    if (removed > 0)
      options.logger.info('partial uploads nobody resumed: removed', {
        count: removed,
        maxAgeSeconds: options.maxAgeSeconds,
      });
    return removed;
  };
  const sweepNow = (): Promise<number> => {
    running = running.then(pass, pass);
    return running;
  };
  if (options.maxAgeSeconds <= 0)
    return {
      sweepNow,
      stop: () =>
        running.then(
          () => undefined,
          () => undefined,
        ),
    };
  const periodic = (): void => {
    sweepNow().catch((error: unknown) =>
      options.logger.warn('partial-upload sweep failed', { error: String(error) }),
    );
  };
  periodic();
  const timer = setInterval(
    periodic,
    Math.max(1000, Math.min(3_600_000, (options.maxAgeSeconds * 1000) / 2)),
  );
  timer.unref();
  return {
    sweepNow,
    async stop() {
      clearInterval(timer);
      await running.catch(() => undefined);
    },
  };
}
