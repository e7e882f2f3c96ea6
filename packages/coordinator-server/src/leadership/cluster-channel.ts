// The messages coordinator processes on one PostgreSQL send each other, over
// one NOTIFY channel: live events (so every process's event stream shows every
// event), the scheduler's notifications (a follower changed the database; the
// scheduler must update its in-memory queue), outputs that retention removed
// (every process's narinfo cache forgets them), and who the scheduler is (its
// URLs, for forwarding fetch-builds). Items sent in one turn of the event loop
// go out together, packed into as few payloads as fit PostgreSQL's 8000-byte
// limit, one statement at a time, so one process's items arrive in order.
import { MAX_NOTIFY_PAYLOAD_BYTES, notifyChannel } from '@gbc/datastore';
import type { Db } from '@gbc/datastore';
import type { EventInput } from '../events/event-bus.js';
import type { Logger } from '../logger.js';

/** The NOTIFY channel of every coordinator process on a database. */
export const CLUSTER_CHANNEL = 'gbc_cluster';

/** A change the scheduler must apply to its in-memory queue; see scheduler-api.ts. */
export type SchedulerCall =
  | { readonly op: 'refresh'; readonly ids: readonly string[] }
  | { readonly op: 'cancel'; readonly ids: readonly string[] }
  | { readonly op: 'available'; readonly paths: readonly string[] }
  /** A derivation's build failed: its dependents are blocked. */
  | { readonly op: 'failed'; readonly derivation: string }
  | { readonly op: 'agent'; readonly id: string };

/** Where the scheduler listens, as it announces itself. */
export interface LeaderAnnouncement {
  readonly process: string;
  readonly agentUrl?: string;
  readonly clientUrl?: string;
}

/** One item of a payload. */
export type ClusterItem =
  | { readonly t: 'event'; readonly event: EventInput }
  | { readonly t: 'call'; readonly call: SchedulerCall }
  /** Outputs removed from the datastore (full store paths, at most {@link IDS_PER_CALL}). */
  | { readonly t: 'removed'; readonly paths: readonly string[] }
  | { readonly t: 'leader'; readonly leader: LeaderAnnouncement }
  | { readonly t: 'who' };

/** A payload: the sending process and its items. */
interface ClusterPayload {
  readonly from: string;
  readonly items: readonly ClusterItem[];
}

/** Ids and paths per scheduler call: 100 UUIDs or store paths stay well under a payload. */
export const IDS_PER_CALL = 100;

/** Sends items to every process (this one included: PostgreSQL delivers to the sender's own LISTEN too). */
export interface ClusterSender {
  send(item: ClusterItem): void;
  /** Resolves when everything sent so far has been handed to PostgreSQL (or failed and was logged). */
  flushed(): Promise<void>;
}

/** Creates the sender for process `from`; see the file header. */
export function createClusterSender(db: Db, from: string, logger: Logger): ClusterSender {
  let pending: string[] = [];
  let chain: Promise<void> = Promise.resolve();
  let scheduled = false;
  const prefix = `{"from":${JSON.stringify(from)},"items":[`;
  const room = MAX_NOTIFY_PAYLOAD_BYTES - Buffer.byteLength(prefix) - 2;

  function flush(): void {
    scheduled = false;
    const items = pending;
    pending = [];
    const payloads = pack(items, room).map((part) => `${prefix}${part.join(',')}]}`);
    chain = chain
      .then(() => notifyChannel(db, CLUSTER_CHANNEL, payloads))
      .catch((error: unknown) =>
        logger.error('could not notify the other coordinator processes', {
          items: items.length,
          error: String(error),
        }),
      );
  }

  return {
    send(item) {
      const text = JSON.stringify(item);
      if (Buffer.byteLength(text) > room) {
        logger.warn('a message too large for a notification is not sent to the other coordinator processes', {
          kind: item.t,
          bytes: Buffer.byteLength(text),
        });
        return;
      }
      pending.push(text);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    async flushed() {
      if (scheduled) flush();
      await chain;
    },
  };
}

/**
 * Groups strings, in order, into parts of at most `most` whose sizes (each
 * string's `sizeOf`, plus one for its comma) add up to at most `room` bytes.
 */
function pack(
  items: readonly string[],
  room: number,
  sizeOf: (item: string) => number = (item) => Buffer.byteLength(item),
  most = Infinity,
): string[][] {
  const parts: string[][] = [];
  let part: string[] = [];
  let size = 0;
  for (const item of items) {
    const bytes = sizeOf(item) + 1;
    if (part.length > 0 && (part.length === most || size + bytes > room)) {
      parts.push(part);
      part = [];
      size = 0;
    }
    part.push(item);
    size += bytes;
  }
  if (part.length > 0) parts.push(part);
  return parts;
}

/**
 * Parses a payload; items of an unknown or malformed shape are dropped, and
 * anything else malformed gives undefined. Only database users can notify, but
 * a bad payload must never stop a process nor reach the scheduler's queue.
 */
export function parseClusterPayload(text: string): ClusterPayload | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(value)) return undefined;
  const { from, items } = value;
  if (typeof from !== 'string' || !Array.isArray(items)) return undefined;
  return { from, items: items.filter(isClusterItem) };
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isStrings = (v: unknown): v is string[] =>
  Array.isArray(v) && v.length <= IDS_PER_CALL && v.every((x) => typeof x === 'string');
const isOptionalString = (v: unknown): boolean => v === undefined || typeof v === 'string';

function isClusterItem(item: unknown): item is ClusterItem {
  if (!isRecord(item)) return false;
  switch (item.t) {
    case 'event':
      return isRecord(item.event) && typeof item.event.type === 'string';
    case 'call':
      return isSchedulerCall(item.call);
    case 'removed':
      return isStrings(item.paths);
    case 'leader':
      return (
        isRecord(item.leader) &&
        typeof item.leader.process === 'string' &&
        isOptionalString(item.leader.agentUrl) &&
        isOptionalString(item.leader.clientUrl)
      );
    case 'who':
      return true;
    default:
      return false;
  }
}

function isSchedulerCall(call: unknown): call is SchedulerCall {
  if (!isRecord(call)) return false;
  switch (call.op) {
    case 'refresh':
    case 'cancel':
      return isStrings(call.ids);
    case 'available':
      return isStrings(call.paths);
    case 'failed':
      return typeof call.derivation === 'string';
    case 'agent':
      return typeof call.id === 'string';
    default:
      return false;
  }
}

/** Bytes of JSON strings one item carries at most: the rest of a payload is room for its envelope. */
const STRINGS_BYTES_PER_ITEM = 6_000;

/**
 * Splits ids or store paths into lists of at most {@link IDS_PER_CALL} whose
 * JSON fits one payload: a store path may be 255 bytes, so 100 long ones
 * would not, and {@link ClusterSender.send} drops what does not fit.
 */
export function chunked(list: readonly string[]): string[][] {
  return pack(list, STRINGS_BYTES_PER_ITEM, (s) => Buffer.byteLength(JSON.stringify(s)), IDS_PER_CALL);
}
