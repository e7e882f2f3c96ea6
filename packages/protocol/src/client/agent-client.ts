// AgentClient: the typed client of the agent API (status, fetch, set-up, log and NAR uploads, results, cache).
import { ProtocolError, isProtocolError } from '../errors.js';
import { agentRoutes as r } from '../routes/agent-routes.js';
import { cacheRoutes } from '../routes/cache-routes.js';
import type {
  AgentSessionResponse,
  BuildClosure,
  BuildResultRequest,
  FetchBuildsRequestInput,
  FetchBuildsResponse,
  StatusReportInput,
  StatusResponse,
} from '../schemas/agent-work.js';
import { encodeUploadHeaders } from '../schemas/uploads.js';
import type {
  LogUploadProgress,
  NarUploadMetadataInput,
  StoredNar,
  UploadProgress,
} from '../schemas/uploads.js';
import { HttpCore } from './http-core.js';
import type { HttpClientOptions, UploadBody } from './http-core.js';

/** How an agent authenticates: its id and a password, or a name and a dynamic-auth token (creating the agent on first use). */
export type AgentCredentials =
  | { readonly agent: string; readonly password: string }
  | { readonly name: string; readonly token: string; readonly description?: string };

/** Options of an AgentClient. */
export interface AgentClientOptions extends HttpClientOptions {
  readonly credentials: AgentCredentials;
  /** Base URL of the binary cache when it has a port of its own; default `baseUrl`. */
  readonly cacheBaseUrl?: string | URL;
  /** Called once a dynamic-auth session gives credentials, so the agent can keep them (e.g. in its state file). */
  readonly onSession?: (session: AgentSessionResponse) => void | Promise<void>;
}

/** Per-call options. */
export interface AgentRequestOptions {
  readonly signal?: AbortSignal;
}

/**
 * The agent API (agent port, default http://…:8745) and the binary cache.
 * Every method validates the answer and throws ProtocolError on failure.
 */
export class AgentClient {
  readonly #core: HttpCore;
  readonly #cache: HttpCore;
  readonly #options: AgentClientOptions;
  #basic: { agent: string; header: string } | undefined;
  #session: Promise<{ agent: string; header: string }> | undefined;

  constructor(options: AgentClientOptions) {
    this.#core = new HttpCore(options);
    this.#cache =
      options.cacheBaseUrl === undefined
        ? this.#core
        : new HttpCore({ ...options, baseUrl: options.cacheBaseUrl });
    this.#options = options;
    const c = options.credentials;
    if ('password' in c) this.#basic = { agent: c.agent, header: basic(c.agent, c.password) };
  }

