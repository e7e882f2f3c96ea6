// Client-port routes for submitting, listing, inspecting and canceling builds.
import { defineRoute } from './route.js';
import { derivationNameParams, storeNameParams, uuidParams } from './params.js';
import {
  buildDetailSchema, buildListSchema, buildLogQuerySchema, cancelBuildRequestSchema, cancelBuildsRequestSchema,
  cancelResponseSchema, listBuildsQuerySchema, submitBuildRequestSchema, submitBuildResponseSchema,
  updatePriorityRequestSchema, buildSchema,
} from '../schemas/builds.js';
import { whyResponseSchema } from '../schemas/why.js';
import {
  missingPathsRequestSchema, missingPathsResponseSchema, uploadDerivationsRequestSchema, uploadDerivationsResponseSchema,
} from '../schemas/derivations.js';
import { narUploadHeadersSchema, storedNarSchema } from '../schemas/uploads.js';

/** The client API's build routes. */
export const buildRoutes = {
  missingPaths: defineRoute({
    id: 'missingPaths', method: 'POST', path: '/derivations/missing', port: 'client', auth: 'client-write',
    summary: 'Which of these derivations and input sources the coordinator lacks',
    body: { kind: 'json', schema: missingPathsRequestSchema },
    response: { kind: 'json', status: 200, schema: missingPathsResponseSchema },
    errors: ['payload-too-large'],
  }),
  uploadDerivations: defineRoute({
    id: 'uploadDerivations', method: 'POST', path: '/derivations', port: 'client', auth: 'client-write',
    summary: 'Upload derivations (text in base64), dependencies first',
    body: { kind: 'json', schema: uploadDerivationsRequestSchema },
    response: { kind: 'json', status: 200, schema: uploadDerivationsResponseSchema },
    errors: ['unprocessable-derivation', 'missing-references', 'payload-too-large'],
  }),
  putDerivation: defineRoute({
    id: 'putDerivation', method: 'PUT', path: '/derivation/{name}', port: 'client', auth: 'client-write',
    summary: 'Upload one derivation as its raw text bytes',
    params: derivationNameParams,
    body: { kind: 'bytes', contentTypes: ['application/octet-stream', 'text/plain'], description: 'The exact bytes of the .drv file.' },
    response: { kind: 'json', status: 200, schema: uploadDerivationsResponseSchema },
    errors: ['unprocessable-derivation', 'missing-references', 'payload-too-large'],
  }),
  putSource: defineRoute({
    id: 'putSource', method: 'PUT', path: '/source/{name}', port: 'client', auth: 'client-write',
    summary: 'Upload an input source as a NAR; the store directory is the coordinator\'s',
    params: storeNameParams,
    body: {
      kind: 'bytes', contentTypes: ['application/x-nix-nar', 'application/octet-stream'], headers: narUploadHeadersSchema,
      description: 'The NAR, compressed as x-gbc-compression says; hash, size and references in the x-gbc-* headers.',
    },
    response: { kind: 'json', status: 200, schema: storedNarSchema },
    errors: ['hash-mismatch', 'size-mismatch', 'missing-references', 'payload-too-large', 'unsupported-media-type'],
  }),
  submitBuild: defineRoute({
    id: 'submitBuild', method: 'POST', path: '/builds', port: 'client', auth: 'client-write',
    summary: 'Create a build of a derivation: one uploaded, or one the coordinator fetches (with its closure of derivations) from its derivation substitute servers',
    body: { kind: 'json', schema: submitBuildRequestSchema },
    response: { kind: 'json', status: 200, schema: submitBuildResponseSchema },
    errors: ['unprocessable-derivation', 'not-found', 'payload-too-large', 'unavailable'],
  }),
  listBuilds: defineRoute({
    id: 'listBuilds', method: 'GET', path: '/builds', port: 'client', auth: 'client-read',
    summary: 'List builds, newest first, filtered and paged',
    query: listBuildsQuerySchema,
    response: { kind: 'json', status: 200, schema: buildListSchema },
    errors: [],
  }),
  getBuild: defineRoute({
    id: 'getBuild', method: 'GET', path: '/build/{uuid}', port: 'client', auth: 'client-read',
    summary: 'A build with its attempts, outputs and dependencies',
    params: uuidParams,
    response: { kind: 'json', status: 200, schema: buildDetailSchema },
    errors: ['not-found'],
  }),
  cancelBuild: defineRoute({
    id: 'cancelBuild', method: 'POST', path: '/build/{uuid}/cancel', port: 'client', auth: 'client-write',
    summary: 'Cancel a build; a started build is aborted on its agent',
    params: uuidParams,
    body: { kind: 'json', schema: cancelBuildRequestSchema },
    response: { kind: 'json', status: 200, schema: cancelResponseSchema },
    errors: ['not-found', 'conflict'],
  }),
  cancelBuilds: defineRoute({
    id: 'cancelBuilds', method: 'POST', path: '/builds/cancel', port: 'client', auth: 'client-write',
    summary: 'Cancel every unfinished build carrying all the given tags',
    body: { kind: 'json', schema: cancelBuildsRequestSchema },
    response: { kind: 'json', status: 200, schema: cancelResponseSchema },
    errors: [],
  }),
  updatePriority: defineRoute({
    id: 'updatePriority', method: 'POST', path: '/build/{uuid}/update-priority', port: 'client', auth: 'client-write',
    summary: 'Change the priority of an unfinished build',
    params: uuidParams,
    body: { kind: 'json', schema: updatePriorityRequestSchema },
    response: { kind: 'json', status: 200, schema: buildSchema },
    errors: ['not-found', 'conflict'],
  }),
  whyBuild: defineRoute({
    id: 'whyBuild', method: 'GET', path: '/build/{uuid}/why', port: 'client', auth: 'client-read',
    summary: 'Why a build is not running: pending or failed inputs, no agent, deferred, …',
    params: uuidParams,
    response: { kind: 'json', status: 200, schema: whyResponseSchema },
    errors: ['not-found'],
  }),
  buildLog: defineRoute({
    id: 'buildLog', method: 'GET', path: '/build/{uuid}/log', port: 'client', auth: 'client-read',
    summary: 'The log of an attempt (default the latest), uncompressed; with follow=true it streams until the attempt ends',
    params: uuidParams,
    query: buildLogQuerySchema,
    response: { kind: 'bytes', status: 200, contentType: 'text/plain; charset=utf-8', description: 'The build log.' },
    errors: ['not-found'],
  }),
  getDerivation: defineRoute({
    id: 'getDerivation', method: 'GET', path: '/derivation/{name}', port: 'client', auth: 'client-read',
    summary: 'The text of a derivation the coordinator holds',
    params: derivationNameParams,
    response: { kind: 'bytes', status: 200, contentType: 'application/octet-stream', description: 'The exact .drv bytes.' },
    errors: ['not-found'],
  }),
} as const;
