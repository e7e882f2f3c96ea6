/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// The overview: unfinished builds by system, what the scheduler holds ready,
// the agents with what each builds and its load, builds finished per minute,
// the hook queue and the latest failures. Each part is one cheap read (see
// overview-queries.ts and finish-rate.ts); the page reloads its parts when
// the event stream says something changed.
import type { Agent, Build, BuildList, HookStatus } from '@gbc/protocol';
import type { QueueCounts } from '@gbc/allocator';
import type { MinuteCount } from './finish-rate.js';
import { Page } from './layout.js';
import type { HeldBuild, SystemCounts } from './overview-queries.js';
import { AgentLink, BuildLink, formatBytes, StateBadge, storeName, Time } from './parts.js';
import { RateChart } from './rate-chart.js';
import type { Session } from './sessions.js';
import { WEB_BASE } from './web-env.js';

/** What the overview shows. */
export interface OverviewData {
  readonly systems: readonly SystemCounts[];
  readonly queue: QueueCounts;
  readonly agents: readonly Agent[];
  /** Allocated and started builds (the agents' current work). */
  readonly running: readonly HeldBuild[];
  readonly rate: readonly MinuteCount[];
  readonly hooks: HookStatus;
  readonly failures: BuildList;
}

/** The overview page. */
export function OverviewPage({ data, session }: { data: OverviewData; session: Session }) {
  return (
    <Page title="Overview" section="overview" session={session} live="refresh">
      <div class="grid">
        <Systems systems={data.systems} queue={data.queue} />
        <HookHealth hooks={data.hooks} />
      </div>
      <Agents agents={data.agents} running={data.running} />
      <section class="card" aria-labelledby="rate-h">
        <h2 id="rate-h">Builds finished per minute</h2>
        <RateChart series={data.rate} />
      </section>
      <RecentFailures builds={data.failures.builds} />
    </Page>
  );
}

function stateLink(state: string, system: string, n: number) {
  const q = new URLSearchParams({ state, system });
  return n === 0 ? <span class="muted">0</span> : <a href={`${WEB_BASE}/builds?${q.toString()}`}>{n}</a>;
}

function Systems({ systems, queue }: { systems: readonly SystemCounts[]; queue: QueueCounts }) {
  return (
    <section class="card" aria-labelledby="systems-h" data-part="systems">
      <h2 id="systems-h">Unfinished builds by system</h2>
      {systems.length === 0 ? (
        <p class="muted">No queued, allocated or running builds.</p>
      ) : (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th>System</th>
                <th class="num">Queued</th>
                <th class="num">Allocated</th>
                <th class="num">Running</th>
              </tr>
            </thead>
            <tbody>
              {systems.map((s) => (
                <tr>
                  <td class="mono">{s.system}</td>
                  <td class="num">{stateLink('queued', s.system, s.queued)}</td>
                  <td class="num">{stateLink('allocated', s.system, s.allocated)}</td>
                  <td class="num">{stateLink('started', s.system, s.started)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p class="muted">
        Scheduler: {queue.ready} ready, {queue.waiting} waiting for inputs, {queue.deferred} deferred.
      </p>
    </section>
  );
}

function HookHealth({ hooks }: { hooks: HookStatus }) {
  const pending = hooks.queue.reduce((s, q) => s + q.pending, 0);
  return (
    <section class="card" aria-labelledby="hooks-h" data-part="hooks">
      <h2 id="hooks-h">Hook queue</h2>
      <p>
        {pending} event{pending === 1 ? '' : 's'} pending
        {hooks.queue.length === 0
          ? ''
          : `: ${hooks.queue.map((q) => `${q.eventType} ${q.pending}`).join(', ')}`}
        .
      </p>
      {hooks.failing.length === 0 ? (
        <p class="muted">No failing hook events.</p>
      ) : (
        <p class="error">
          {hooks.failing.length} failing event{hooks.failing.length === 1 ? '' : 's'}, e.g.{' '}
          {hooks.failing[0]!.eventType}: {hooks.failing[0]!.lastError.slice(0, 200)}.{' '}
          <a href={`${WEB_BASE}/hooks`}>See the hooks page</a>.
        </p>
      )}
    </section>
  );
}

function Agents({ agents, running }: { agents: readonly Agent[]; running: readonly HeldBuild[] }) {
  const work = new Map<string, HeldBuild[]>();
  for (const b of running) work.set(b.agent, [...(work.get(b.agent) ?? []), b]);
  const active = agents.filter((a) => a.active);
  return (
    <section class="card" aria-labelledby="agents-h" data-part="agents">
      <h2 id="agents-h">
        Agents ({active.length} active of {agents.length})
      </h2>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>Agent</th>
              <th>Building</th>
              <th class="num">Load (1 min)</th>
              <th class="num hide-narrow">Free disk</th>
              <th class="hide-narrow">Last report</th>
            </tr>
          </thead>
          <tbody>
            {active.map((a) => (
              <tr>
                <td>
                  <AgentLink uuid={a.uuid} name={a.name} />
                </td>
                <td>
                  {(work.get(a.uuid) ?? []).map((b) => (
                    <div>
                      <BuildLink uuid={b.uuid}>{storeName(b.derivation)}</BuildLink>{' '}
                      <StateBadge state={b.state} />
                    </div>
                  ))}
                </td>
                <td class="num">{a.status === null ? '—' : a.status.load1.toFixed(2)}</td>
                <td class="num hide-narrow">{formatBytes(a.status?.freeDiskBytes ?? null)}</td>
                <td class="hide-narrow">
                  <Time at={a.status?.reportedAt ?? null} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function RecentFailures({ builds }: { builds: readonly Build[] }) {
  return (
    <section class="card" aria-labelledby="failures-h" data-part="failures">
      <h2 id="failures-h">Recent failures</h2>
      {builds.length === 0 ? (
        <p class="muted">No failed builds.</p>
      ) : (
        <ul>
          {builds.map((b) => (
            <li>
              <BuildLink uuid={b.uuid}>{storeName(b.derivation)}</BuildLink>{' '}
              <span class="mono">{b.system}</span> <Time at={b.endedAt} />
            </li>
          ))}
        </ul>
      )}
      <p>
        <a href={`${WEB_BASE}/builds?state=failed`}>All failed builds</a>
      </p>
    </section>
  );
}
