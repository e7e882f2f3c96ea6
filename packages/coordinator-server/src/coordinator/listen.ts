// Serves a coordinator's apps over HTTP with @hono/node-server: the agent app
// (with the binary cache) on `agentUrl`, the client app on `clientUrl`, and,
// when asked, the binary cache alone on `cacheUrl` and `GET /metrics` alone on
// `metricsUrl` (the agent port then has no /metrics), and the read-only
// dashboard alone on `dashboardUrl`. Port 0 picks a free port;
// the bound ports are returned. Each listener has the timeouts of
// request-timeouts.ts: a long upload that keeps making progress is never cut.
// The agent and cache ports answer through the coordinator's fast paths
// (`coordinator.fronts`: fetch-builds, narinfos, NARs) before Hono.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { ServerType } from '@hono/node-server';
import type { FrontHandler } from '../http/front-handler.js';
import { assertClientListenAllowed } from '../client-auth/listen-guard.js';
import type { CacheProcesses } from '../cache/cache-processes.js';
import { createHttpServer, type Fetch } from './http-server.js';
import type { RequestTimeouts } from './request-timeouts.js';
import type { Coordinator } from './create-coordinator.js';

/** Where to listen: `http://HOST:PORT` (port 0 = any free port). */
export interface ListenOptions {
  readonly agentUrl?: string;
  readonly clientUrl?: string;
  /** The binary cache on a port of its own, besides the agent port. */
  readonly cacheUrl?: string;
  /** `GET /metrics` on a port of its own; only honoured when the coordinator was created with a `metricsUrl` (which decides that the agent port does not serve it). */
  readonly metricsUrl?: string;
  /** The read-only dashboard on an address of its own. */
  readonly dashboardUrl?: string;
  /** Headers and body-idle timeouts (defaults 60 s and 120 s); no bound on a whole request. */
  readonly timeouts?: RequestTimeouts;
  /** Processes answering on `cacheUrl`, this one included. Default: the configuration's `cacheProcesses`. */
  readonly cacheProcesses?: number;
}

/** The listening servers. */
export interface Listening {
  /** e.g. `http://127.0.0.1:41234` */
  readonly agentUrl: string;
  readonly clientUrl: string;
  readonly agentPort: number;
  readonly clientPort: number;
  /** Where the cache listens on its own port, when it does. */
  readonly cacheUrl?: string;
  readonly cachePort?: number;
  /** With `cacheProcesses` > 1: the process ids of the helpers serving the cache's port beside this one, now. */
  readonly cacheHelperPids?: () => number[];
  /** Where metrics listen on their own port, when they do. */
  readonly metricsUrl?: string;
  readonly metricsPort?: number;
  /** Where the read-only dashboard listens, when it does. */
  readonly dashboardUrl?: string;
  readonly dashboardPort?: number;
  /** Stops accepting connections and closes the open ones. */
  close(): Promise<void>;
}

/**
 * Starts the listeners; defaults come from the coordinator's configuration.
 * Refuses (ClientAuthError `unauthenticated-exposure`, before binding anything)
 * a client URL beyond loopback while client auth is off, unless
 * `allowUnauthenticatedClients` is set.
 */
export async function listen(coordinator: Coordinator, options: ListenOptions = {}): Promise<Listening> {
  const cfg = coordinator.context.config;
  await assertClientListenAllowed(coordinator.context, options.clientUrl ?? cfg.clientUrl);
  const servers: ServerType[] = [];
  let helpers: CacheProcesses | undefined;
  const open = async (fetch: Fetch, url: string, front?: FrontHandler) => {
    const served = await serveOn(fetch, url, options.timeouts, front);
    servers.push(served.server);
    return served;
  };
  try {
    const agent = await open(
      coordinator.agentApp.fetch,
      options.agentUrl ?? cfg.agentUrl,
      coordinator.fronts.agentPort,
    );
    const client = await open(coordinator.clientApp.fetch, options.clientUrl ?? cfg.clientUrl);
    const cacheUrl = options.cacheUrl ?? cfg.cacheUrl;
    const cache =
      cacheUrl === undefined
        ? undefined
        : await open(coordinator.cacheApp.fetch, cacheUrl, coordinator.fronts.cachePort);
    const cacheProcesses = options.cacheProcesses ?? cfg.cacheProcesses;
    if (cache !== undefined && cacheProcesses > 1)
      helpers = await coordinator.startCacheHelpers(cache.server, cacheProcesses - 1, options.timeouts);
    const metricsUrl = cfg.metricsUrl === undefined ? undefined : (options.metricsUrl ?? cfg.metricsUrl);
    const metrics =
      metricsUrl === undefined ? undefined : await open(coordinator.observed.metricsApp.fetch, metricsUrl);
    const dashboardUrl = options.dashboardUrl ?? cfg.dashboardUrl;
    const dashboard =
      dashboardUrl === undefined ? undefined : await open(coordinator.dashboardApp.fetch, dashboardUrl);
    // Other processes on the same PostgreSQL forward fetch-builds here while this one schedules.
    coordinator.advertise({ agentUrl: agent.url, clientUrl: client.url });
    return {
      agentUrl: agent.url,
      clientUrl: client.url,
      agentPort: agent.port,
      clientPort: client.port,
      ...(cache === undefined ? {} : { cacheUrl: cache.url, cachePort: cache.port }),
      ...(helpers === undefined ? {} : { cacheHelperPids: helpers.pids }),
      ...(metrics === undefined ? {} : { metricsUrl: metrics.url, metricsPort: metrics.port }),
      ...(dashboard === undefined ? {} : { dashboardUrl: dashboard.url, dashboardPort: dashboard.port }),
      close: async () => {
        await helpers?.stop();
        await Promise.all(servers.map(closeServer));
      },
    };
  } catch (error) {
    await helpers?.stop();
    await Promise.all(servers.map(closeServer));
    throw error;
  }
}

function serveOn(
  fetch: Fetch,
  url: string,
  timeouts: RequestTimeouts | undefined,
  front?: FrontHandler,
): Promise<{ server: ServerType; url: string; port: number }> {
  const u = new URL(url);
  const hostname = u.hostname.replace(/^\[|\]$/g, '');
  const port = u.port === '' ? 80 : Number(u.port);
  return new Promise((resolve, reject) => {
    const server = createHttpServer(fetch, timeouts, front);
    server.once('error', reject);
    server.listen(port, hostname, () => {
      const info = server.address() as AddressInfo;
      const host = hostname.includes(':') ? `[${hostname}]` : hostname;
      resolve({
        server,
        url: `${u.protocol}//${host === '0.0.0.0' ? '127.0.0.1' : host}:${info.port}`,
        port: info.port,
      });
    });
  });
}

function closeServer(server: ServerType): Promise<void> {
  return new Promise((resolve) => {
    (server as Server).closeAllConnections();
    server.close(() => resolve());
  });
}
