// Agent authentication: HTTP Basic `agent-uuid:password` on every agent route
// but the session exchange. Successful checks are cached for `cacheMs`
// (scrypt costs tens of ms; agents call several times a second), keyed by the
// agent and a SHA-256 of the password. An `agent-credentials-revoked` or
// `agent-deactivated` event on the bus drops the agent's cached entries at
// once, so a revoked password (or a deactivated agent) is refused from the
// next call on, not when its entry ages out. Wrong passwords are limited per
// agent (login-limiter.ts): a flood of them is refused without any check,
// while credentials that worked before are still checked.
import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { verifyAgentPassword } from '@gbc/datastore';
import { uuidSchema } from '@gbc/protocol';
import type { CoordinatorContext } from '../context.js';
import { HttpError } from '../http/http-error.js';
import { createLoginLimiter, type LoginLimiterOptions } from './login-limiter.js';

/** Hono variables set by the agent authentication. */
export interface AgentVariables {
  /** The authenticated agent's UUID. */
  agentId: string;
}

/** Hono environment of the agent app. */
export interface AgentEnv {
  Variables: AgentVariables;
}

/** Options of {@link createAgentAuthenticator}. */
export interface AgentAuthOptions {
  /** How long a verified password is trusted without checking the datastore again, in ms. Default 30000. */
  readonly cacheMs?: number;
  /** Limits on wrong passwords per agent. */
  readonly limits?: LoginLimiterOptions;
}

/** Checks agent credentials; shared by the Hono middleware and the fetch-builds fast path. */
export interface AgentAuthenticator {
  /** The agent UUID (as first seen) that `header` authenticates; throws HttpError 401/429 otherwise. */
  authenticate(header: string | undefined): Promise<string>;
}

/** The Basic-auth middleware of the agent API over `authenticator`. */
export function agentAuthMiddleware(authenticator: AgentAuthenticator): MiddlewareHandler<AgentEnv> {
  return async (c, next) => {
    c.set('agentId', await authenticator.authenticate(c.req.header('authorization')));
    await next();
  };
}

/** The credential check of the agent API, with its cache and its limits; see the file header. */
export function createAgentAuthenticator(
  ctx: CoordinatorContext,
  options: AgentAuthOptions = {},
): AgentAuthenticator {
  const cacheMs = options.cacheMs ?? 30_000;
  // Verified credentials → until when, and the agent's UUID as first seen (one
  // string shared by every later call, rather than a fresh one per request).
  const verified = new Map<string, { until: number; agentId: string }>();
  const limiter = createLoginLimiter(options.limits);
  // Counts revocations, so that a check in flight when one happens is not cached.
  let revocations = 0;
  // Lives as long as the app, like the bus: the coordinator builds one agent app.
  ctx.events.subscribe(null, (e) => {
    if ((e.type === 'agent-credentials-revoked' || e.type === 'agent-deactivated') && e.agent !== undefined)
      forget(e.agent);
  });
  const forget = (agentId: string): void => {
    revocations += 1;
    const prefix = `${agentId.toLowerCase()}:`;
    for (const key of verified.keys()) if (key.startsWith(prefix)) verified.delete(key);
    limiter.forget(agentId.toLowerCase());
  };
  const check = async (user: string, password: string, key: string, now: number) => {
    const agent = user.toLowerCase();
    const blockedUntil = limiter.knownGood(key) ? 0 : limiter.blockedUntil(agent, now);
    if (blockedUntil > 0) {
      throw new HttpError(
        'too-many-requests',
        `too many wrong passwords for agent ${user}: new credentials are refused for ${Math.ceil((blockedUntil - now) / 1000)} s`,
        {
          details: { retryAfterSeconds: Math.ceil((blockedUntil - now) / 1000) },
        },
      );
    }
    const seen = revocations;
    if (!(await verifyAgentPassword(ctx.datastore.db, user, password))) {
      verified.delete(key);
      limiter.failed(agent, now);
      throw new HttpError('unauthorized', 'wrong agent credentials, or the agent is not active');
    }
    limiter.succeeded(key);
    if (verified.size > 100_000) verified.clear();
    const entry = { until: now + cacheMs, agentId: verified.get(key)?.agentId ?? user };
    if (seen === revocations) verified.set(key, entry);
    return entry.agentId;
  };
  return {
    async authenticate(header) {
      const credentials = header === undefined ? undefined : parseBasic(header);
      if (credentials === undefined)
        throw new HttpError(
          'unauthorized',
          'agent credentials required: HTTP Basic with agent-uuid:password',
        );
      const { user, password } = credentials;
      const key = `${user.toLowerCase()}:${createHash('sha256').update(password).digest('base64')}`;
      const now = ctx.clock.now();
      const entry = verified.get(key);
      // Only a user name that passed the UUID check below is ever cached (a case variant of it is one too).
      if (entry !== undefined && entry.until >= now) return entry.agentId;
      if (!uuidSchema.safeParse(user).success)
        throw new HttpError('unauthorized', 'wrong agent credentials: the user name must be the agent UUID');
      return check(user, password, key, now);
    },
  };
}

/** Refuses (403) a `/agent/{uuid}/…` call made with another agent's credentials. */
export function ensureSelf(agentId: string, pathAgent: string): void {
  if (agentId.toLowerCase() !== pathAgent.toLowerCase())
    throw new HttpError('forbidden', `agent ${agentId} may not act as agent ${pathAgent}`);
}

function parseBasic(header: string): { user: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (m === null) return undefined;
  const text = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}
