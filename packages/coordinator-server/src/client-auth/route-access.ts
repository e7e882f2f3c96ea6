// What access a client-port request needs, from @gbc/protocol's route table
// (the single source of truth): `none`, `client-read` or `client-write`.
// A request that matches no route needs `client-read`, so that an
// unauthenticated caller learns nothing, not even which paths exist.
import { routesForPort } from '@gbc/protocol';
import type { Auth } from '@gbc/protocol';

/** The access a client request needs. */
export type ClientAccess = Extract<Auth, 'none' | 'client-read' | 'client-write'>;

interface Compiled {
  readonly method: string;
  readonly pattern: RegExp;
  readonly auth: ClientAccess;
}

let table: readonly Compiled[] | undefined;

function compile(): readonly Compiled[] {
  return routesForPort('client').map((r) => ({
    method: r.method,
    pattern: new RegExp(
      `^${r.path
        .split(/\{[A-Za-z][A-Za-z0-9]*\}/)
        .map(escape)
        .join('[^/]+')}/?$`,
    ),
    auth: r.auth as ClientAccess,
  }));
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The access `method path` needs on the client port (HEAD counts as GET); see the file header. */
export function requiredAccess(method: string, path: string): ClientAccess {
  table ??= compile();
  const m = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  for (const r of table) if (r.method === m && r.pattern.test(path)) return r.auth;
  return 'client-read';
}
