// fetch-builds on a process that is not the scheduler: the request is sent on,
// unchanged (the agent's own credentials, its body), to the scheduler's agent
// URL, and the scheduler's answer is handed back. Allocation needs the
// scheduler's in-memory queue, so exactly one process allocates; the agent
// needs only one URL, any process's. The scheduler checks the credentials
// again (they are the agent's, not this process's), so forwarding adds no
// trust between processes. A forwarded request is never forwarded again.
import { Hono } from 'hono';
import type { Context } from 'hono';
import { HttpError } from '../http/http-error.js';
import { createErrorHandler } from '../http/on-error.js';
import type { Logger } from '../logger.js';

/** The header that marks a forwarded request (its value: the forwarding process). */
export const FORWARDED_HEADER = 'x-gbc-forwarded-by';

/** A fetch-builds body is a count and a few systems: more is refused before it is read on. */
const MAX_BODY_BYTES = 64 * 1024;

/** Options of {@link createForwardingFront}. */
export interface ForwardingOptions {
  /** This process's id. */
  readonly processId: string;
  /** Whether this process allocates now. */
  readonly serving: () => boolean;
  /** The scheduler's agent URL as last announced, if known. */
  readonly leaderAgentUrl: () => string | undefined;
  /** The scheduler's URL failed or it said it no longer schedules: forget it and ask who does. */
  readonly leaderFailed: () => void;
  /** How long a forwarded call may take, in ms. Default 30000. */
  readonly timeoutMs?: number;
  readonly logger: Logger;
}

/** A front for `agentApp`: fetch-builds goes to the scheduler, everything else to `agentApp` as it is. */
export function createForwardingFront(agentApp: Hono, options: ForwardingOptions): Hono {
  const front = new Hono();
  front.post('/agent/:uuid/fetch-builds', (c) => {
    if (options.serving()) return agentApp.fetch(c.req.raw, c.env);
    if (c.req.header(FORWARDED_HEADER) !== undefined)
      throw new HttpError(
        'unavailable',
        'this coordinator process is no longer the scheduler; retry shortly',
      );
    return forward(c, options);
  });
  front.all('*', (c) => agentApp.fetch(c.req.raw, c.env));
  front.onError(createErrorHandler(options.logger));
  return front;
}

async function forward(c: Context, options: ForwardingOptions): Promise<Response> {
  const base = options.leaderAgentUrl();
  if (base === undefined) {
    options.leaderFailed();
    throw new HttpError(
      'unavailable',
      'no coordinator process schedules right now (an election is under way); retry shortly',
    );
  }
  const body = await readBounded(c.req.raw);
  const target = new URL(c.req.path, base);
  target.search = new URL(c.req.url).search;
  const headers: Record<string, string> = { [FORWARDED_HEADER]: options.processId };
  for (const name of ['authorization', 'content-type', 'accept'])
    if (c.req.header(name) !== undefined) headers[name] = c.req.header(name)!;
  let answer: Response;
  try {
    answer = await fetch(target, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
  } catch (cause) {
    options.leaderFailed();
    options.logger.warn('could not forward fetch-builds to the scheduler', {
      to: base,
      error: String(cause),
    });
    throw new HttpError('unavailable', 'the scheduler process cannot be reached; retry shortly', { cause });
  }
  if (answer.status === 503) options.leaderFailed();
  // fetch decoded the body: only the type travels back, with the bytes as they are now.
  const type = answer.headers.get('content-type');
  return new Response(answer.body, {
    status: answer.status,
    headers: type === null ? {} : { 'content-type': type },
  });
}

/** The request body, refused past {@link MAX_BODY_BYTES} without reading further. */
async function readBounded(request: Request): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body !== null)
    for await (const chunk of request.body as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > MAX_BODY_BYTES) throw tooLarge();
      chunks.push(chunk);
    }
  return Buffer.concat(chunks);
}

const tooLarge = (): HttpError =>
  new HttpError('payload-too-large', `a fetch-builds body is at most ${MAX_BODY_BYTES} bytes`);
