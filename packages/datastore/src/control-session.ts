// A dedicated PostgreSQL session for coordinator processes that share one
// database. It holds the scheduler's advisory lock — a session lock, so it ends
// with the session: a process that dies, or whose connection breaks, loses it
// at once and another can take it — and it LISTENs for the other processes'
// notifications. It is not taken from the pool: a pooled connection serves
// other queries, and its session state (the lock, the LISTEN) would go with it.
import pg from 'pg';
import { DatastoreUriError } from './errors.js';
import { parseDatastoreUri, redactUri } from './uri.js';

/** The advisory lock of the scheduler: `pg_locks` shows it as classid 0x67626300 ('gbc\0'), objid 1, objsubid 2. */
export const SCHEDULER_LOCK = { classid: 0x67626300, objid: 1 } as const;

/** Options of {@link openControlSession}. */
export interface ControlSessionOptions {
  /** Shown in `pg_stat_activity.application_name` (at most 63 bytes kept), so an operator sees which process holds the lock. */
  readonly applicationName: string;
  /** How long to wait for the connection, in ms. Default 10000. */
  readonly connectTimeoutMs?: number;
  /** Directory for relative URIs (only checked: a control session is PostgreSQL only). */
  readonly cwd?: string;
}

/** Why a session ended: the server went away, a ping timed out, or `close()`. */
export type ControlSessionEnd = { readonly reason: 'lost' | 'closed'; readonly error?: Error };

/** An open control session; see the file header. */
export interface ControlSession {
  /** Tries to take the scheduler lock without waiting; true once this session holds it (again true if it already does). */
  tryLockScheduler(): Promise<boolean>;
  /** LISTENs on `channel`; notifications go to `onNotification`. */
  listen(channel: string): Promise<void>;
  /** Receives each notification of a listened channel, in the order the server sends them. */
  onNotification(listener: (channel: string, payload: string) => void): void;
  /** Called once when the session ends (lost or closed). */
  onEnd(listener: (end: ControlSessionEnd) => void): void;
  /** A round trip; ends the session as lost when no answer comes within `timeoutMs`. */
  ping(timeoutMs: number): Promise<void>;
  /** Whether the session has ended. */
  readonly ended: boolean;
  /** Ends the session (releasing the lock and the LISTENs with it). Idempotent. */
  close(): Promise<void>;
}

/** Opens a control session on the PostgreSQL database named by `uri`. */
export async function openControlSession(
  uri: string,
  options: ControlSessionOptions,
): Promise<ControlSession> {
  const target = parseDatastoreUri(uri, options.cwd);
  if (target.dialect !== 'postgres')
    throw new DatastoreUriError(
      'uri-scheme',
      'a control session needs PostgreSQL: several coordinator processes share only a PostgreSQL database',
    );
  const client = new pg.Client({
    connectionString: target.connectionString,
    application_name: options.applicationName.slice(0, 63),
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    // The server's end of a dead link is found by the kernel's probes, not by a query that never comes.
    keepAlive: true,
    keepAliveInitialDelayMillis: 5_000,
  });
  try {
    await client.connect();
  } catch (cause) {
    client.end().catch(() => undefined);
    throw new DatastoreUriError(
      'unreachable',
      `cannot open a control session on ${JSON.stringify(redactUri(uri))}: ${redactUri(String(cause))}`,
      { cause },
    );
  }
  return wrapClient(client);
}

function wrapClient(client: pg.Client): ControlSession {
  const endListeners: ((end: ControlSessionEnd) => void)[] = [];
  const notificationListeners: ((channel: string, payload: string) => void)[] = [];
  let ended: ControlSessionEnd | undefined;

  const end = (e: ControlSessionEnd): void => {
    if (ended !== undefined) return;
    ended = e;
    // A lost session's socket may be half-open: destroy it rather than wait for a goodbye.
    if (e.reason === 'lost') socketOf(client)?.destroy();
    for (const l of endListeners) l(e);
  };
  client.on('error', (error) => end({ reason: 'lost', error }));
  client.on('end', () => end({ reason: 'lost', error: new Error('the server closed the control session') }));
  client.on('notification', (n) => {
    for (const l of notificationListeners) l(n.channel, n.payload ?? '');
  });

  return {
    async tryLockScheduler() {
      const r = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1, $2) as locked', [
        SCHEDULER_LOCK.classid,
        SCHEDULER_LOCK.objid,
      ]);
      return r.rows[0]?.locked === true;
    },
    async listen(channel) {
      await client.query(`listen ${client.escapeIdentifier(channel)}`);
    },
    onNotification: (l) => void notificationListeners.push(l),
    onEnd(l) {
      if (ended !== undefined) l(ended);
      else endListeners.push(l);
    },
    async ping(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the control session did not answer within ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      try {
        await Promise.race([client.query('select 1'), timedOut]);
      } catch (error) {
        end({ reason: 'lost', error: error as Error });
        throw error;
      } finally {
        clearTimeout(timer);
      }
    },
    get ended() {
      return ended !== undefined;
    },
    async close() {
      if (ended !== undefined) return;
      end({ reason: 'closed' });
      await client.end().catch(() => undefined);
    },
  };
}

/** The client's socket (pg keeps it on `connection.stream`), to cut a session that stopped answering. */
function socketOf(client: pg.Client): { destroy(): void } | undefined {
  return (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
}
