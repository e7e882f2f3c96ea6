// Good and bad example values for every named schema, shared by the schema and client tests.
import { encodeDerivationText } from '../schemas/derivations.js';

/** A build uuid used by the examples. */
export const U1 = '6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b';
/** An agent uuid used by the examples. */
export const U2 = '0a1b2c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d';
/** A valid 32-character Nix base32 hash part. */
export const H = '0123456789abcdfghijklmnpqrsvwxyz';
const DRV = `/gnu/store/${H}-hello-2.12.drv`;
const OUT = `/gnu/store/${H}-hello-2.12`;
const NAR_HASH = `sha256:${'1'.repeat(52)}`;
const T = '2026-11-27T23:17:36.000Z';
const build = {
  uuid: U1,
  derivation: DRV,
  system: 'x86_64-linux',
  priority: 0,
  state: 'queued',
  tags: [{ key: 'a', value: 'b' }],
  createdAt: T,
  deferUntil: null,
  endedAt: null,
  timeoutSeconds: null,
  maxSilentTimeSeconds: null,
  agent: null,
  blockedByFailedDependency: false,
};
const agent = {
  uuid: U2,
  name: 'x',
  description: null,
  active: true,
  tags: [],
  systems: ['x86_64-linux'],
  createdAt: T,
  status: { reportedAt: T, load1: 0.5, freeDiskBytes: 10, builds: [U1] },
};
const agentAttempt = {
  uuid: U1,
  build: U1,
  derivation: DRV,
  system: 'x86_64-linux',
  allocatedAt: T,
  startedAt: T,
  endedAt: T,
  result: 'build-failure',
  failureReason: 'exit 1',
};
const attempt = {
  uuid: U2,
  agent: U2,
  allocatedAt: T,
  startedAt: null,
  endedAt: null,
  result: null,
  failureReason: null,
  missingInputs: [],
  hasLog: false,
};
const token = { id: U1, name: 'ci', scope: 'read', createdAt: T, lastUsedAt: null };

