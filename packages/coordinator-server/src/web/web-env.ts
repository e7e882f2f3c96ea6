// The Hono environment of the dashboard's routes: what the session
// middleware (web-auth.ts) puts on each request's context.
import type { ApiCaller } from './api-caller.js';
import type { Session } from './sessions.js';

/** Variables of a dashboard request. */
export interface WebEnv {
  Variables: {
    /** The browser's session (anonymous and read-write while client auth is off). */
    session: Session;
    /** The client API, called with the session's token. */
    api: ApiCaller;
  };
}

/** Where the dashboard lives on the client address. */
export const WEB_BASE = '/ui';
