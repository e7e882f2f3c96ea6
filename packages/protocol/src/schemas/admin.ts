// Operator schemas: dynamic-auth tokens, client tokens, allocation plan, retention.
import { z } from 'zod';
import { named } from './registry.js';
import {
  byteCountSchema,
  rowIdParamSchema,
  limitQuerySchema,
  textSchema,
  timestampSchema,
  uuidSchema,
} from './common.js';

/** A dynamic-auth token's id: `GET /dynamic-auth-tokens` lists them, `DELETE /dynamic-auth-token/{id}` revokes one. */
export const dynamicAuthTokenIdSchema = rowIdParamSchema;

/** `POST /dynamic-auth-tokens`: a token agents exchange for credentials (`POST /agent/session`), shown once, and its id. */
export const dynamicAuthTokenSchema = named(
  'DynamicAuthToken',
  z.object({ token: z.string().min(16), id: z.number().int().min(1).optional() }),
);
/** `POST /dynamic-auth-tokens`. */
export type DynamicAuthToken = z.infer<typeof dynamicAuthTokenSchema>;

/** A dynamic-auth token as listed: never the token or its hash. */
export const dynamicAuthTokenInfoSchema = named(
  'DynamicAuthTokenInfo',
  z.object({
    id: z.number().int().min(1),
    createdAt: timestampSchema,
    revokedAt: timestampSchema.nullable(),
    /** The agents the token created (the only ones it may resume). */
    agents: z.array(uuidSchema),
  }),
);
/** A dynamic-auth token as listed. */
export type DynamicAuthTokenInfo = z.infer<typeof dynamicAuthTokenInfoSchema>;

/** `GET /dynamic-auth-tokens`: every token, oldest first. */
export const dynamicAuthTokenListSchema = named(
  'DynamicAuthTokenList',
  z.object({ tokens: z.array(dynamicAuthTokenInfoSchema) }),
);
/** `GET /dynamic-auth-tokens`. */
export type DynamicAuthTokenList = z.infer<typeof dynamicAuthTokenListSchema>;

/**
 * The answer to `DELETE /dynamic-auth-token/{id}`: the token no longer opens
 * sessions, and the session passwords it minted for the agents it created are
 * gone (their operators' passwords stay).
 */
export const dynamicAuthRevocationSchema = named(
  'DynamicAuthRevocation',
  z.object({ agents: z.array(uuidSchema), sessionPasswords: z.number().int().min(0) }),
);
/** The answer to `DELETE /dynamic-auth-token/{id}`. */
export type DynamicAuthRevocation = z.infer<typeof dynamicAuthRevocationSchema>;

/** A client token's scope: read-only routes, or every route. */
export const tokenScopeSchema = named('TokenScope', z.enum(['read', 'read-write']));
/** A client token's scope. */
export type TokenScope = z.infer<typeof tokenScopeSchema>;

/** `POST /client-tokens`. */
export const createClientTokenRequestSchema = named(
  'CreateClientTokenRequest',
  z.object({ name: textSchema(1, 255), scope: tokenScopeSchema }),
);
/** `POST /client-tokens`. */
export type CreateClientTokenRequest = z.infer<typeof createClientTokenRequestSchema>;

/** A client token as listed (never its secret). */
export const clientTokenSchema = named(
  'ClientToken',
  z.object({
    id: uuidSchema,
    name: z.string(),
    scope: tokenScopeSchema,
    createdAt: timestampSchema,
    lastUsedAt: timestampSchema.nullable(),
  }),
);
/** A client token as listed. */
export type ClientToken = z.infer<typeof clientTokenSchema>;

/** The answer to `POST /client-tokens`: the token and its secret (shown once; send as `Authorization: Bearer <secret>`). */
export const createdClientTokenSchema = named(
  'CreatedClientToken',
  z.object({ token: clientTokenSchema, secret: z.string().min(16) }),
);
/** The answer to `POST /client-tokens`. */
export type CreatedClientToken = z.infer<typeof createdClientTokenSchema>;

/** `GET /client-tokens`. */
export const clientTokenListSchema = named(
  'ClientTokenList',
  z.object({ tokens: z.array(clientTokenSchema) }),
);
/** `GET /client-tokens`. */
export type ClientTokenList = z.infer<typeof clientTokenListSchema>;

/** Query of `GET /allocation-plan`: one agent only, and how many builds per agent to show. */
export const allocationPlanQuerySchema = z.object({ agent: uuidSchema.optional(), limit: limitQuerySchema });

/** `GET /allocation-plan`: what each active agent would receive next, in order. */
export const allocationPlanSchema = named(
  'AllocationPlan',
  z.object({
    strategy: z.string(),
    generatedAt: timestampSchema,
    agents: z.array(z.object({ agent: uuidSchema, builds: z.array(uuidSchema) })),
    /** Ready builds no active agent can take. */
    unallocatable: z.number().int().min(0),
  }),
);
/** `GET /allocation-plan`. */
export type AllocationPlan = z.infer<typeof allocationPlanSchema>;

/** `POST /retention/run`: apply the configured retention policy now (or only report what it would remove). */
export const retentionRunRequestSchema = named(
  'RetentionRunRequest',
  z.object({ dryRun: z.boolean().default(false) }),
);
/** `POST /retention/run`. */
export type RetentionRunRequest = z.infer<typeof retentionRunRequestSchema>;

/** The answer to a retention run. */
export const retentionReportSchema = named(
  'RetentionReport',
  z.object({
    dryRun: z.boolean(),
    removedNars: z.number().int().min(0),
    removedLogs: z.number().int().min(0),
    freedBytes: byteCountSchema,
    keptBytes: byteCountSchema,
  }),
);
/** The answer to a retention run. */
export type RetentionReport = z.infer<typeof retentionReportSchema>;

/** Query of `GET /hooks`: how many failing events to list. */
export const hookStatusQuerySchema = z.object({ limit: limitQuerySchema });

/** `GET /hooks`: the hook queue per event type and the events whose last run failed (they will be tried again). */
export const hookStatusSchema = named(
  'HookStatus',
  z.object({
    /** Events not yet done, per event type (types with none are left out). */
    queue: z.array(z.object({ eventType: z.string(), pending: z.number().int().min(0) })),
    /** Failing events, oldest first. */
    failing: z.array(
      z.object({
        id: z.number().int(),
        eventType: z.string(),
        /** The build the event is about, as its payload names it. */
        build: z.string().nullable(),
        attempts: z.number().int().min(0),
        lastError: z.string(),
        nextAttemptAt: timestampSchema,
        createdAt: timestampSchema,
      }),
    ),
  }),
);
/** `GET /hooks`. */
export type HookStatus = z.infer<typeof hookStatusSchema>;