/** For each component id: values it must accept and values it must refuse (with the path the message must name). */
export const examples: Record<string, { good: unknown[]; bad: [unknown, string][] }> = {
  Tag: { good: [{ key: 'k', value: '' }], bad: [[{ key: '', value: 'v' }, 'key']] },
  Error: {
    good: [{ error: { code: 'not-found', message: 'no such build' } }],
    bad: [[{ error: { message: 'x' } }, 'error.code']],
  },
  BuildState: { good: ['queued', 'canceled'], bad: [['running', '']] },
  AttemptResult: { good: ['success', 'timeout'], bad: [['ok', '']] },
  SubmitBuildRequest: {
    good: [
      { derivation: DRV },
      {
        derivation: `/nix/store/${H}-x.drv`,
        priority: 5,
        tags: [{ key: 'a', value: '1' }],
        deferUntil: T,
        timeoutSeconds: 60,
        ignoreIfBuildForOutputsExists: true,
      },
    ],
    bad: [
      [{ derivation: OUT }, 'derivation'],
      [
        {
          derivation: DRV,
          tags: [
            { key: 'a', value: '1' },
            { key: 'a', value: '2' },
          ],
        },
        'tags',
      ],
      [{ derivation: DRV, timeoutSeconds: 0 }, 'timeoutSeconds'],
      [{ derivation: DRV, deferUntil: 'tomorrow' }, 'deferUntil'],
    ],
  },
  SubmitBuildResponse: {
    good: [
      { uuid: U1, created: true },
      { uuid: U1, created: false, reason: 'build-for-derivation-exists', relatedBuilds: [U2] },
    ],
    bad: [[{ uuid: 'nope', created: true }, 'uuid']],
  },
  Build: {
    good: [build],
    bad: [
      [{ ...build, state: 'done' }, 'state'],
      [{ ...build, createdAt: 1 }, 'createdAt'],
    ],
  },
  Attempt: { good: [attempt], bad: [[{ ...attempt, result: 'ok' }, 'result']] },
  BuildOutput: {
    good: [{ name: 'out', path: OUT, narHash: NAR_HASH, narSize: 1, references: [OUT] }],
    bad: [[{ name: 'out', path: 'out', narHash: null, narSize: null, references: [] }, 'path']],
  },
  BuildDetail: {
    good: [{ ...build, attempts: [attempt], outputs: [], waitingFor: [], blockedBy: [] }],
    bad: [[{ ...build, attempts: [{}], outputs: [], waitingFor: [], blockedBy: [] }, 'attempts.0']],
  },
  BuildList: { good: [{ builds: [build], nextCursor: null }], bad: [[{ builds: [] }, 'nextCursor']] },
  CancelBuildRequest: {
    good: [{}, { ignoreIfFinished: true }],
    bad: [[{ ignoreIfFinished: 'yes' }, 'ignoreIfFinished']],
  },
  CancelBuildsRequest: {
    good: [{ tags: [{ key: 'a', value: 'b' }] }],
    bad: [
      [{ tags: [] }, 'tags'],
      [{ tags: [{ key: 'a', value: 'b' }], states: ['succeeded'] }, 'states.0'],
    ],
  },
  CancelResponse: { good: [{ canceled: [U1] }], bad: [[{ canceled: ['x'] }, 'canceled.0']] },
  UpdatePriorityRequest: { good: [{ priority: -3 }], bad: [[{ priority: 1.5 }, 'priority']] },
  WhyReason: {
    good: [
      { kind: 'deferred', until: T },
      { kind: 'inputs-pending', inputs: [{ derivation: DRV, build: U1, state: 'started' }] },
      { kind: 'no-matching-agent', system: 'aarch64-linux', tags: [] },
      { kind: 'queued', position: 3 },
    ],
    bad: [
      [{ kind: 'sleepy' }, 'kind'],
      [{ kind: 'queued', position: -1 }, 'position'],
    ],
  },
  WhyResponse: {
    good: [{ uuid: U1, state: 'queued', reasons: [] }],
    bad: [[{ uuid: U1, state: 'queued' }, 'reasons']],
  },
  AgentStatus: { good: [agent.status], bad: [[{ ...agent.status, load1: -1 }, 'load1']] },
  Agent: {
    good: [agent, { ...agent, status: null }],
    bad: [[{ ...agent, systems: ['linux'] }, 'systems.0']],
  },
  AgentList: { good: [{ agents: [agent] }], bad: [[{ agents: [{}] }, 'agents.0']] },
  CreateAgentRequest: {
    good: [{ name: 'builder-1' }, { name: 'b', description: 'd', tags: [], withPassword: false }],
    bad: [[{ name: '' }, 'name']],
  },
  CreateAgentResponse: {
    good: [
      { agent, password: 'p'.repeat(32) },
      { agent, password: null },
    ],
    bad: [[{ agent }, 'password']],
  },
  AgentAttempt: { good: [agentAttempt], bad: [[{ ...agentAttempt, endedAt: null }, 'endedAt']] },
  AgentDetail: {
    good: [
      { ...agent, allocatedBuilds: [U1], startedBuilds: [], recentAttempts: [agentAttempt] },
      // From a coordinator older than recentAttempts.
      { ...agent, allocatedBuilds: [U1], startedBuilds: [] },
    ],
    bad: [
      [agent, 'allocatedBuilds'],
      [{ ...agent, allocatedBuilds: [], startedBuilds: [], recentAttempts: [{}] }, 'recentAttempts.0'],
    ],
  },
  NewPasswordResponse: { good: [{ password: 'x'.repeat(32) }], bad: [[{ password: 'short' }, 'password']] },
  SetAgentTagsRequest: { good: [{ tags: [] }], bad: [[{ tags: [{ key: 'k' }] }, 'tags.0.value']] },
  AgentPassword: {
    good: [{ id: 1, createdAt: T, session: false }],
    bad: [[{ id: 0, createdAt: T, session: false }, 'id']],
  },
  AgentPasswordList: {
    good: [{ passwords: [{ id: 1, createdAt: T, session: true }] }, { passwords: [] }],
    bad: [[{ passwords: [{ id: 1, createdAt: T }] }, 'passwords.0.session']],
  },
  DynamicAuthToken: {
    good: [{ token: 't'.repeat(40), id: 3 }, { token: 't'.repeat(40) }],
    bad: [[{ token: '' }, 'token']],
  },
  DynamicAuthTokenInfo: {
    good: [{ id: 3, createdAt: T, revokedAt: null, agents: [U2] }],
    bad: [[{ id: 3, createdAt: T, revokedAt: null, agents: ['b'] }, 'agents.0']],
  },
  DynamicAuthTokenList: {
    good: [{ tokens: [{ id: 3, createdAt: T, revokedAt: T, agents: [] }] }],
    bad: [[{ tokens: [{}] }, 'tokens.0.id']],
  },
  DynamicAuthRevocation: {
    good: [{ agents: [U2], sessionPasswords: 2 }],
    bad: [[{ agents: [], sessionPasswords: -1 }, 'sessionPasswords']],
  },
  TokenScope: { good: ['read', 'read-write'], bad: [['admin', '']] },
  CreateClientTokenRequest: {
    good: [{ name: 'ci', scope: 'read-write' }],
    bad: [[{ name: 'ci', scope: 'write' }, 'scope']],
  },
  ClientToken: { good: [token], bad: [[{ ...token, id: 1 }, 'id']] },
  CreatedClientToken: { good: [{ token, secret: 's'.repeat(40) }], bad: [[{ token }, 'secret']] },
  ClientTokenList: { good: [{ tokens: [token] }], bad: [[{}, 'tokens']] },
  AllocationPlan: {
    good: [{ strategy: 'basic', generatedAt: T, agents: [{ agent: U2, builds: [U1] }], unallocatable: 0 }],
    bad: [[{ strategy: 'basic', generatedAt: T, agents: [], unallocatable: -1 }, 'unallocatable']],
  },
  HookStatus: {
    good: [
      {
        queue: [{ eventType: 'build-success', pending: 3 }],
        failing: [
          {
            id: 7,
            eventType: 'build-success',
            build: U1,
            attempts: 2,
            lastError: 'command exited with 1',
            nextAttemptAt: T,
            createdAt: T,
          },
        ],
      },
      { queue: [], failing: [] },
    ],
    bad: [[{ queue: [{ eventType: 'build-success', pending: -1 }], failing: [] }, 'queue.0.pending']],
  },
  RetentionRunRequest: { good: [{}, { dryRun: true }], bad: [[{ dryRun: 1 }, 'dryRun']] },
  RetentionReport: {
    good: [{ dryRun: false, removedNars: 1, removedLogs: 2, freedBytes: 3, keptBytes: 4 }],
    bad: [[{ dryRun: false, removedNars: 1, removedLogs: 2, freedBytes: -3, keptBytes: 4 }, 'freedBytes']],
  },
  EventType: { good: ['build-success'], bad: [['build-exploded', '']] },
  Event: {
    good: [
      { id: '17', type: 'build-started', time: T, build: U1, agent: U2 },
      { id: '1', type: 'agent-status', time: T, data: { load1: 2 } },
    ],
    bad: [[{ id: 'x1', type: 'build-started', time: T }, 'id']],
  },
  MissingPathsRequest: { good: [{ paths: [DRV, OUT] }], bad: [[{ paths: ['relative/path'] }, 'paths.0']] },
  MissingPathsResponse: { good: [{ missing: [] }], bad: [[{ missing: [1] }, 'missing.0']] },
  DerivationUpload: {
    good: [{ path: DRV, text: encodeDerivationText(new Uint8Array([68, 101, 0xff])) }],
    bad: [
      [{ path: DRV, text: 'not base64!' }, 'text'],
      [{ path: OUT, text: '' }, 'path'],
    ],
  },
  UploadDerivationsRequest: {
    good: [{ derivations: [{ path: DRV, text: 'RGVy' }] }],
    bad: [[{ derivations: [] }, 'derivations']],
  },
  UploadDerivationsResponse: { good: [{ stored: [DRV] }], bad: [[{ stored: [OUT] }, 'stored.0']] },
  NarUploadMetadata: {
    good: [{ narHash: NAR_HASH, narSize: 120, references: [`${H}-hello-2.12`] }],
    bad: [
      [{ narHash: 'sha256:abc', narSize: 1, references: [] }, 'narHash'],
      [{ narHash: NAR_HASH, narSize: 1, references: [], compression: 'bzip2' }, 'compression'],
    ],
  },
  UploadProgress: {
    good: [{ bytesReceived: 0, complete: false }],
    bad: [[{ bytesReceived: 0.5, complete: false }, 'bytesReceived']],
  },
  LogUploadProgress: {
    good: [{ bytesReceived: 120, sealed: false }],
    bad: [
      [{ bytesReceived: -1, sealed: false }, 'bytesReceived'],
      [{ bytesReceived: 0 }, 'sealed'],
    ],
  },
  StoredNar: {
    good: [{ path: OUT, narHash: NAR_HASH, narSize: 1, compression: 'zstd', fileSize: 1 }],
    bad: [[{ path: OUT, narHash: NAR_HASH, narSize: 1, compression: 'zstd' }, 'fileSize']],
  },
  AgentSessionRequest: {
    good: [{ name: 'b1', token: 't'.repeat(32) }],
    bad: [[{ name: 'b1', token: 'short' }, 'token']],
  },
  AgentSessionResponse: {
    good: [{ agent: U2, password: 'p'.repeat(32), created: true }],
    bad: [[{ agent: U2, password: 'p'.repeat(32) }, 'created']],
  },
  StatusReport: {
    good: [
      { load1: 0.2, builds: [] },
      { load1: 3, freeDiskBytes: 1e12, builds: [U1], systems: ['x86_64-linux'], draining: true },
    ],
    bad: [
      [{ load1: 'high', builds: [] }, 'load1'],
      [{ load1: 1, builds: ['b'] }, 'builds.0'],
    ],
  },
  StatusResponse: {
    good: [{ canceledBuilds: [U1], unknownBuilds: [], leaseSeconds: 60, serverTime: T, active: true }],
    bad: [
      [
        { canceledBuilds: [], unknownBuilds: [], leaseSeconds: 0, serverTime: T, active: true },
        'leaseSeconds',
      ],
    ],
  },
  FetchBuildsRequest: {
    good: [
      { count: 4, systems: ['x86_64-linux', 'i686-linux'] },
      { count: 1, systems: ['x86_64-linux'], closures: 'own' },
    ],
    bad: [
      [{ count: 0, systems: ['x86_64-linux'] }, 'count'],
      [{ count: 1, systems: [] }, 'systems'],
      [{ count: 1, systems: ['x86_64-linux'], closures: 'all' }, 'closures'],
    ],
  },
  AllocatedBuild: {
    good: [
      {
        uuid: U1,
        attempt: U2,
        derivation: DRV,
        system: 'x86_64-linux',
        priority: 0,
        tags: [],
        timeoutSeconds: null,
        maxSilentTimeSeconds: 30,
        leaseExpiresAt: T,
      },
    ],
    bad: [[{ uuid: U1 }, 'attempt']],
  },
  FetchBuildsResponse: { good: [{ builds: [] }], bad: [[{ builds: [{ uuid: U1 }] }, 'builds.0']] },
  BuildClosure: {
    good: [
      { derivations: [DRV], inputs: [OUT] },
      { derivations: [DRV], inputs: [OUT], inputOutputs: [OUT] },
    ],
    bad: [
      [{ derivations: [OUT], inputs: [] }, 'derivations.0'],
      [{ derivations: [DRV], inputs: [], inputOutputs: [DRV.slice(1)] }, 'inputOutputs.0'],
    ],
  },
  SetupFailureRequest: {
    good: [{ reason: 'missing-inputs', missingInputs: [OUT] }],
    bad: [[{ reason: 'missing-inputs', missingInputs: [] }, 'missingInputs']],
  },
  BuildResultRequest: {
    good: [
      { result: 'success' },
      { result: 'build-failure', message: 'exit 1' },
      { result: 'timeout', limit: 'max-silent-time' },
      { result: 'infrastructure-failure', message: 'daemon died' },
      { result: 'canceled' },
    ],
    bad: [
      [{ result: 'timeout' }, 'limit'],
      [{ result: 'infrastructure-failure' }, 'message'],
      [{ result: 'maybe' }, 'result'],
    ],
  },
};
