// Agent API schemas: session, status reports, fetch-builds, start, setup failure, result.
import { z } from 'zod';
import { named } from './registry.js';
import {
  byteCountSchema,
  derivationPathSchema,
  MAX_SYSTEMS,
  prioritySchema,
  storePathSchema,
  systemSchema,
  tagListSchema,
  textSchema,
  timestampSchema,
  uuidSchema,
} from './common.js';
import { base64Schema } from './derivations.js';

/** `POST /agent/session`: exchange a dynamic-auth token for agent credentials; creates the agent named `name` on first use. */
export const agentSessionRequestSchema = named(
  'AgentSessionRequest',
  z.object({
    name: textSchema(1, 255),
    token: z.string().min(16).max(1024),
    description: textSchema(0, 4096).optional(),
  }),
);
/** `POST /agent/session`. */
export type AgentSessionRequest = z.infer<typeof agentSessionRequestSchema>;

/** The answer to `POST /agent/session`: Basic-auth credentials for the rest of the agent API. */
export const agentSessionResponseSchema = named(
  'AgentSessionResponse',
  z.object({ agent: uuidSchema, password: z.string().min(16), created: z.boolean() }),
);
/** The answer to `POST /agent/session`. */
export type AgentSessionResponse = z.infer<typeof agentSessionResponseSchema>;

/** `PUT /agent/{uuid}/status`: what the agent is doing. Each report renews the leases of the builds it lists. */
export const statusReportSchema = named(
  'StatusReport',
  z.object({
    /** 1-minute load average. */
    load1: z.number().min(0),
    freeDiskBytes: byteCountSchema.optional(),
    /** Every build the agent holds: allocated, setting up, building or uploading. */
    builds: z.array(uuidSchema).max(10000),
    /** The systems the agent builds (updates the agent's record). */
    systems: z.array(systemSchema).max(MAX_SYSTEMS).optional(),
    /** Set while the agent is shutting down: it fetches nothing more. */
    draining: z.boolean().default(false),
  }),
);
/** `PUT /agent/{uuid}/status` as an agent writes it. */
export type StatusReportInput = z.input<typeof statusReportSchema>;
/** `PUT /agent/{uuid}/status` after validation. */
export type StatusReport = z.infer<typeof statusReportSchema>;

/** The answer to a status report. */
export const statusResponseSchema = named(
  'StatusResponse',
  z.object({
    /** Builds listed by the agent that were canceled: abort them, upload nothing, report result `canceled`. */
    canceledBuilds: z.array(uuidSchema),
    /** Builds listed by the agent that it no longer holds (lease expired, reallocated): drop them. */
    unknownBuilds: z.array(uuidSchema),
    /** How long the leases last from now, in seconds: report again well before. */
    leaseSeconds: z.number().int().positive(),
    serverTime: timestampSchema,
    /** False when an operator deactivated the agent: fetch nothing more. */
    active: z.boolean(),
  }),
);
/** The answer to a status report. */
export type StatusResponse = z.infer<typeof statusResponseSchema>;

/**
 * `GET /build/{uuid}/closure?derivations=`: `all` (the default) names every
 * derivation of the closure and every input their addition needs (an agent
 * building through the .drv adds them all); `own` only the build's own
 * derivation and the inputs its build uses, which is all a daemon's
 * BuildDerivation needs (no walk of the closure, however deep).
 */
export const buildClosureQuerySchema = z.object({
  derivations: z.enum(['all', 'own']).default('all'),
});

