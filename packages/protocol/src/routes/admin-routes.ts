// Client-port operator routes: allocation plan, hooks, live events, client tokens, retention, OpenAPI.
import { z } from 'zod';
import { defineRoute } from './route.js';
import { tokenIdParams } from './params.js';
import {
  allocationPlanQuerySchema,
  allocationPlanSchema,
  clientTokenListSchema,
  createClientTokenRequestSchema,
  createdClientTokenSchema,
  hookStatusQuerySchema,
  hookStatusSchema,
  retentionReportSchema,
  retentionRunRequestSchema,
} from '../schemas/admin.js';
import { eventSchema, eventsQuerySchema } from '../schemas/events.js';

/** The client API's operator routes. */
export const adminRoutes = {
  allocationPlan: defineRoute({
    id: 'allocationPlan',
    method: 'GET',
    path: '/allocation-plan',
    port: 'client',
    auth: 'client-read',
    summary: 'What each active agent would receive next',
    query: allocationPlanQuerySchema,
    response: { kind: 'json', status: 200, schema: allocationPlanSchema },
    errors: [],
  }),
  hookStatus: defineRoute({
    id: 'hookStatus',
    method: 'GET',
    path: '/hooks',
    port: 'client',
    auth: 'client-read',
    summary: 'The hook queue per event type, and the events whose hooks are failing',
    query: hookStatusQuerySchema,
    response: { kind: 'json', status: 200, schema: hookStatusSchema },
    errors: [],
  }),
  events: defineRoute({
    id: 'events',
    method: 'GET',
    path: '/events',
    port: 'client',
    auth: 'client-read',
    summary: 'Live build and agent events (server-sent events), resumable with Last-Event-ID',
    description:
      'Each message has `id:` (decimal sequence number), `event:` (the event type) and `data:` (the Event as JSON). ' +
      'Send `Last-Event-ID` to receive every event after that id. Comment lines (`: keep-alive`) arrive every 15 s.',
    query: eventsQuerySchema,
    response: { kind: 'sse', status: 200, event: eventSchema, description: 'text/event-stream of Event' },
    errors: [],
  }),
  createClientToken: defineRoute({
    id: 'createClientToken',
    method: 'POST',
    path: '/client-tokens',
    port: 'client',
    auth: 'client-write',
    summary: 'Create a bearer token for the client API (secret shown once)',
    body: { kind: 'json', schema: createClientTokenRequestSchema },
    response: { kind: 'json', status: 201, schema: createdClientTokenSchema },
    errors: [],
  }),
  listClientTokens: defineRoute({
    id: 'listClientTokens',
    method: 'GET',
    path: '/client-tokens',
    port: 'client',
    auth: 'client-write',
    summary: 'Client tokens (never their secrets)',
    response: { kind: 'json', status: 200, schema: clientTokenListSchema },
    errors: [],
  }),
  revokeClientToken: defineRoute({
    id: 'revokeClientToken',
    method: 'DELETE',
    path: '/client-token/{id}',
    port: 'client',
    auth: 'client-write',
    summary: 'Revoke a client token',
    params: tokenIdParams,
    response: { kind: 'empty', status: 204 },
    errors: ['not-found'],
  }),
  runRetention: defineRoute({
    id: 'runRetention',
    method: 'POST',
    path: '/retention/run',
    port: 'client',
    auth: 'client-write',
    summary: 'Apply the retention policy to stored NARs and logs now',
    body: { kind: 'json', schema: retentionRunRequestSchema },
    response: { kind: 'json', status: 200, schema: retentionReportSchema },
    errors: [],
  }),
  openApi: defineRoute({
    id: 'openApi',
    method: 'GET',
    path: '/openapi.json',
    port: 'client',
    auth: 'none',
    summary: 'This API as an OpenAPI 3.1 document',
    response: { kind: 'json', status: 200, schema: z.record(z.string(), z.unknown()) },
    errors: [],
  }),
} as const;
