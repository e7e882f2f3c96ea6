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
  /** The scheduler at `url` (none when undefined) failed or no longer schedules: forget it (unless another was announced since) and ask who does. */
  readonly leaderFailed: (url: string | undefined) => void;
  /** Resolves when a scheduler is known again (announced, or this process elected), or after a bounded wait. */
  readonly waitForLeader: () => Promise<void>;
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
    return forward(c, agentApp, options);
  });
  front.all('*', (c) => agentApp.fetch(c.req.raw, c.env));
  front.onError(createErrorHandler(options.logger));
  return front;
}

/**
 * Sends the call to the scheduler. With no scheduler known or reachable, waits
 * (bounded) for one to be elected — this process included — and tries once
 * more, so that an agent asking during a takeover gets its builds as soon as
 * there is a scheduler, rather than a 503 and its own backoff.
 */
async function forward(c: Context, agentApp: Hono, options: ForwardingOptions): Promise<Response> {
  const body = await readBounded(c.req.raw);
  for (let attempt = 1; ; attempt++) {
    if (options.serving())
      return agentApp.fetch(
        new Request(c.req.raw.url, { method: 'POST', headers: c.req.raw.headers, body }),
        c.env,
      );
    const base = options.leaderAgentUrl();
    const answer = base === undefined ? undefined : await sendToLeader(c, base, body, options);
    if (answer !== undefined) return answer;
    options.leaderFailed(base);
    if (attempt === 2)
      throw new HttpError(
        'unavailable',
        'no coordinator process schedules right now (an election is under way); retry shortly',
      );
    // Another scheduler may have been announced meanwhile: then no need to wait.
    if (options.leaderAgentUrl() === undefined) await options.waitForLeader();
  }
}

/** The scheduler's answer, or undefined when none is known, it cannot be reached, or it no longer schedules. */
async function sendToLeader(
  c: Context,
  base: string,
  body: Uint8Array,
  options: ForwardingOptions,
): Promise<Response | undefined> {
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
  } catch (error) {
    options.logger.warn('could not forward fetch-builds to the scheduler', {
      to: base,
      error: String(error),
    });
    return undefined;
  }
  if (answer.status === 503) {
    await answer.body?.cancel();
    return undefined;
  }
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