/** `GET /build/{uuid}/closure`: the derivations to add to the agent's store (dependencies first) and the input sources to fetch. */
export const buildClosureSchema = named(
  'BuildClosure',
  z.object({
    derivations: z.array(derivationPathSchema),
    /** Input sources and input-derivation outputs the build needs, to fetch from the cache if absent. */
    inputs: z.array(storePathSchema),
    /**
     * The outputs of the build's own input derivations that it uses (a subset
     * of `inputs`): with the derivation's input sources, what a daemon's
     * BuildDerivation needs. Absent from coordinators before it was added.
     */
    inputOutputs: z.array(storePathSchema).optional(),
    /**
     * The exact bytes (base64) of the build's own derivation, which an agent
     * lacks unless it built it before: a request less per build. Absent from
     * coordinators before it was added.
     */
    text: base64Schema.optional(),
  }),
);
/** `GET /build/{uuid}/closure`. */
export type BuildClosure = z.infer<typeof buildClosureSchema>;

/** `POST /agent/{uuid}/fetch-builds`: ask for up to `count` builds of the given systems. */
export const fetchBuildsRequestSchema = named(
  'FetchBuildsRequest',
  z.object({
    count: z.number().int().min(1).max(1000),
    systems: z.array(systemSchema).min(1).max(MAX_SYSTEMS),
    /**
     * `own`: each allocated build carries its `closure` as
     * `GET /build/{uuid}/closure?derivations=own` answers it (for an agent
     * building with BuildDerivation: a request less per build). Default `none`.
     */
    closures: z.enum(['none', 'own']).default('none'),
  }),
);
/** `POST /agent/{uuid}/fetch-builds`. */
export type FetchBuildsRequest = z.infer<typeof fetchBuildsRequestSchema>;
/** `POST /agent/{uuid}/fetch-builds` as a client writes it (`closures` may be left out). */
export type FetchBuildsRequestInput = z.input<typeof fetchBuildsRequestSchema>;

/** A build allocated to the agent, with what it needs to set it up and run it. */
export const allocatedBuildSchema = named(
  'AllocatedBuild',
  z.object({
    uuid: uuidSchema,
    /** The attempt this allocation opened. */
    attempt: uuidSchema,
    derivation: derivationPathSchema,
    system: systemSchema,
    priority: prioritySchema,
    tags: tagListSchema,
    timeoutSeconds: z.number().int().positive().nullable(),
    maxSilentTimeSeconds: z.number().int().positive().nullable(),
    leaseExpiresAt: timestampSchema,
    /** Present when the fetch asked for `closures: 'own'`. */
    closure: buildClosureSchema.optional(),
  }),
);
/** A build allocated to the agent. */
export type AllocatedBuild = z.infer<typeof allocatedBuildSchema>;

/** The answer to fetch-builds: the builds allocated now (maybe fewer than asked, maybe none). */
export const fetchBuildsResponseSchema = named(
  'FetchBuildsResponse',
  z.object({ builds: z.array(allocatedBuildSchema) }),
);
/** The answer to fetch-builds. */
export type FetchBuildsResponse = z.infer<typeof fetchBuildsResponseSchema>;

/** `POST /build/{uuid}/report-setup-failure`: inputs could not be had. */
export const setupFailureRequestSchema = named(
  'SetupFailureRequest',
  z.object({
    reason: z.literal('missing-inputs'),
    missingInputs: z.array(storePathSchema).min(1).max(100_000),
  }),
);
/** `POST /build/{uuid}/report-setup-failure`. */
export type SetupFailureRequest = z.infer<typeof setupFailureRequestSchema>;

/** `POST /build/{uuid}/report-result`: how the attempt ended. Success is accepted only once every output is uploaded and verified. */
export const buildResultRequestSchema = named(
  'BuildResultRequest',
  z.discriminatedUnion('result', [
    z.object({ result: z.literal('success') }),
    z.object({ result: z.literal('build-failure'), message: z.string().max(65536).optional() }),
    z.object({
      result: z.literal('timeout'),
      limit: z.enum(['timeout', 'max-silent-time']),
      message: z.string().max(65536).optional(),
    }),
    z.object({ result: z.literal('infrastructure-failure'), message: z.string().max(65536) }),
    z.object({ result: z.literal('canceled') }),
  ]),
);
/** `POST /build/{uuid}/report-result`. */
export type BuildResultRequest = z.infer<typeof buildResultRequestSchema>;
