/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// One build: its derivation, state and why, tags and priority (with cancel
// and change-priority forms for read-write sessions), inputs and their
// builds, outputs with their narinfo, attempts, and the log, which the
// script follows live while the build runs.
import type { Attempt, BuildDetail, WhyReason, WhyResponse } from '@gbc/protocol';
import type { BuildInput } from './build-inputs.js';
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
import { WEB_BASE } from './web-env.js';

/** What a build's page shows. */
export interface BuildPageData {
  readonly build: BuildDetail;
  readonly why: WhyResponse;
  readonly inputs: readonly BuildInput[];
  /** Agent names by UUID, for the links to agents. */
  readonly agentNames: ReadonlyMap<string, string>;
  /** Base URL of the binary cache for narinfo links, or null when unknown. */
  readonly cacheBase: string | null;
  /** A message after an action (e.g. "canceled"), or an action's refusal. */
  readonly notice?: string | undefined;
}

const UNFINISHED = ['queued', 'allocated', 'started'];

/** The build page. */
export function BuildPage({ data, session }: { data: BuildPageData; session: Session }) {
  const b = data.build;
  const base = `${WEB_BASE}/build/${encodeURIComponent(b.uuid)}`;
  return (
    <Page title={storeName(b.derivation)} section="builds" session={session} live="build">
      <div data-build={b.uuid} data-state={b.state}>
        {data.notice === undefined ? null : (
          <p class="error" role="status">
            {data.notice}
          </p>
        )}
        <section class="card" data-part="summary" aria-label="Summary">
          <dl class="facts">
            <dt>State</dt>
            <dd data-field="state">
              <StateBadge state={b.state} />
              {b.agent === null ? null : (
                <>
                  {' on '}
                  <AgentLink uuid={b.agent} name={data.agentNames.get(b.agent)} />
                </>
              )}
            </dd>
            <dt>Build</dt>
            <dd class="mono">{b.uuid}</dd>
            <dt>Derivation</dt>
            <dd class="mono">{b.derivation}</dd>
            <dt>System</dt>
            <dd class="mono">{b.system}</dd>
            <dt>Priority</dt>
            <dd data-field="priority">{b.priority}</dd>
            <dt>Tags</dt>
            <dd>
              <Tags tags={b.tags} />
            </dd>
            <dt>Created</dt>
            <dd>
              <Time at={b.createdAt} />
            </dd>
            <dt>Ended</dt>
            <dd>
              <Time at={b.endedAt} />
            </dd>
          </dl>
          {session.scope === 'read-write' && UNFINISHED.includes(b.state) ? (
            <Actions build={b} base={base} csrf={session.csrf} />
          ) : null}
        </section>
        <section class="card" data-part="why" aria-labelledby="why-h">
          <h2 id="why-h">Why is it {b.state}?</h2>
          <ul>
            {data.why.reasons.map((r) => (
              <li>
                <Reason reason={r} names={data.agentNames} />
              </li>
            ))}
          </ul>
        </section>
        <section aria-labelledby="log-h">
          <h2 id="log-h">Log</h2>
          <p>
            <a href={`${base}/log`}>Raw log</a> <span class="muted">(the latest attempt)</span>
          </p>
          <pre id="log" class="log" data-log-url={`${base}/log?follow=true`} tabindex={0} aria-live="off">
            {b.attempts.some((a) => a.hasLog) ? 'Loading the log…' : 'No log yet.'}
          </pre>
        </section>
        <Attempts attempts={b.attempts} base={base} names={data.agentNames} />
        <Outputs build={b} cacheBase={data.cacheBase} />
        <Inputs inputs={data.inputs} />
      </div>
    </Page>
  );
}

function Actions({ build, base, csrf }: { build: BuildDetail; base: string; csrf: string }) {
  return (
    <div class="actions">
      <form method="post" action={`${base}/cancel`} data-confirm={`Cancel build ${build.uuid}?`}>
        <input type="hidden" name="_csrf" value={csrf} />
        <button type="submit" class="danger">
          Cancel build
        </button>
      </form>
      <form method="post" action={`${base}/priority`}>
        <input type="hidden" name="_csrf" value={csrf} />
        <label>
          Priority
          <input name="priority" type="number" step="1" value={String(build.priority)} required />
        </label>
        <button type="submit">Change priority</button>
      </form>
    </div>
  );
}

