// The coordinator's Prometheus metrics, in a registry of its own (never
// prom-client's global one): gauges computed on scrape from the datastore,
// the scheduler and the hook runner, and what the routes record as they go
// (request durations, uploads). Every name starts with `gbc_`.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { countBuildsByState, countPendingEvents, listAgents } from '@gbc/datastore';
import type { CoordinatorContext } from '../context.js';
import type { HookRunner } from '../hooks/hook-runner.js';
import {
  attemptsByResult,
  failingHookEvents,
  openAttemptsByAgent,
  queuedBySystem,
  storedNarBytes,
} from './metrics-queries.js';

/** What the metrics read on scrape. */
export type MetricsContext = Pick<CoordinatorContext, 'datastore' | 'scheduler'>;

/** Options of {@link createCoordinatorMetrics}. */
export interface CoordinatorMetricsOptions {
  /** The hook runner, for its run counters. */
  readonly hooks?: HookRunner;
  /** Add Node's process metrics (`gbc_process_…`). Default false. */
  readonly processMetrics?: boolean;
}

/** One finished NAR or log upload, as the agent API reports it. */
export interface UploadObservation {
  readonly kind: 'nar' | 'log';
  /** Bytes received (as sent, compressed). */
  readonly bytes: number;
  readonly seconds: number;
  /** `ok` or the refusal code. */
  readonly outcome: string;
}

/** The metrics of one coordinator. */
export interface CoordinatorMetrics {
  readonly registry: Registry;
  /** Records one HTTP request (used by `requestMetrics`). */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /** Records one upload. */
  observeUpload(upload: UploadObservation): void;
  /** The Prometheus text of every metric. */
  scrape(): Promise<string>;
}

/** Creates the metrics over `ctx`; see the file header. */
export function createCoordinatorMetrics(
  ctx: MetricsContext,
  options: CoordinatorMetricsOptions = {},
): CoordinatorMetrics {
  const registry = new Registry();
  const registers = [registry];
  const db = ctx.datastore.db;
  const fill = (g: Gauge<string>, label: string, values: ReadonlyMap<string, number>) => {
    g.reset();
    for (const [k, v] of values) g.set({ [label]: k }, v);
  };
  new Gauge({
    name: 'gbc_builds',
    help: 'Builds by state.',
    labelNames: ['state'],
    registers,
    async collect() {
      fill(this, 'state', await countBuildsByState(db));
    },
  });
  new Gauge({
    name: 'gbc_queue_length',
    help: 'Queued builds per system.',
    labelNames: ['system'],
    registers,
    async collect() {
      fill(this, 'system', await queuedBySystem(db));
    },
  });
  new Gauge({
    name: 'gbc_scheduler_builds',
    help: 'Builds the scheduler holds, by what they wait for (ready, deferred, waiting, inactive).',
    labelNames: ['status'],
    registers,
    collect() {
      fill(this, 'status', new Map(Object.entries(ctx.scheduler.counts())));
    },
  });
  new Gauge({
    name: 'gbc_attempts',
    help: 'Attempts by result kind (running: not finished).',
    labelNames: ['result'],
    registers,
    async collect() {
      fill(this, 'result', await attemptsByResult(db));
    },
  });
  new Gauge({
    name: 'gbc_hook_queue_depth',
    help: 'Hook events not yet done, per event type.',
    labelNames: ['event_type'],
    registers,
    async collect() {
      fill(this, 'event_type', await countPendingEvents(db));
    },
  });
  new Gauge({
    name: 'gbc_hook_failing_events',
    help: 'Hook events whose last run failed (to be retried), per event type.',
    labelNames: ['event_type'],
    registers,
    async collect() {
      fill(this, 'event_type', await failingHookEvents(db));
    },
  });
  new Gauge({
    name: 'gbc_hook_runs',
    help: 'Hook runs since start, per event type and outcome (ok, failed, in_flight).',
    labelNames: ['event_type', 'outcome'],
    registers,
    collect() {
      this.reset();
      for (const [t, s] of options.hooks?.stats() ?? []) {
        this.set({ event_type: t, outcome: 'ok' }, s.processed);
        this.set({ event_type: t, outcome: 'failed' }, s.failed);
        this.set({ event_type: t, outcome: 'in_flight' }, s.inFlight);
      }
    },
  });
  new Gauge({
    name: 'gbc_agents',
    help: 'Agents, active or not.',
    labelNames: ['active'],
    registers,
    async collect() {
      const agents = await listAgents(db);
      fill(
        this,
        'active',
        new Map([
          ['true', agents.filter((a) => a.active).length],
          ['false', agents.filter((a) => !a.active).length],
        ]),
      );
    },
  });
  new Gauge({
    name: 'gbc_agent_load',
    help: 'Last reported 1-minute load average per agent.',
    labelNames: ['agent', 'name'],
    registers,
    async collect() {
      this.reset();
      for (const a of await listAgents(db)) {
        const load = (a.status as { load1?: unknown } | null)?.load1;
        if (typeof load === 'number') this.set({ agent: a.id, name: a.name }, load);
      }
    },
  });
  new Gauge({
    name: 'gbc_agent_builds',
    help: 'Unfinished attempts per agent.',
    labelNames: ['agent', 'name'],
    registers,
    async collect() {
      const [agents, open] = await Promise.all([listAgents(db), openAttemptsByAgent(db)]);
      this.reset();
      for (const a of agents) this.set({ agent: a.id, name: a.name }, open.get(a.id) ?? 0);
    },
  });
  new Counter({
    name: 'gbc_allocations_total',
    help: 'Builds ever handed to agents (attempts recorded).',
    registers,
    async collect() {
      const byResult = await attemptsByResult(db);
      this.reset();
      this.inc([...byResult.values()].reduce((a, b) => a + b, 0));
    },
  });
  new Gauge({
    name: 'gbc_stored_nar_bytes',
    help: 'Bytes of stored NAR files, by compression.',
    labelNames: ['compression'],
    registers,
    async collect() {
      fill(this, 'compression', await storedNarBytes(db));
    },
  });
  const requests = new Histogram({
    name: 'gbc_http_request_duration_seconds',
    help: 'HTTP request durations by method, route and status.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
    registers,
  });
  const requestsByLabels = new Map<string, Histogram.Internal<'method' | 'route' | 'status'>>();
  const uploadBytes = new Counter({
    name: 'gbc_upload_bytes_total',
    help: 'Bytes received in uploads, by kind and outcome.',
    labelNames: ['kind', 'outcome'],
    registers,
  });
  const uploadSeconds = new Histogram({
    name: 'gbc_upload_duration_seconds',
    help: 'Upload durations by kind and outcome.',
    labelNames: ['kind', 'outcome'],
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 1800],
    registers,
  });
  if (options.processMetrics === true) collectDefaultMetrics({ register: registry, prefix: 'gbc_' });
  return {
    registry,
    observeRequest(method, route, status, seconds) {
      // The labelled child, found by one string key: prom-client would otherwise
      // hash a label object (its keys sorted) on every request the cache answers.
      const key = `${status} ${method} ${route}`;
      let child = requestsByLabels.get(key);
      if (child === undefined) {
        child = requests.labels({ method, route, status: String(status) });
        requestsByLabels.set(key, child);
      }
      child.observe(seconds);
    },
    observeUpload: (u) => {
      uploadBytes.inc({ kind: u.kind, outcome: u.outcome }, u.bytes);
      uploadSeconds.observe({ kind: u.kind, outcome: u.outcome }, u.seconds);
    },
    scrape: () => registry.metrics(),
  };
}
