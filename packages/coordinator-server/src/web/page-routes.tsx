/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// The dashboard's pages: each reads what it shows from the client API (with
// the session's token) and, for what the API has no route for, from cheap
// indexed datastore reads, then renders it.
import type { Hono } from 'hono';
import type {
  AgentDetail,
  AgentList,
  AllocationPlan,
  BuildDetail,
  BuildList,
  HookStatus,
  WhyResponse,
} from '@gbc/protocol';
import type { CoordinatorContext } from '../context.js';
import { AgentPage, AgentsPage } from './agents-page.js';
import { ApiCallError } from './api-caller.js';
import { buildInputs } from './build-inputs.js';
import { BuildPage } from './build-page.js';
import { BuildsPage, listQuery } from './builds-page.js';
import type { FinishRate } from './finish-rate.js';
import { OverviewPage } from './overview-page.js';
import { heldBuilds, unfinishedBySystem } from './overview-queries.js';
import { HooksPage, PlanPage } from './plan-hooks-pages.js';
import type { WebEnv } from './web-env.js';

const query = (entries: [string, string][]) => new URLSearchParams(entries);

/** Mounts the pages on the dashboard's app. */
export function mountPageRoutes(web: Hono<WebEnv>, ctx: CoordinatorContext, finishRate: FinishRate): void {
  const db = ctx.datastore.db;

  web.get('/', async (c) => {
    const api = c.get('api');
    const [agents, hooks, failures, systems, running, rate] = await Promise.all([
      api.get<AgentList>('/agents'),
      api.get<HookStatus>('/hooks', query([['limit', '5']])),
      api.get<BuildList>(
        '/builds',
        query([
          ['state', 'failed'],
          ['limit', '10'],
        ]),
      ),
      unfinishedBySystem(db),
      heldBuilds(db),
      finishRate.series(),
    ]);
    const data = {
      systems,
      queue: ctx.scheduler.counts(),
      agents: agents.agents,
      running,
      rate,
      hooks,
      failures,
    };
    return c.html(<OverviewPage data={data} session={c.get('session')} />);
  });

  web.get('/builds', async (c) => {
    const q = listQuery(new URL(c.req.url));
    let result: BuildList | { error: string };
    try {
      result = await c.get('api').get<BuildList>('/builds', q);
    } catch (error) {
      // A filter the API refuses is shown beside the form, to be corrected there.
      if (!(error instanceof ApiCallError) || error.status !== 400) throw error;
      result = { error: error.message };
    }
    return c.html(
      <BuildsPage session={c.get('session')} query={q} result={result} />,
      'error' in result ? 400 : 200,
    );
  });

  web.get('/build/:uuid', async (c) => {
    const api = c.get('api');
    const path = `/build/${encodeURIComponent(c.req.param('uuid'))}`;
    const [build, why, agents] = await Promise.all([
      api.get<BuildDetail>(path),
      api.get<WhyResponse>(`${path}/why`),
      api.get<AgentList>('/agents'),
    ]);
    const inputs = await buildInputs(db, build.derivation);
    const agentNames = new Map(agents.agents.map((a) => [a.uuid, a.name]));
    const data = { build, why, inputs, agentNames, cacheBase: cacheBase(ctx, new URL(c.req.url)) };
    return c.html(<BuildPage data={data} session={c.get('session')} />);
  });

  web.get('/agents', async (c) => {
    const { agents } = await c.get('api').get<AgentList>('/agents');
    return c.html(<AgentsPage agents={agents} session={c.get('session')} />);
  });

  web.get('/agent/:uuid', async (c) => {
    const api = c.get('api');
    const uuid = c.req.param('uuid');
    const agent = await api.get<AgentDetail>(`/agent/${encodeURIComponent(uuid)}`);
    const current = await api.get<BuildList>(
      '/builds',
      query([
        ['agent', agent.uuid],
        ['limit', '100'],
      ]),
    );
    return c.html(<AgentPage agent={agent} recent={current.builds} session={c.get('session')} />);
  });

  web.get('/allocation-plan', async (c) => {
    const api = c.get('api');
    const [plan, agents] = await Promise.all([
      api.get<AllocationPlan>('/allocation-plan', query([['limit', '20']])),
      api.get<AgentList>('/agents'),
    ]);
    return c.html(<PlanPage plan={plan} agents={agents.agents} session={c.get('session')} />);
  });

  web.get('/hooks', async (c) => {
    const hooks = await c.get('api').get<HookStatus>('/hooks', query([['limit', '100']]));
    return c.html(<HooksPage hooks={hooks} session={c.get('session')} />);
  });
}

/**
 * Where the browser finds the binary cache: the configured cache address,
 * else the agent address; a wildcard host becomes the host the browser used
 * for this page. Null when the port is not known here (port 0).
 */
function cacheBase(ctx: CoordinatorContext, page: URL): string | null {
  let url: URL;
  try {
    url = new URL(ctx.config.cacheUrl ?? ctx.config.agentUrl);
  } catch {
    return null;
  }
  if (url.port === '0') return null;
  if (['0.0.0.0', '[::]', '::'].includes(url.hostname)) url.hostname = page.hostname;
  return url.origin;
}
