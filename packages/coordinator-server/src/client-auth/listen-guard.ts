// The rule `listen` enforces for the client API: an unauthenticated client API
// listens on loopback only, unless the operator allowed it explicitly.
import { isIP } from 'node:net';
import type { CoordinatorContext } from '../context.js';
import { ClientAuthError } from './errors.js';

/** Whether `hostname` (from a URL, brackets allowed) is a loopback address or `localhost`. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/**
 * Throws ClientAuthError `unauthenticated-exposure` when the client API would
 * listen on `url` beyond loopback without authentication and without
 * `allowUnauthenticated`.
 */
export function checkClientExposure(url: string, authEnabled: boolean, allowUnauthenticated: boolean): void {
  if (authEnabled || allowUnauthenticated) return;
  const host = new URL(url).hostname;
  if (isLoopbackHost(host)) return;
  throw new ClientAuthError(
    'unauthenticated-exposure',
    `refusing to serve the client API on ${url}: it is not a loopback address and client auth is off, so anyone who can reach it could submit and cancel builds. ` +
      'Create a client token first (`gbc client-token new` on this host), or set `clientAuth: "required"`, ' +
      'or listen on 127.0.0.1, or allow it explicitly with `allowUnauthenticatedClients: true` (`--client-allow-unauthenticated`).',
  );
}

/** {@link checkClientExposure} for a coordinator: auth counts as on when required by the configuration or when any client token was ever created. */
export async function assertClientListenAllowed(
  ctx: Pick<CoordinatorContext, 'datastore' | 'config'>,
  url: string,
): Promise<void> {
  const { config } = ctx;
  if (config.clientAuth === 'required' || config.allowUnauthenticatedClients) return;
  const any = isLoopbackHost(new URL(url).hostname)
    ? undefined
    : await ctx.datastore.db.selectFrom('client_tokens').select('id').limit(1).executeTakeFirst();
  checkClientExposure(url, any !== undefined, false);
}
