// Client-port routes for administering agents and their credentials.
import { defineRoute } from './route.js';
import { agentPasswordParams, dynamicAuthTokenIdParams, uuidParams } from './params.js';
import {
  agentDetailSchema, agentListSchema, agentPasswordListSchema, agentSchema, createAgentRequestSchema, createAgentResponseSchema,
  newPasswordResponseSchema, setAgentTagsRequestSchema,
} from '../schemas/agents.js';
import { dynamicAuthRevocationSchema, dynamicAuthTokenListSchema, dynamicAuthTokenSchema } from '../schemas/admin.js';

/** The client API's agent routes. */
export const agentAdminRoutes = {
  listAgents: defineRoute({
    id: 'listAgents', method: 'GET', path: '/agents', port: 'client', auth: 'client-read',
    summary: 'Every agent with its last status',
    response: { kind: 'json', status: 200, schema: agentListSchema },
    errors: [],
  }),
  createAgent: defineRoute({
    id: 'createAgent', method: 'POST', path: '/agents', port: 'client', auth: 'client-write',
    summary: 'Create an agent (and, by default, its first password)',
    body: { kind: 'json', schema: createAgentRequestSchema },
    response: { kind: 'json', status: 201, schema: createAgentResponseSchema },
    errors: ['conflict'],
  }),
  getAgent: defineRoute({
    id: 'getAgent', method: 'GET', path: '/agent/{uuid}', port: 'client', auth: 'client-read',
    summary: 'An agent, its status and the builds it holds',
    params: uuidParams,
    response: { kind: 'json', status: 200, schema: agentDetailSchema },
    errors: ['not-found'],
  }),
  newAgentPassword: defineRoute({
    id: 'newAgentPassword', method: 'POST', path: '/agent/{uuid}/passwords', port: 'client', auth: 'client-write',
    summary: 'A new password for an agent (shown once)',
    params: uuidParams,
    response: { kind: 'json', status: 201, schema: newPasswordResponseSchema },
    errors: ['not-found'],
  }),
  listAgentPasswords: defineRoute({
    id: 'listAgentPasswords', method: 'GET', path: '/agent/{uuid}/passwords', port: 'client', auth: 'client-write',
    summary: 'An agent\'s passwords: ids and dates, never the passwords or their hashes',
    params: uuidParams,
    response: { kind: 'json', status: 200, schema: agentPasswordListSchema },
    errors: ['not-found'],
  }),
  revokeAgentPassword: defineRoute({
    id: 'revokeAgentPassword', method: 'DELETE', path: '/agent/{uuid}/password/{id}', port: 'client', auth: 'client-write',
    summary: 'Revoke one of an agent\'s passwords; calls made with it are refused from now on',
    params: agentPasswordParams,
    response: { kind: 'empty', status: 204 },
    errors: ['not-found'],
  }),
  setAgentTags: defineRoute({
    id: 'setAgentTags', method: 'PUT', path: '/agent/{uuid}/tags', port: 'client', auth: 'client-write',
    summary: 'Replace an agent\'s tags',
    params: uuidParams,
    body: { kind: 'json', schema: setAgentTagsRequestSchema },
    response: { kind: 'json', status: 200, schema: agentSchema },
    errors: ['not-found'],
  }),
  activateAgent: defineRoute({
    id: 'activateAgent', method: 'POST', path: '/agent/{uuid}/activate', port: 'client', auth: 'client-write',
    summary: 'Let an agent fetch builds again',
    params: uuidParams,
    response: { kind: 'json', status: 200, schema: agentSchema },
    errors: ['not-found'],
  }),
  deactivateAgent: defineRoute({
    id: 'deactivateAgent', method: 'POST', path: '/agent/{uuid}/deactivate', port: 'client', auth: 'client-write',
    summary: 'Stop allocating to an agent and release its unstarted builds',
    params: uuidParams,
    response: { kind: 'json', status: 200, schema: agentSchema },
    errors: ['not-found'],
  }),
  createDynamicAuthToken: defineRoute({
    id: 'createDynamicAuthToken', method: 'POST', path: '/dynamic-auth-tokens', port: 'client', auth: 'client-write',
    summary: 'A token that agents exchange for credentials, creating themselves on first use',
    response: { kind: 'json', status: 201, schema: dynamicAuthTokenSchema },
    errors: [],
  }),
  listDynamicAuthTokens: defineRoute({
    id: 'listDynamicAuthTokens', method: 'GET', path: '/dynamic-auth-tokens', port: 'client', auth: 'client-write',
    summary: 'Dynamic-auth tokens with the agents each created (never the tokens)',
    response: { kind: 'json', status: 200, schema: dynamicAuthTokenListSchema },
    errors: [],
  }),
  revokeDynamicAuthToken: defineRoute({
    id: 'revokeDynamicAuthToken', method: 'DELETE', path: '/dynamic-auth-token/{id}', port: 'client', auth: 'client-write',
    summary: 'Revoke a dynamic-auth token and end the sessions it opened',
    description: 'The token opens no more sessions; the session passwords it minted for the agents it created are deleted at once. The agents and their operators\' passwords stay.',
    params: dynamicAuthTokenIdParams,
    response: { kind: 'json', status: 200, schema: dynamicAuthRevocationSchema },
    errors: ['not-found'],
  }),
} as const;