  /** The agent's id, creating a dynamic-auth session first if needed. */
  async agentId(): Promise<string> {
    return (await this.#credentials()).agent;
  }

  /** Reports load, free disk and builds in hand; the answer lists builds to abort. */
  reportStatus(report: StatusReportInput, o: AgentRequestOptions = {}): Promise<StatusResponse> {
    return this.#authed(({ agent, header }) =>
      this.#core.json(
        r.reportStatus,
        r.reportStatus.response.schema,
        { params: { uuid: agent }, json: report, signal: o.signal },
        header,
      ),
    );
  }

  /** Asks for up to `count` builds of `systems`. */
  fetchBuilds(request: FetchBuildsRequestInput, o: AgentRequestOptions = {}): Promise<FetchBuildsResponse> {
    return this.#authed(({ agent, header }) =>
      this.#core.json(
        r.fetchBuilds,
        r.fetchBuilds.response.schema,
        { params: { uuid: agent }, json: request, signal: o.signal },
        header,
      ),
    );
  }

  /** The derivations and inputs a build needs. */
  buildClosure(
    build: string,
    o: { derivations?: 'all' | 'own' } & AgentRequestOptions = {},
  ): Promise<BuildClosure> {
    const call = {
      params: { uuid: build },
      query: o.derivations === undefined ? {} : { derivations: o.derivations },
      signal: o.signal,
    };
    return this.#authed(({ header }) =>
      this.#core.json(r.buildClosure, r.buildClosure.response.schema, call, header),
    );
  }

  /** The exact bytes of a derivation; `name` is its basename. */
  derivationText(name: string, o: AgentRequestOptions = {}): Promise<Uint8Array> {
    return this.#authed(async ({ header }) => {
      return this.#core.bytes(r.derivationText, { params: { name }, signal: o.signal }, header);
    });
  }

  /** Reports that the build was handed to the daemon. */
  reportBuildStart(build: string, o: AgentRequestOptions = {}): Promise<void> {
    return this.#authed(({ header }) =>
      this.#core.empty(r.reportBuildStart, { params: { uuid: build }, signal: o.signal }, header),
    );
  }

  /** Reports inputs that could not be had. */
  reportSetupFailure(
    build: string,
    missingInputs: readonly string[],
    o: AgentRequestOptions = {},
  ): Promise<void> {
    const json = { reason: 'missing-inputs', missingInputs };
    return this.#authed(({ header }) =>
      this.#core.empty(r.reportSetupFailure, { params: { uuid: build }, json, signal: o.signal }, header),
    );
  }

  /**
   * Streams the build log; resolves once the coordinator has stored all of it.
   * With `offset` (the byte of the log where `log` starts, see `logUploadProgress`)
   * bytes the coordinator already holds are skipped; without it the body is
   * appended. Not retried: a stream is read once.
   */
  uploadLog(
    build: string,
    log: UploadBody,
    options: { offset?: number } & AgentRequestOptions = {},
  ): Promise<void> {
    const call = {
      params: { uuid: build },
      query: { offset: options.offset },
      body: log,
      signal: options.signal,
      timeout: false as const,
    };
    return this.#authed(({ header }) => this.#core.empty(r.uploadLog, call, header), false);
  }

  /** How many bytes of the held attempt's log the coordinator holds, and whether it is sealed. */
  logUploadProgress(build: string, o: AgentRequestOptions = {}): Promise<LogUploadProgress> {
    return this.#authed(({ header }) =>
      this.#core.json(
        r.logUploadProgress,
        r.logUploadProgress.response.schema,
        { params: { uuid: build }, signal: o.signal },
        header,
      ),
    );
  }

  /**
   * Streams an output's NAR (compressed as `meta.compression`); `offset` resumes at
   * that byte of the compressed stream (see `outputUploadProgress`). Not retried: a stream is read once.
   */
  uploadOutput(
    build: string,
    output: string,
    meta: NarUploadMetadataInput,
    nar: UploadBody,
    options: { offset?: number } & AgentRequestOptions = {},
  ): Promise<StoredNar> {
    const call = {
      params: { uuid: build, name: output },
      query: { offset: options.offset === undefined || options.offset === 0 ? undefined : options.offset },
      headers: encodeUploadHeaders(meta),
      body: nar,
      signal: options.signal,
      timeout: false,
    };
    return this.#authed(
      ({ header }) => this.#core.json(r.uploadOutput, r.uploadOutput.response.schema, call, header),
      false,
    );
  }

  /** How many bytes of an output upload the coordinator holds. */
  outputUploadProgress(build: string, output: string, o: AgentRequestOptions = {}): Promise<UploadProgress> {
    return this.#authed(({ header }) =>
      this.#core.json(
        r.outputUploadProgress,
        r.outputUploadProgress.response.schema,
        { params: { uuid: build, name: output }, signal: o.signal },
        header,
      ),
    );
  }

  /** Reports how the attempt ended. */
  reportResult(build: string, result: BuildResultRequest, o: AgentRequestOptions = {}): Promise<void> {
    return this.#authed(({ header }) =>
      this.#core.empty(r.reportResult, { params: { uuid: build }, json: result, signal: o.signal }, header),
    );
  }

  /** The narinfo text for a store path's hash part, or null when the cache lacks it. */
  async narinfo(hashPart: string, o: AgentRequestOptions = {}): Promise<string | null> {
    try {
      return Buffer.from(
        await this.#cache.bytes(cacheRoutes.narinfo, { params: { hash: hashPart }, signal: o.signal }),
      ).toString('utf8');
    } catch (err) {
      if (err instanceof ProtocolError && err.status === 404) return null;
      throw err;
    }
  }

  /** A NAR from the cache by the URL a narinfo gives (relative, e.g. `nar/zstd/…`), as a byte stream. */
  async nar(url: string, o: AgentRequestOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const parts = url.replace(/^\/+/, '').split('/');
    if (
      parts[0] !== 'nar' ||
      parts.length < 2 ||
      parts.length > 3 ||
      parts.some((p) => p === '' || p === '.' || p === '..')
    ) {
      throw new ProtocolError(
        'bad-request',
        `not a cache NAR URL: ${JSON.stringify(url)} (expected nar/<name> or nar/<compression>/<name>)`,
        { status: 0 },
      );
    }
    const res =
      parts.length === 3
        ? await this.#cache.send(cacheRoutes.narCompressed, {
            params: { compression: parts[1] as string, name: parts[2] as string },
            signal: o.signal,
            timeout: false,
          })
        : await this.#cache.send(cacheRoutes.nar, {
            params: { name: parts[1] as string },
            signal: o.signal,
            timeout: false,
          });
    return res.body ?? new ReadableStream({ start: (c) => c.close() });
  }

  /**
   * Runs `call` with credentials. With a dynamic-auth token, a 401 (the
   * coordinator no longer knows the session's password) opens a new session
   * and, when `retryable`, runs the call once more.
   */
  async #authed<T>(
    call: (creds: { agent: string; header: string }) => Promise<T>,
    retryable = true,
  ): Promise<T> {
    const creds = await this.#credentials();
    try {
      return await call(creds);
    } catch (err) {
      if (!('token' in this.#options.credentials) || !isProtocolError(err, 'unauthorized')) throw err;
      if (this.#basic === creds) {
        this.#basic = undefined;
        this.#session = undefined;
      }
      if (!retryable) throw err;
      return call(await this.#credentials());
    }
  }

  async #credentials(): Promise<{ agent: string; header: string }> {
    if (this.#basic !== undefined) return this.#basic;
    this.#session ??= this.#openSession().catch((err: unknown) => {
      this.#session = undefined;
      throw err;
    });
    return this.#session;
  }

  async #openSession(): Promise<{ agent: string; header: string }> {
    const c = this.#options.credentials;
    if (!('token' in c)) throw new TypeError('AgentClient: no credentials');
    const json =
      c.description === undefined
        ? { name: c.name, token: c.token }
        : { name: c.name, token: c.token, description: c.description };
    const session = await this.#core.json(r.agentSession, r.agentSession.response.schema, { json });
    await this.#options.onSession?.(session);
    this.#basic = { agent: session.agent, header: basic(session.agent, session.password) };
    return this.#basic;
  }
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}
