// CoordinatorClient: the typed client of the client API (submit, query, cancel, agents, operators).
import { adminRoutes } from '../routes/admin-routes.js';
import { agentAdminRoutes as ar } from '../routes/agent-admin-routes.js';
import { buildRoutes as br } from '../routes/build-routes.js';
import type {
  RetentionReport,
  AllocationPlan,
  ClientTokenList,
  HookStatus,
  CreateClientTokenRequest,
  CreatedClientToken,
  DynamicAuthRevocation,
  DynamicAuthToken,
  DynamicAuthTokenList,
} from '../schemas/admin.js';
import type {
  Agent,
  AgentDetail,
  AgentList,
  AgentPasswordList,
  CreateAgentInput,
  CreateAgentResponse,
  NewPasswordResponse,
} from '../schemas/agents.js';
import type {
  Build,
  BuildDetail,
  BuildList,
  BuildLogQueryInput,
  CancelResponse,
  ListBuildsQueryInput,
  SubmitBuildInput,
  SubmitBuildResponse,
} from '../schemas/builds.js';
import type { Tag } from '../schemas/common.js';
import type {
  DerivationUpload,
  MissingPathsResponse,
  UploadDerivationsResponse,
} from '../schemas/derivations.js';
import type { GbcEvent } from '../schemas/events.js';
import { encodeUploadHeaders } from '../schemas/uploads.js';
import type { NarUploadMetadataInput, StoredNar } from '../schemas/uploads.js';
import type { WhyResponse } from '../schemas/why.js';
import { streamEvents } from './event-stream.js';
import type { EventStreamOptions } from './event-stream.js';
import { HttpCore } from './http-core.js';
import type { HttpClientOptions, UploadBody } from './http-core.js';

/** Options of a CoordinatorClient. */
export interface CoordinatorClientOptions extends HttpClientOptions {
  /** A client token's secret, sent as `Authorization: Bearer …` when the coordinator requires tokens. */
  readonly token?: string;
}

/** Per-call options. */
export interface RequestOptions {
  readonly signal?: AbortSignal;
}

/**
 * The client API (client port, default http://127.0.0.1:8746). Every method
 * validates the answer against the protocol's schema and throws ProtocolError
 * on an error answer (`err.code`), a timeout or a network failure.
 */
export class CoordinatorClient {
  readonly #core: HttpCore;
  readonly #auth: string | undefined;

  constructor(options: CoordinatorClientOptions) {
    this.#core = new HttpCore(options);
    this.#auth = options.token === undefined ? undefined : `Bearer ${options.token}`;
  }

