// The shared core of the typed clients: URL building, auth, timeouts, error decoding, response validation.
import { Readable } from 'node:stream';
import type { z } from 'zod';
import { ProtocolError, errorBodySchema, errorStatus } from '../errors.js';
import type { ServerErrorCode } from '../errors.js';
import { fillPath } from '../routes/route.js';
import type { RouteDef } from '../routes/route.js';
import { linkAbortSignals } from './abort.js';
import { BaseUrls } from './base-urls.js';
import { discard, readAll, sendRequest } from './transport.js';
import type { TransportAnswer, TransportBody } from './transport.js';

/** A body to stream: bytes, a web ReadableStream, or any async iterable of chunks (a Node Readable is one). */
export type UploadBody = Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** Options shared by both clients. */
export interface HttpClientOptions {
  /**
   * The coordinator's base URL for this port, e.g. `http://127.0.0.1:8746`. A path prefix is kept.
   * Several URLs separated by commas (processes of one coordinator): see base-urls.ts.
   */
  readonly baseUrl: string | URL;
  /** Timeout of a non-streaming request, headers and body, in ms; default 30 000. Streams have none (use `signal`). */
  readonly timeoutMs?: number;
  /** Extra headers sent with every request. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Query values as a client writes them: strings, numbers, booleans; arrays repeat the parameter; undefined is left out. */
export type QueryInput = Readonly<Record<string, unknown>>;

/** One call of a route. */
export interface CallOptions {
  readonly params?: Readonly<Record<string, string>>;
  readonly query?: QueryInput;
  readonly json?: unknown;
  readonly body?: UploadBody;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  /** Apply the client's timeout (default true; false for streams). */
  readonly timeout?: boolean;
}

/** Sends requests for routes and decodes their answers. Used by CoordinatorClient and AgentClient. */
export class HttpCore {
  readonly #bases: BaseUrls;
  readonly #timeoutMs: number;
  readonly #headers: Readonly<Record<string, string>>;

  constructor(options: HttpClientOptions) {
    this.#bases = new BaseUrls(options.baseUrl);
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#headers = options.headers ?? {};
  }

