// The whole route table: every route of every port, by id and as a list.
import { adminRoutes } from './admin-routes.js';
import { agentAdminRoutes } from './agent-admin-routes.js';
import { agentRoutes } from './agent-routes.js';
import { buildRoutes } from './build-routes.js';
import { cacheRoutes } from './cache-routes.js';
import type { Port, RouteDef } from './route.js';

export * from './route.js';
export { adminRoutes, agentAdminRoutes, agentRoutes, buildRoutes, cacheRoutes };

/** Every route by id. The server mounts these; the clients call them. */
export const routes = {
  ...buildRoutes,
  ...agentAdminRoutes,
  ...adminRoutes,
  ...agentRoutes,
  ...cacheRoutes,
} as const;

/** A route id. */
export type RouteId = keyof typeof routes;

/** Every route, in table order. */
export const routeList: readonly RouteDef[] = Object.values(routes);

/** The routes one listener serves. */
export function routesForPort(port: Port): RouteDef[] {
  return routeList.filter((r) => r.port === port);
}
