// Agent-port routes: session, status, fetch-builds, set-up, start, log, outputs, result, metrics.
import { defineRoute } from './route.js';
import { derivationNameParams, outputParams, uuidParams } from './params.js';
import {
  agentSessionRequestSchema, agentSessionResponseSchema, buildClosureQuerySchema, buildClosureSchema, buildResultRequestSchema,
  fetchBuildsRequestSchema, fetchBuildsResponseSchema, setupFailureRequestSchema, statusReportSchema, statusResponseSchema,
} from '../schemas/agent-work.js';
import {
  logUploadProgressSchema, logUploadQuerySchema, narUploadHeadersSchema, storedNarSchema, uploadProgressSchema, uploadQuerySchema,
} from '../schemas/uploads.js';

/** The agent API. `{uuid}` under `/agent/` is the calling agent's own id; under `/build/` a build it holds. */
export const agentRoutes = {
  agentSession: defineRoute({
    id: 'agentSession', method: 'POST', path: '/agent/session', port: 'agent', auth: 'none',
    summary: 'Exchange a dynamic-auth token for agent credentials, creating the agent on first use',
    body: { kind: 'json', schema: agentSessionRequestSchema },
    response: { kind: 'json', status: 200, schema: agentSessionResponseSchema },
    errors: ['unauthorized'],
  }),
  reportStatus: defineRoute({
    id: 'reportStatus', method: 'PUT', path: '/agent/{uuid}/status', port: 'agent', auth: 'agent',
    summary: 'Report load, free disk and builds in hand; renews leases; answers which builds were canceled',
    params: uuidParams,
    body: { kind: 'json', schema: statusReportSchema },
    response: { kind: 'json', status: 200, schema: statusResponseSchema },
    errors: ['not-found'],
  }),
  fetchBuilds: defineRoute({
    id: 'fetchBuilds', method: 'POST', path: '/agent/{uuid}/fetch-builds', port: 'agent', auth: 'agent',
    summary: 'Allocate up to `count` ready builds of the given systems to this agent',
    params: uuidParams,
    body: { kind: 'json', schema: fetchBuildsRequestSchema },
    response: { kind: 'json', status: 200, schema: fetchBuildsResponseSchema },
    errors: ['not-found'],
  }),
  buildClosure: defineRoute({
    id: 'buildClosure', method: 'GET', path: '/build/{uuid}/closure', port: 'agent', auth: 'agent',
    summary: 'The derivations to add (dependencies first) and the inputs to fetch for a build',
    params: uuidParams,
    query: buildClosureQuerySchema,
    response: { kind: 'json', status: 200, schema: buildClosureSchema },
    errors: ['not-found'],
  }),
  derivationText: defineRoute({
    id: 'derivationText', method: 'GET', path: '/derivation/{name}', port: 'agent', auth: 'agent',
    summary: 'The text of a derivation',
    params: derivationNameParams,
    response: { kind: 'bytes', status: 200, contentType: 'application/octet-stream', description: 'The exact .drv bytes.' },
    errors: ['not-found'],
  }),
  reportBuildStart: defineRoute({
    id: 'reportBuildStart', method: 'POST', path: '/build/{uuid}/report-build-start', port: 'agent', auth: 'agent',
    summary: 'The build was set up and handed to the daemon',
    params: uuidParams,
    response: { kind: 'empty', status: 204 },
    errors: ['not-found', 'conflict'],
  }),
  reportSetupFailure: defineRoute({
    id: 'reportSetupFailure', method: 'POST', path: '/build/{uuid}/report-setup-failure', port: 'agent', auth: 'agent',
    summary: 'Inputs could not be had: the attempt ends as a setup failure listing them',
    params: uuidParams,
    body: { kind: 'json', schema: setupFailureRequestSchema },
    response: { kind: 'empty', status: 204 },
    errors: ['not-found', 'conflict'],
  }),
  uploadLog: defineRoute({
    id: 'uploadLog', method: 'PUT', path: '/build/{uuid}/log', port: 'agent', auth: 'agent',
    summary: 'Stream the build log while the build runs; the coordinator appends; ?offset= resends idempotently',
    params: uuidParams,
    query: logUploadQuerySchema,
    body: {
      kind: 'bytes', contentTypes: ['text/plain', 'application/octet-stream'],
      description: 'The log bytes, uncompressed, as the daemon wrote them; from byte `offset` of the log when given (bytes already held are skipped).',
    },
    response: { kind: 'empty', status: 204 },
    errors: ['not-found', 'conflict', 'payload-too-large', 'range-not-satisfiable'],
  }),
  logUploadProgress: defineRoute({
    id: 'logUploadProgress', method: 'GET', path: '/build/{uuid}/log-progress', port: 'agent', auth: 'agent',
    summary: 'How many bytes of the held attempt\'s log the coordinator holds, and whether it is sealed',
    params: uuidParams,
    response: { kind: 'json', status: 200, schema: logUploadProgressSchema },
    errors: ['not-found', 'conflict'],
  }),
  uploadOutput: defineRoute({
    id: 'uploadOutput', method: 'PUT', path: '/build/{uuid}/output/{name}', port: 'agent', auth: 'agent',
    summary: 'Stream an output NAR; refused unless hash and size match; ?offset= resumes',
    params: outputParams,
    query: uploadQuerySchema,
    body: {
      kind: 'bytes', contentTypes: ['application/x-nix-nar', 'application/octet-stream'], headers: narUploadHeadersSchema,
      description: 'The NAR compressed as x-gbc-compression says, from byte `offset` of that compressed stream.',
    },
    response: { kind: 'json', status: 200, schema: storedNarSchema },
    errors: ['not-found', 'conflict', 'hash-mismatch', 'size-mismatch', 'range-not-satisfiable', 'payload-too-large', 'unsupported-media-type', 'missing-references', 'upload-in-progress'],
  }),
  outputUploadProgress: defineRoute({
    id: 'outputUploadProgress', method: 'GET', path: '/build/{uuid}/output/{name}/progress', port: 'agent', auth: 'agent',
    summary: 'How many bytes of an interrupted output upload the coordinator holds',
    params: outputParams,
    response: { kind: 'json', status: 200, schema: uploadProgressSchema },
    errors: ['not-found'],
  }),
  reportResult: defineRoute({
    id: 'reportResult', method: 'POST', path: '/build/{uuid}/report-result', port: 'agent', auth: 'agent',
    summary: 'How the attempt ended; success only after every output is uploaded',
    params: uuidParams,
    body: { kind: 'json', schema: buildResultRequestSchema },
    response: { kind: 'empty', status: 204 },
    errors: ['not-found', 'conflict'],
  }),
  metrics: defineRoute({
    id: 'metrics', method: 'GET', path: '/metrics', port: 'agent', auth: 'none',
    summary: 'Prometheus metrics (names prefixed gbc_)',
    description: 'Served on the agent port, or, when the coordinator has a metrics address (`--metrics-communication`), only there. Its gauges name every agent (UUID and name).',
    response: { kind: 'bytes', status: 200, contentType: 'text/plain; version=0.0.4; charset=utf-8', description: 'Prometheus text format.' },
    errors: [],
  }),
} as const;