  /** The absolute URL of a route call. */
  url(
    route: Pick<RouteDef, 'path'>,
    params: Readonly<Record<string, string>> = {},
    query: QueryInput = {},
  ): string {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined) continue;
      for (const item of Array.isArray(v) ? v : [v]) search.append(k, String(item));
    }
    const qs = search.toString();
    return `${this.#bases.current()}${fillPath(route.path, params)}${qs === '' ? '' : `?${qs}`}`;
  }

  /** Sends the request; resolves to a 2xx Response (for streamed answers), or throws a ProtocolError decoded from the error body. */
  async send(route: RouteDef, call: CallOptions = {}, auth?: string): Promise<Response> {
    const { answer } = await this.#request(route, call, auth);
    const body =
      answer.status === 204 || answer.status === 304
        ? null
        : (Readable.toWeb(answer.body) as ReadableStream<Uint8Array>);
    return new Response(body, { status: answer.status, headers: answer.headers });
  }

  /** `send`, also giving the function that ends the link to the caller's signal and the timeout once the answer is read. */
  async #request(
    route: RouteDef,
    call: CallOptions,
    auth: string | undefined,
  ): Promise<{ answer: TransportAnswer; release: () => void; timedOut: () => boolean }> {
    const headers: Record<string, string> = { accept: acceptOf(route), ...this.#headers, ...call.headers };
    if (auth !== undefined) headers.authorization = auth;
    let body: TransportBody | undefined;
    if (call.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(call.json);
    } else if (call.body !== undefined) {
      headers['content-type'] ??=
        route.body?.kind === 'bytes'
          ? (route.body.contentTypes[0] ?? 'application/octet-stream')
          : 'application/octet-stream';
      body = call.body;
    }
    // Streams have no timeout: the caller's signal is used as it is. Otherwise the
    // link to it ends with the call (json, empty, bytes), or for an answer handed
    // back to be read, when the timeout would have ended it anyway.
    const linked = call.timeout === false ? undefined : linkAbortSignals([call.signal], this.#timeoutMs);
    let answer: TransportAnswer;
    for (let tries = 1; ; tries++) {
      const base = this.#bases.current();
      try {
        answer = await sendRequest(this.url(route, call.params, call.query), {
          method: route.method,
          headers,
          body,
          signal: linked?.signal ?? call.signal,
        });
      } catch (err) {
        if (call.signal?.aborted !== true) this.#bases.failed(base);
        // Refused before anything was sent: the next process gets the same request at once.
        const whole = typeof body === 'string' || body instanceof Uint8Array || body === undefined;
        if (
          whole &&
          tries < this.#bases.size &&
          BaseUrls.neverConnected(err) &&
          call.signal?.aborted !== true
        )
          continue;
        linked?.release();
        throw transportError(route, err, call.signal, linked?.timedOut() === true, this.#timeoutMs);
      }
      if (BaseUrls.unavailable(answer.status)) this.#bases.failed(base);
      break;
    }
    if (answer.status < 200 || answer.status > 299) {
      try {
        const text = await readAll(answer.body).then(
          (b) => b.toString('utf8'),
          () => '',
        );
        throw decodeError(route, answer.status, text);
      } finally {
        linked?.release();
      }
    }
    return { answer, release: () => linked?.release(), timedOut: () => linked?.timedOut() === true };
  }

  /** Sends the request and reads the whole answer as bytes. */
  async bytes(route: RouteDef, call: CallOptions = {}, auth?: string): Promise<Uint8Array> {
    const { answer, release, timedOut } = await this.#request(route, call, auth);
    try {
      const bytes = await this.#read(route, call, answer, timedOut);
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } finally {
      release();
    }
  }

  /** Sends the request and validates the JSON answer with `schema`. */
  async json<T extends z.ZodType>(
    route: RouteDef,
    schema: T,
    call: CallOptions = {},
    auth?: string,
  ): Promise<z.output<T>> {
    const { answer, release, timedOut } = await this.#request(route, call, auth);
    let data: unknown;
    try {
      const text = (await this.#read(route, call, answer, timedOut)).toString();
      try {
        data = JSON.parse(text);
      } catch (err) {
        throw new ProtocolError('invalid-response', `${route.method} ${route.path}: the answer is not JSON`, {
          status: answer.status,
          cause: err,
        });
      }
    } finally {
      release();
    }
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      const what = parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ');
      throw new ProtocolError(
        'invalid-response',
        `${route.method} ${route.path}: the answer does not match the protocol: ${what}`,
        { status: answer.status, details: parsed.error.issues },
      );
    }
    return parsed.data;
  }

  /** Sends the request and expects an empty 2xx answer. */
  async empty(route: RouteDef, call: CallOptions = {}, auth?: string): Promise<void> {
    const { answer, release } = await this.#request(route, call, auth);
    try {
      await discard(answer.body);
    } finally {
      release();
    }
  }

  /** An answer's whole body; a broken one is a transport error of the call. */
  async #read(
    route: RouteDef,
    call: CallOptions,
    answer: TransportAnswer,
    timedOut: () => boolean,
  ): Promise<Buffer> {
    try {
      return await readAll(answer.body);
    } catch (err) {
      throw transportError(route, err, call.signal, timedOut(), this.#timeoutMs);
    }
  }
}

function acceptOf(route: RouteDef): string {
  const r = route.response;
  if (r.kind === 'sse') return 'text/event-stream';
  if (r.kind === 'bytes') return `${r.contentType}, application/json;q=0.5`;
  return 'application/json';
}

function transportError(
  route: RouteDef,
  err: unknown,
  user: AbortSignal | undefined,
  timedOut: boolean,
  ms: number,
): unknown {
  if (user?.aborted === true) return user.reason ?? err;
  if (timedOut)
    return new ProtocolError('timeout', `${route.method} ${route.path}: no answer within ${ms} ms`, {
      cause: err,
    });
  const why = err instanceof Error ? err.message : String(err);
  return new ProtocolError(
    'network-error',
    `${route.method} ${route.path}: the coordinator could not be reached: ${why}`,
    { cause: err },
  );
}

/** Turns a non-2xx answer (its status and body text) into a ProtocolError: the JSON error body when there is one, else the status. */
export function decodeError(
  route: Pick<RouteDef, 'method' | 'path'>,
  status: number,
  text: string,
): ProtocolError {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = errorBodySchema.safeParse(json);
  if (parsed.success) {
    const e = parsed.data.error;
    return new ProtocolError(e.code, e.message, { status, details: e.details });
  }
  const code =
    (Object.keys(errorStatus) as ServerErrorCode[]).find((c) => errorStatus[c] === status) ??
    'invalid-response';
  const snippet = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return new ProtocolError(
    code,
    `${route.method} ${route.path}: HTTP ${status}${snippet === '' ? '' : `: ${snippet}`}`,
    { status },
  );
}
