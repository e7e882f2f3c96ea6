// Agent administration schemas of the client API: create, list, show, passwords (new, list, revoke), tags.
import { z } from 'zod';
import { attemptResultSchema } from './builds.js';
import { named } from './registry.js';
import {
  byteCountSchema,
  rowIdParamSchema,
  systemSchema,
  tagListSchema,
  textSchema,
  timestampSchema,
  uuidSchema,
} from './common.js';

/** The last status an agent reported. */
export const agentStatusSchema = named(
  'AgentStatus',
  z.object({
    reportedAt: timestampSchema,
    /** 1-minute load average. */
    load1: z.number().min(0),
    freeDiskBytes: byteCountSchema.nullable(),
    /** Builds the agent holds (allocated or running). */
    builds: z.array(uuidSchema),
  }),
);
/** The last status an agent reported. */
export type AgentStatus = z.infer<typeof agentStatusSchema>;

/** An agent as listed and shown. Passwords are never shown after creation. */
export const agentSchema = named(
  'Agent',
  z.object({
    uuid: uuidSchema,
    name: z.string(),
    description: z.string().nullable(),
    active: z.boolean(),
    tags: tagListSchema,
    /** Systems the agent builds, as it last declared them. */
    systems: z.array(systemSchema),
    createdAt: timestampSchema,
    status: agentStatusSchema.nullable(),
  }),
);
/** An agent as listed and shown. */
export type Agent = z.infer<typeof agentSchema>;

/** `GET /agents`. */
export const agentListSchema = named('AgentList', z.object({ agents: z.array(agentSchema) }));
/** `GET /agents`. */
export type AgentList = z.infer<typeof agentListSchema>;

/** `POST /agents`. */
export const createAgentRequestSchema = named(
  'CreateAgentRequest',
  z.object({
    name: textSchema(1, 255),
    description: textSchema(0, 4096).optional(),
    tags: tagListSchema.default([]),
    /** Create it with a password and return it (default true). */
    withPassword: z.boolean().default(true),
  }),
);
/** `POST /agents` as a client writes it. */
export type CreateAgentInput = z.input<typeof createAgentRequestSchema>;

/** The answer to `POST /agents`: the agent and, when asked for, its first password (shown once). */
export const createAgentResponseSchema = named(
  'CreateAgentResponse',
  z.object({ agent: agentSchema, password: z.string().nullable() }),
);
/** The answer to `POST /agents`. */
export type CreateAgentResponse = z.infer<typeof createAgentResponseSchema>;

/** `GET /agent/{uuid}`: the agent and its current allocation. */
/** A finished attempt as an agent's page lists it: which build, and how it ended. */
export const agentAttemptSchema = named(
  'AgentAttempt',
  z.object({
    /** The attempt's UUID. */
    uuid: uuidSchema,
    /** The build's UUID. */
    build: uuidSchema,
    derivation: z.string(),
    system: systemSchema,
    allocatedAt: timestampSchema,
    startedAt: timestampSchema.nullable(),
    endedAt: timestampSchema,
    result: attemptResultSchema.nullable(),
    failureReason: z.string().nullable(),
  }),
);
/** A finished attempt of an agent. */
export type AgentAttempt = z.infer<typeof agentAttemptSchema>;

/** How many finished attempts `GET /agent/{uuid}` lists. */
export const AGENT_RECENT_ATTEMPTS = 20;

export const agentDetailSchema = named(
  'AgentDetail',
  agentSchema.extend({
    allocatedBuilds: z.array(uuidSchema),
    startedBuilds: z.array(uuidSchema),
    /** Its most recent finished attempts (at most {@link AGENT_RECENT_ATTEMPTS}), newest first; none from an older coordinator. */
    recentAttempts: z.array(agentAttemptSchema).default([]),
  }),
);
/** `GET /agent/{uuid}`. */
export type AgentDetail = z.infer<typeof agentDetailSchema>;

/** `POST /agent/{uuid}/passwords`: a new password for the agent (shown once; earlier ones stay valid). */
export const newPasswordResponseSchema = named(
  'NewPasswordResponse',
  z.object({ password: z.string().min(16) }),
);
/** `POST /agent/{uuid}/passwords`. */
export type NewPasswordResponse = z.infer<typeof newPasswordResponseSchema>;

/** `PUT /agent/{uuid}/tags`: replace the agent's tags. */
export const setAgentTagsRequestSchema = named('SetAgentTagsRequest', z.object({ tags: tagListSchema }));
/** `PUT /agent/{uuid}/tags`. */
export type SetAgentTagsRequest = z.infer<typeof setAgentTagsRequestSchema>;

/** A password's id: `GET /agent/{uuid}/passwords` lists them, `DELETE /agent/{uuid}/password/{id}` revokes one. */
export const passwordIdSchema = rowIdParamSchema;

/** One of an agent's passwords as listed: never the password or its hash. */
export const agentPasswordSchema = named(
  'AgentPassword',
  z.object({
    id: z.number().int().min(1),
    createdAt: timestampSchema,
    /** Minted by a dynamic-auth session (`POST /agent/session`, at most 4 kept per agent) rather than by an operator. */
    session: z.boolean(),
  }),
);
/** One of an agent's passwords as listed. */
export type AgentPassword = z.infer<typeof agentPasswordSchema>;

/** `GET /agent/{uuid}/passwords`: the agent's passwords, oldest first. */
export const agentPasswordListSchema = named(
  'AgentPasswordList',
  z.object({ passwords: z.array(agentPasswordSchema) }),
);
/** `GET /agent/{uuid}/passwords`. */
export type AgentPasswordList = z.infer<typeof agentPasswordListSchema>;
