/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// Agents: the list (`GET /agents`) and one agent's page (`GET /agent/{uuid}`
// with its recently finished attempts, and its current builds from
// `GET /builds?agent=`).
import type { Agent, AgentAttempt, AgentDetail, Build } from '@gbc/protocol';
import { Page } from './layout.js';
import {
  AgentLink,
  AttemptOutcome,
  BuildLink,
  formatBytes,
  StateBadge,
  storeName,
  TableCard,
  Tags,
  Time,
} from './parts.js';
import type { Session } from './sessions.js';

/** The agents list page. */
export function AgentsPage({ agents, session }: { agents: readonly Agent[]; session: Session }) {
  return (
    <Page title="Agents" section="agents" session={session} live="refresh" liveQuery="type=agent-status">
      <div class="scroll" data-part="agents">
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Active</th>
              <th>Systems</th>
              <th class="hide-narrow">Tags</th>
              <th class="num">Builds</th>
              <th class="num">Load</th>
              <th class="num hide-narrow">Free disk</th>
              <th class="hide-narrow">Last report</th>
            </tr>
          </thead>
          <tbody>
            {agents.map((a) => (
              <tr>
                <td>
                  <AgentLink uuid={a.uuid} name={a.name} />
                </td>
                <td>{a.active ? 'yes' : 'no'}</td>
                <td class="mono">{a.systems.join(' ')}</td>
                <td class="hide-narrow">
                  <Tags tags={a.tags} />
                </td>
                <td class="num">{a.status?.builds.length ?? '—'}</td>
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
    </Page>
  );
}

/** One agent's page. */
export function AgentPage({
  agent,
  recent,
  session,
}: {
  agent: AgentDetail;
  recent: readonly Build[];
  session: Session;
}) {
  return (
    <Page
      title={`Agent ${agent.name}`}
      section="agents"
      session={session}
      live="refresh"
      liveQuery={`agent=${agent.uuid}`}
    >
      <section class="card" data-part="agent">
        <dl class="facts">
          <dt>UUID</dt>
          <dd class="mono">{agent.uuid}</dd>
          <dt>Description</dt>
          <dd>{agent.description ?? <span class="muted">none</span>}</dd>
          <dt>Active</dt>
          <dd>{agent.active ? 'yes' : 'no'}</dd>
          <dt>Systems</dt>
          <dd class="mono">{agent.systems.join(' ') || '—'}</dd>
          <dt>Tags</dt>
          <dd>
            <Tags tags={agent.tags} />
          </dd>
          <dt>Created</dt>
          <dd>
            <Time at={agent.createdAt} />
          </dd>
          <dt>Last report</dt>
          <dd>
            {agent.status === null ? (
              <span class="muted">never</span>
            ) : (
              <>
                <Time at={agent.status.reportedAt} />: load {agent.status.load1.toFixed(2)}, free disk{' '}
                {formatBytes(agent.status.freeDiskBytes)}, {agent.status.builds.length} builds held
              </>
            )}
          </dd>
          <dt>Allocated</dt>
          <dd>
            {agent.allocatedBuilds.length === 0
              ? '—'
              : agent.allocatedBuilds.map((u) => (
                  <>
                    <BuildLink uuid={u} />{' '}
                  </>
                ))}
          </dd>
          <dt>Running</dt>
          <dd>
            {agent.startedBuilds.length === 0
              ? '—'
              : agent.startedBuilds.map((u) => (
                  <>
                    <BuildLink uuid={u} />{' '}
                  </>
                ))}
          </dd>
        </dl>
      </section>
      <section class="card" data-part="recent" aria-labelledby="recent-h">
        <h2 id="recent-h">Current builds</h2>
        {recent.length === 0 ? (
          <p class="muted">None.</p>
        ) : (
          <ul>
            {recent.map((b) => (
              <li>
                <BuildLink uuid={b.uuid}>{storeName(b.derivation)}</BuildLink> <StateBadge state={b.state} />{' '}
                <Time at={b.createdAt} />
              </li>
            ))}
          </ul>
        )}
      </section>
      <Finished attempts={agent.recentAttempts} />
    </Page>
  );
}

/** The agent's most recent finished attempts: which build, when, and how it ended. */
function Finished({ attempts }: { attempts: readonly AgentAttempt[] }) {
  return (
    <TableCard
      part="finished"
      title="Recently finished"
      headers={['Build', 'System', 'Started', 'Ended', 'Result']}
      empty="None."
    >
      {attempts.map((a) => (
        <tr>
          <td>
            <BuildLink uuid={a.build}>{storeName(a.derivation)}</BuildLink>
          </td>
          <td class="mono">{a.system}</td>
          <td>
            <Time at={a.startedAt} />
          </td>
          <td>
            <Time at={a.endedAt} />
          </td>
          <td>
            <AttemptOutcome result={a.result} failureReason={a.failureReason} endedAt={a.endedAt} />
          </td>
        </tr>
      ))}
    </TableCard>
  );
}
