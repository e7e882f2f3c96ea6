/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// The builds list: the filters of `gbc builds list` as a GET form (so every
// view is a URL to share), the page the client API's `GET /builds` answers
// for them, and keyset paging through its cursor.
import type { Build, BuildList } from '@gbc/protocol';
import { Page } from './layout.js';
import { AgentLink, BuildLink, ErrorNote, StateBadge, storeName, Tags, Time } from './parts.js';
import type { Session } from './sessions.js';
import { WEB_BASE } from './web-env.js';

const STATES = ['queued', 'allocated', 'started', 'succeeded', 'failed', 'canceled'] as const;
/** The query parameters `GET /builds` takes; only these pass from the page's URL to the API. */
export const LIST_PARAMS = [
  'state',
  'system',
  'derivation',
  'agent',
  'tag',
  'createdAfter',
  'createdBefore',
  'priorityMin',
  'priorityMax',
  'blocked',
  'limit',
  'cursor',
] as const;

/** The API query for a page URL's query: known parameters with a value, nothing else. */
export function listQuery(url: URL): URLSearchParams {
  const out = new URLSearchParams();
  for (const name of LIST_PARAMS)
    for (const v of url.searchParams.getAll(name)) if (v.trim() !== '') out.append(name, v.trim());
  return out;
}

/** Properties of {@link BuildsPage}. */
export interface BuildsPageProps {
  readonly session: Session;
  readonly query: URLSearchParams;
  /** The page, or the API's refusal of the filters. */
  readonly result: BuildList | { readonly error: string };
}

/** The builds list page. */
export function BuildsPage({ session, query, result }: BuildsPageProps) {
  const live = !query.has('cursor');
  return (
    <Page title="Builds" section="builds" session={session} live={live ? 'refresh' : undefined}>
      <Filters query={query} />
      {'error' in result ? <ErrorNote message={result.error} /> : <Results list={result} query={query} />}
    </Page>
  );
}

function Filters({ query }: { query: URLSearchParams }) {
  const states = query.getAll('state');
  const text = (name: string, label: string, placeholder = '') => (
    <label>
      {label}
      <input name={name} value={query.get(name) ?? ''} placeholder={placeholder} />
    </label>
  );
  return (
    <form class="filters" method="get" action={`${WEB_BASE}/builds`} role="search" aria-label="Filter builds">
      <fieldset>
        <legend class="muted">State</legend>
        {STATES.map((s) => (
          <label>
            <input type="checkbox" name="state" value={s} checked={states.includes(s)} />
            {s}
          </label>
        ))}
      </fieldset>
      {text('system', 'System', 'x86_64-linux')}
      {text('tag', 'Tag', 'key=value')}
      {text('derivation', 'Derivation', '/gnu/store/…drv')}
      {text('agent', 'Agent UUID')}
      {text('createdAfter', 'Created after', '2026-12-01T00:00:00Z')}
      {text('createdBefore', 'Created before', '2026-12-31T00:00:00Z')}
      {text('priorityMin', 'Priority at least', '0')}
      {text('priorityMax', 'Priority at most')}
      <label>
        Blocked by a failure
        <select name="blocked">
          <option value="">either</option>
          <option value="true" selected={query.get('blocked') === 'true'}>
            blocked
          </option>
          <option value="false" selected={query.get('blocked') === 'false'}>
            not blocked
          </option>
        </select>
      </label>
      <label>
        Per page
        <input
          name="limit"
          type="number"
          min="1"
          max="1000"
          value={query.get('limit') ?? ''}
          placeholder="100"
        />
      </label>
      <button type="submit">Filter</button>
    </form>
  );
}

function Results({ list, query }: { list: BuildList; query: URLSearchParams }) {
  const next = new URLSearchParams(query);
  if (list.nextCursor !== null) next.set('cursor', list.nextCursor);
  const first = new URLSearchParams(query);
  first.delete('cursor');
  return (
    <div data-part="builds">
      {list.builds.length === 0 ? (
        <p class="muted">No builds match.</p>
      ) : (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th>Build</th>
                <th>Derivation</th>
                <th>State</th>
                <th class="hide-narrow">System</th>
                <th class="num hide-narrow">Priority</th>
                <th class="hide-narrow">Tags</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {list.builds.map((b) => (
                <Row build={b} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Pages">
        {query.has('cursor') ? <a href={`${WEB_BASE}/builds?${first.toString()}`}>First page</a> : null}
        {list.nextCursor === null ? null : (
          <a rel="next" href={`${WEB_BASE}/builds?${next.toString()}`}>
            Next page
          </a>
        )}
      </nav>
    </div>
  );
}

function Row({ build }: { build: Build }) {
  return (
    <tr>
      <td>
        <BuildLink uuid={build.uuid} />
      </td>
      <td class="path">{storeName(build.derivation)}</td>
      <td>
        <StateBadge state={build.state} />
        {build.agent === null ? null : (
          <>
            {' on '}
            <AgentLink uuid={build.agent} />
          </>
        )}
      </td>
      <td class="mono hide-narrow">{build.system}</td>
      <td class="num hide-narrow">{build.priority}</td>
      <td class="hide-narrow">
        <Tags tags={build.tags} />
      </td>
      <td>
        <Time at={build.createdAt} />
      </td>
    </tr>
  );
}
