// The coordinator's shared context: everything a route handler, a loop or a
// hook needs, built once by `createCoordinator` and passed explicitly (no
// singletons). The client API (src/client-api/) and the agent API
// (src/agent-api/) both receive it.
//
// Contract for route handlers: change the datastore (the authority) first,
// then tell `scheduler` (notifyBuildsCreated/Canceled/PriorityChanged,
// notifyAgentChanged, notifyPathsAvailable), then `events.publish(...)`.
// Read the time from `clock`, never from Date.now(), so tests can drive it.
import type { Datastore } from '@gbc/datastore';
import type { OutputRemovals } from './cache/output-removals.js';
import type { Clock } from './clock.js';
import type { ResolvedConfig } from './config.js';
import type { EventBus } from './events/event-bus.js';
import type { Logger } from './logger.js';
import type { UploadObservation } from './metrics/coordinator-metrics.js';
import type { Scheduler } from './scheduler/scheduler-api.js';
import type { LogStore, NarUploads, Storage } from './storage/index.js';

/** Where the coordinator keeps bytes: the Storage, verified NAR uploads, build logs. */
export interface CoordinatorStorage {
  readonly store: Storage;
  readonly nars: NarUploads;
  readonly logs: LogStore;
}

/** The coordinator's shared state; see the file header. */
export interface CoordinatorContext {
  /** The configuration with defaults applied. */
  readonly config: ResolvedConfig;
  readonly datastore: Datastore;
  /** The in-memory ready queue. */
  readonly scheduler: Scheduler;
  readonly storage: CoordinatorStorage;
  readonly clock: Clock;
  /** Live events for the SSE stream. */
  readonly events: EventBus;
  readonly logger: Logger;
  /** Records an upload's bytes and duration in the coordinator's metrics (http/observed-upload.ts). */
  readonly observeUpload: (upload: UploadObservation) => void;
  /** Tell it when outputs' metadata is removed (retention), so that in-memory copies (the narinfo cache) go too. */
  readonly outputRemovals: OutputRemovals;
}

/** Lease length in ms from the configuration. */
export function leaseMs(ctx: Pick<CoordinatorContext, 'config'>): number {
  return ctx.config.leaseSeconds * 1000;
}
