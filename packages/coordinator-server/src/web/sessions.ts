// Dashboard sessions, held in this coordinator's memory: a login with a client
// token makes one, named by a random id that only ever travels in an HttpOnly,
// SameSite=Strict cookie (never in a URL). The session keeps the token's
// secret to call the client API on the user's behalf (so the API's own
// authentication and read/write scopes decide every request) and a CSRF token
// that every form of the session carries. Sessions end on logout, after
// `idleMs` without use, or when the coordinator restarts; their number is
// bounded (the oldest goes first), so logins cannot grow memory.
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** What a session may do: `read-write` shows the buttons that change state. */
export type SessionScope = 'read' | 'read-write';

/** One logged-in browser. */
export interface Session {
  readonly id: string;
  /** The client token's secret, sent as a bearer token to the client API; null while auth is off. */
  readonly secret: string | null;
  /** The token's name (shown in the header), or null while auth is off. */
  readonly tokenName: string | null;
  readonly scope: SessionScope;
  /** Every form's `_csrf` field must equal this. */
  readonly csrf: string;
  lastUsed: number;
}

/** The session store; see the file header. */
export interface SessionStore {
  create(fields: Pick<Session, 'secret' | 'tokenName' | 'scope'>, now: number): Session;
  /** The live session named `id` (its idle time restarts), or undefined. */
  get(id: string | undefined, now: number): Session | undefined;
  destroy(id: string): void;
  /** Ends every session that uses `secret` (the API refused it: revoked). */
  destroyBySecret(secret: string): void;
}

/** Default idle lifetime of a session: 12 hours. */
export const DEFAULT_SESSION_IDLE_MS = 12 * 3600_000;
/** Default bound on live sessions. */
export const DEFAULT_MAX_SESSIONS = 10_000;

/** A random identifier of 32 bytes, base64url. */
export function randomId(): string {
  return randomBytes(32).toString('base64url');
}

/** Compares two strings in time independent of where they differ. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Creates an empty store; sessions unused for `idleMs` are gone, at most `max` live at once. */
export function createSessionStore(
  idleMs = DEFAULT_SESSION_IDLE_MS,
  max = DEFAULT_MAX_SESSIONS,
): SessionStore {
  // A Map iterates in insertion order: the first entry is the oldest session.
  const sessions = new Map<string, Session>();
  return {
    create(fields, now) {
      while (sessions.size >= max) sessions.delete(sessions.keys().next().value!);
      const session: Session = { ...fields, id: randomId(), csrf: randomId(), lastUsed: now };
      sessions.set(session.id, session);
      return session;
    },
    get(id, now) {
      if (id === undefined) return undefined;
      const session = sessions.get(id);
      if (session === undefined) return undefined;
      if (now - session.lastUsed > idleMs) {
        sessions.delete(id);
        return undefined;
      }
      session.lastUsed = now;
      return session;
    },
    destroy(id) {
      sessions.delete(id);
    },
    destroyBySecret(secret) {
      for (const [id, s] of sessions) if (s.secret === secret) sessions.delete(id);
    },
  };
}