  /** Which of these derivation and source paths the coordinator lacks. */
  missingPaths(paths: readonly string[], o: RequestOptions = {}): Promise<MissingPathsResponse> {
    return this.#core.json(
      br.missingPaths,
      br.missingPaths.response.schema,
      { json: { paths }, signal: o.signal },
      this.#auth,
    );
  }

  /** Uploads derivations (text base64-encoded: see `encodeDerivationText`), dependencies first. */
  uploadDerivations(
    derivations: readonly DerivationUpload[],
    o: RequestOptions = {},
  ): Promise<UploadDerivationsResponse> {
    return this.#core.json(
      br.uploadDerivations,
      br.uploadDerivations.response.schema,
      { json: { derivations }, signal: o.signal },
      this.#auth,
    );
  }

  /** Uploads one derivation as raw bytes; `name` is its basename. */
  putDerivation(name: string, text: Uint8Array, o: RequestOptions = {}): Promise<UploadDerivationsResponse> {
    return this.#core.json(
      br.putDerivation,
      br.putDerivation.response.schema,
      { params: { name }, body: text, signal: o.signal },
      this.#auth,
    );
  }

  /** Streams an input source's NAR; `name` is its basename. */
  putSource(
    name: string,
    meta: NarUploadMetadataInput,
    nar: UploadBody,
    o: RequestOptions = {},
  ): Promise<StoredNar> {
    const call = {
      params: { name },
      body: nar,
      headers: encodeUploadHeaders(meta),
      signal: o.signal,
      timeout: false,
    };
    return this.#core.json(br.putSource, br.putSource.response.schema, call, this.#auth);
  }

  /** Creates a build of an uploaded derivation. */
  submitBuild(request: SubmitBuildInput, o: RequestOptions = {}): Promise<SubmitBuildResponse> {
    return this.#core.json(
      br.submitBuild,
      br.submitBuild.response.schema,
      { json: request, signal: o.signal },
      this.#auth,
    );
  }

  /** One page of builds, newest first. */
  listBuilds(query: ListBuildsQueryInput = {}, o: RequestOptions = {}): Promise<BuildList> {
    return this.#core.json(
      br.listBuilds,
      br.listBuilds.response.schema,
      { query: { ...query }, signal: o.signal },
      this.#auth,
    );
  }

  /** Every build matching `query`, page after page (following `nextCursor`). */
  async *iterateBuilds(query: ListBuildsQueryInput = {}, o: RequestOptions = {}): AsyncGenerator<Build> {
    let cursor = query.cursor;
    for (;;) {
      const page = await this.listBuilds({ ...query, cursor }, o);
      yield* page.builds;
      if (page.nextCursor === null || page.builds.length === 0) return;
      cursor = page.nextCursor;
    }
  }

  /** A build with its attempts and outputs. */
  getBuild(uuid: string, o: RequestOptions = {}): Promise<BuildDetail> {
    return this.#core.json(
      br.getBuild,
      br.getBuild.response.schema,
      { params: { uuid }, signal: o.signal },
      this.#auth,
    );
  }

  /** Cancels a build (aborting it on its agent if started). */
  cancelBuild(
    uuid: string,
    options: { ignoreIfFinished?: boolean } & RequestOptions = {},
  ): Promise<CancelResponse> {
    const json = { ignoreIfFinished: options.ignoreIfFinished ?? false };
    return this.#core.json(
      br.cancelBuild,
      br.cancelBuild.response.schema,
      { params: { uuid }, json, signal: options.signal },
      this.#auth,
    );
  }

  /** Cancels every unfinished build carrying all these tags. */
  cancelBuildsByTags(tags: readonly Tag[], o: RequestOptions = {}): Promise<CancelResponse> {
    return this.#core.json(
      br.cancelBuilds,
      br.cancelBuilds.response.schema,
      { json: { tags }, signal: o.signal },
      this.#auth,
    );
  }

  /** Changes a build's priority. */
  updatePriority(uuid: string, priority: number, o: RequestOptions = {}): Promise<Build> {
    return this.#core.json(
      br.updatePriority,
      br.updatePriority.response.schema,
      { params: { uuid }, json: { priority }, signal: o.signal },
      this.#auth,
    );
  }

  /** Why a build is not running. */
  why(uuid: string, o: RequestOptions = {}): Promise<WhyResponse> {
    return this.#core.json(
      br.whyBuild,
      br.whyBuild.response.schema,
      { params: { uuid }, signal: o.signal },
      this.#auth,
    );
  }

  /** A build's log as a byte stream (with `follow: true`, until the attempt ends). */
  async buildLog(
    uuid: string,
    query: BuildLogQueryInput = {},
    o: RequestOptions = {},
  ): Promise<ReadableStream<Uint8Array>> {
    const res = await this.#core.send(
      br.buildLog,
      { params: { uuid }, query: { ...query }, signal: o.signal, timeout: false },
      this.#auth,
    );
    return res.body ?? new ReadableStream({ start: (c) => c.close() });
  }

  /** The text of a derivation the coordinator holds, as bytes. */
  async getDerivation(name: string, o: RequestOptions = {}): Promise<Uint8Array> {
    return this.#core.bytes(br.getDerivation, { params: { name }, signal: o.signal }, this.#auth);
  }

  /** Every agent. */
  listAgents(o: RequestOptions = {}): Promise<AgentList> {
    return this.#core.json(ar.listAgents, ar.listAgents.response.schema, { signal: o.signal }, this.#auth);
  }

  /** Creates an agent and, by default, its first password. */
  createAgent(request: CreateAgentInput, o: RequestOptions = {}): Promise<CreateAgentResponse> {
    return this.#core.json(
      ar.createAgent,
      ar.createAgent.response.schema,
      { json: request, signal: o.signal },
      this.#auth,
    );
  }

  /** An agent with its status and builds. */
  getAgent(uuid: string, o: RequestOptions = {}): Promise<AgentDetail> {
    return this.#core.json(
      ar.getAgent,
      ar.getAgent.response.schema,
      { params: { uuid }, signal: o.signal },
      this.#auth,
    );
  }

  /** A new password for an agent. */
  newAgentPassword(uuid: string, o: RequestOptions = {}): Promise<NewPasswordResponse> {
    return this.#core.json(
      ar.newAgentPassword,
      ar.newAgentPassword.response.schema,
      { params: { uuid }, signal: o.signal },
      this.#auth,
    );
  }

  /** An agent's passwords (ids and dates only). */
  listAgentPasswords(uuid: string, o: RequestOptions = {}): Promise<AgentPasswordList> {
    return this.#core.json(
      ar.listAgentPasswords,
      ar.listAgentPasswords.response.schema,
      { params: { uuid }, signal: o.signal },
      this.#auth,
    );
  }

  /** Revokes password `id` of an agent: it stops working at once. */
  revokeAgentPassword(uuid: string, id: number, o: RequestOptions = {}): Promise<void> {
    return this.#core.empty(
      ar.revokeAgentPassword,
      { params: { uuid, id: String(id) }, signal: o.signal },
      this.#auth,
    );
  }

  /** Replaces an agent's tags. */
  setAgentTags(uuid: string, tags: readonly Tag[], o: RequestOptions = {}): Promise<Agent> {
    return this.#core.json(
      ar.setAgentTags,
      ar.setAgentTags.response.schema,
      { params: { uuid }, json: { tags }, signal: o.signal },
      this.#auth,
    );
  }

  /** Activates (true) or deactivates (false) an agent. */
  setAgentActive(uuid: string, active: boolean, o: RequestOptions = {}): Promise<Agent> {
    const route = active ? ar.activateAgent : ar.deactivateAgent;
    return this.#core.json(route, route.response.schema, { params: { uuid }, signal: o.signal }, this.#auth);
  }

  /** A new dynamic-auth token for agents. */
  createDynamicAuthToken(o: RequestOptions = {}): Promise<DynamicAuthToken> {
    return this.#core.json(
      ar.createDynamicAuthToken,
      ar.createDynamicAuthToken.response.schema,
      { signal: o.signal },
      this.#auth,
    );
  }

  /** Every dynamic-auth token with the agents it created. */
  listDynamicAuthTokens(o: RequestOptions = {}): Promise<DynamicAuthTokenList> {
    return this.#core.json(
      ar.listDynamicAuthTokens,
      ar.listDynamicAuthTokens.response.schema,
      { signal: o.signal },
      this.#auth,
    );
  }

  /** Revokes dynamic-auth token `id` and the session passwords it minted. */
  revokeDynamicAuthToken(id: number, o: RequestOptions = {}): Promise<DynamicAuthRevocation> {
    return this.#core.json(
      ar.revokeDynamicAuthToken,
      ar.revokeDynamicAuthToken.response.schema,
      { params: { id: String(id) }, signal: o.signal },
      this.#auth,
    );
  }

  /** The current allocation plan. */
  allocationPlan(
    query: { agent?: string; limit?: number } = {},
    o: RequestOptions = {},
  ): Promise<AllocationPlan> {
    return this.#core.json(
      adminRoutes.allocationPlan,
      adminRoutes.allocationPlan.response.schema,
      { query, signal: o.signal },
      this.#auth,
    );
  }

  /** The hook queue per event type and the events whose hooks are failing (at most `limit`, default 100). */
  hookStatus(query: { limit?: number } = {}, o: RequestOptions = {}): Promise<HookStatus> {
    return this.#core.json(
      adminRoutes.hookStatus,
      adminRoutes.hookStatus.response.schema,
      { query, signal: o.signal },
      this.#auth,
    );
  }

  /** Live events; reconnects and resumes with Last-Event-ID. Stop with `options.signal` or by leaving the loop. */
  events(options: EventStreamOptions = {}): AsyncGenerator<GbcEvent> {
    return streamEvents(this.#core, () => this.#auth, options);
  }

  /** Creates a client token (its secret is in the answer only). */
  createClientToken(request: CreateClientTokenRequest, o: RequestOptions = {}): Promise<CreatedClientToken> {
    return this.#core.json(
      adminRoutes.createClientToken,
      adminRoutes.createClientToken.response.schema,
      { json: request, signal: o.signal },
      this.#auth,
    );
  }

  /** Lists client tokens. */
  listClientTokens(o: RequestOptions = {}): Promise<ClientTokenList> {
    return this.#core.json(
      adminRoutes.listClientTokens,
      adminRoutes.listClientTokens.response.schema,
      { signal: o.signal },
      this.#auth,
    );
  }

  /** Revokes a client token. */
  revokeClientToken(id: string, o: RequestOptions = {}): Promise<void> {
    return this.#core.empty(adminRoutes.revokeClientToken, { params: { id }, signal: o.signal }, this.#auth);
  }

  /** Applies the retention policy now (or reports what it would remove). */
  runRetention(options: { dryRun?: boolean } & RequestOptions = {}): Promise<RetentionReport> {
    const json = { dryRun: options.dryRun ?? false };
    return this.#core.json(
      adminRoutes.runRetention,
      adminRoutes.runRetention.response.schema,
      { json, signal: options.signal },
      this.#auth,
    );
  }

  /** The server's OpenAPI document. */
  openApi(o: RequestOptions = {}): Promise<Record<string, unknown>> {
    return this.#core.json(
      adminRoutes.openApi,
      adminRoutes.openApi.response.schema,
      { signal: o.signal },
      this.#auth,
    );
  }
}