function Reason({ reason, names }: { reason: WhyReason; names: ReadonlyMap<string, string> }) {
  switch (reason.kind) {
    case 'finished':
      return (
        <>
          It finished: {reason.state} at <Time at={reason.endedAt} />.
        </>
      );
    case 'started':
      return (
        <>
          It runs on <AgentLink uuid={reason.agent} name={names.get(reason.agent)} /> since{' '}
          <Time at={reason.startedAt} />.
        </>
      );
    case 'allocated':
      return (
        <>
          Allocated to <AgentLink uuid={reason.agent} name={names.get(reason.agent)} />, not started yet; the
          lease ends at <Time at={reason.leaseExpiresAt} />.
        </>
      );
    case 'deferred':
      return (
        <>
          Deferred until <Time at={reason.until} />.
        </>
      );
    case 'inputs-pending':
    case 'inputs-failed':
      return (
        <>
          {reason.kind === 'inputs-pending' ? 'Waiting for inputs being built:' : 'Blocked by failed inputs:'}
          <ul>
            {reason.inputs.map((i) => (
              <li>
                {i.build === null ? (
                  <span class="path">{storeName(i.derivation)}</span>
                ) : (
                  <BuildLink uuid={i.build}>{storeName(i.derivation)}</BuildLink>
                )}{' '}
                {i.state === null ? null : <StateBadge state={i.state} />}
              </li>
            ))}
          </ul>
        </>
      );
    case 'inputs-unavailable':
      return (
        <>
          Inputs nobody builds and no cache holds:
          <ul>
            {reason.paths.map((p) => (
              <li class="mono path">{p}</li>
            ))}
          </ul>
        </>
      );
    case 'no-matching-agent':
      return (
        <>
          No active agent builds <span class="mono">{reason.system}</span>
          {reason.tags.length === 0 ? null : (
            <>
              {' '}
              with tags <Tags tags={reason.tags} />
            </>
          )}
          .
        </>
      );
    case 'queued':
      return <>Ready, waiting for a free agent: {reason.position} ready builds of its system are ahead.</>;
  }
}

function Attempts({
  attempts,
  base,
  names,
}: {
  attempts: readonly Attempt[];
  base: string;
  names: ReadonlyMap<string, string>;
}) {
  return (
    <TableCard
      part="attempts"
      title="Attempts"
      headers={['Agent', 'Allocated', 'Started', 'Ended', 'Result', 'Log']}
      empty="None yet."
    >
      {attempts.map((a) => (
        <tr>
          <td>
            <AgentLink uuid={a.agent} name={names.get(a.agent)} />
          </td>
          <td>
            <Time at={a.allocatedAt} />
          </td>
          <td>
            <Time at={a.startedAt} />
          </td>
          <td>
            <Time at={a.endedAt} />
          </td>
          <td>
            <AttemptOutcome result={a.result} failureReason={a.failureReason} endedAt={a.endedAt} />
            {a.missingInputs.map((p) => (
              <div class="mono path">missing {p}</div>
            ))}
          </td>
          <td>{a.hasLog ? <a href={`${base}/log?attempt=${encodeURIComponent(a.uuid)}`}>log</a> : '—'}</td>
        </tr>
      ))}
    </TableCard>
  );
}

function Outputs({ build, cacheBase }: { build: BuildDetail; cacheBase: string | null }) {
  return (
    <section class="card" data-part="outputs" aria-labelledby="outputs-h">
      <h2 id="outputs-h">Outputs</h2>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Store path</th>
              <th class="num">NAR size</th>
              <th>Narinfo</th>
            </tr>
          </thead>
          <tbody>
            {build.outputs.map((o) => {
              const hash = o.path.slice(o.path.lastIndexOf('/') + 1, o.path.lastIndexOf('/') + 33);
              return (
                <tr>
                  <td>{o.name}</td>
                  <td class="mono path">{o.path}</td>
                  <td class="num">{formatBytes(o.narSize)}</td>
                  <td>
                    {o.narHash === null ? (
                      <span class="muted">not uploaded</span>
                    ) : cacheBase === null ? (
                      <span class="mono">{hash}.narinfo</span>
                    ) : (
                      <a href={`${cacheBase}/${hash}.narinfo`}>{hash.slice(0, 8)}….narinfo</a>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Inputs({ inputs }: { inputs: readonly BuildInput[] }) {
  return (
    <section class="card" aria-labelledby="inputs-h">
      <h2 id="inputs-h">Inputs</h2>
      {inputs.length === 0 ? (
        <p class="muted">No input derivations.</p>
      ) : (
        <ul>
          {inputs.map((i) => (
            <li>
              <span class="path">{storeName(i.derivation)}</span>{' '}
              <span class="muted">({i.outputs.join(', ')})</span>{' '}
              {i.build === null ? (
                <span class="muted">no build</span>
              ) : (
                <>
                  <BuildLink uuid={i.build.uuid} /> <StateBadge state={i.build.state} />
                </>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
