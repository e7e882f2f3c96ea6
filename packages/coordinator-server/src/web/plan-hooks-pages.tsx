/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// The allocation plan (`GET /allocation-plan`, what `gbc allocation-plan`
// shows) and the hooks' queue and failures (`GET /hooks`, `gbc hooks`).
import type { Agent, AllocationPlan, HookStatus } from '@gbc/protocol';
import { Page } from './layout.js';
import { AgentLink, BuildLink, Time } from './parts.js';
import type { Session } from './sessions.js';

/** The allocation plan page. */
export function PlanPage({
  plan,
  agents,
  session,
}: {
  plan: AllocationPlan;
  agents: readonly Agent[];
  session: Session;
}) {
  const names = new Map(agents.map((a) => [a.uuid, a.name]));
  return (
    <Page title="Allocation plan" section="plan" session={session} live="refresh">
      <div data-part="plan">
        <p>
          Strategy <code>{plan.strategy}</code>, computed at <Time at={plan.generatedAt} />.{' '}
          {plan.unallocatable} ready build{plan.unallocatable === 1 ? '' : 's'} no active agent can take.
        </p>
        {plan.agents.length === 0 ? (
          <p class="muted">No active agents.</p>
        ) : (
          <div class="grid">
            {plan.agents.map((a) => (
              <section class="card">
                <h2>
                  <AgentLink uuid={a.agent} name={names.get(a.agent)} />
                </h2>
                {a.builds.length === 0 ? (
                  <p class="muted">Nothing to take.</p>
                ) : (
                  <ol>
                    {a.builds.map((b) => (
                      <li>
                        <BuildLink uuid={b} />
                      </li>
                    ))}
                  </ol>
                )}
              </section>
            ))}
          </div>
        )}
      </div>
    </Page>
  );
}

/** The hooks page. */
export function HooksPage({ hooks, session }: { hooks: HookStatus; session: Session }) {
  return (
    <Page title="Hooks" section="hooks" session={session} live="refresh">
      <div data-part="hooks">
        <h2>Queue</h2>
        {hooks.queue.length === 0 ? (
          <p class="muted">No hook events pending.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Event</th>
                <th class="num">Pending</th>
              </tr>
            </thead>
            <tbody>
              {hooks.queue.map((q) => (
                <tr>
                  <td class="mono">{q.eventType}</td>
                  <td class="num">{q.pending}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <h2>Failing events</h2>
        {hooks.failing.length === 0 ? (
          <p class="muted">None: every hook run so far succeeded or is still to come.</p>
        ) : (
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th>Event</th>
                  <th>Build</th>
                  <th class="num">Attempts</th>
                  <th>Last error</th>
                  <th>Next attempt</th>
                </tr>
              </thead>
              <tbody>
                {hooks.failing.map((f) => (
                  <tr>
                    <td class="mono">
                      {f.eventType} #{f.id}
                    </td>
                    <td>{f.build === null ? '—' : <BuildLink uuid={f.build} />}</td>
                    <td class="num">{f.attempts}</td>
                    <td class="mono path">{f.lastError}</td>
                    <td>
                      <Time at={f.nextAttemptAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </Page>
  );
}
