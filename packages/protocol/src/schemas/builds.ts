// Build schemas of the client API: submission, listing, details, cancel, priority.
import { z } from 'zod';
import { named } from './registry.js';
import {
  booleanQuerySchema,
  derivationPathSchema,
  limitQuerySchema,
  priorityQuerySchema,
  prioritySchema,
  repeated,
  storePathSchema,
  systemSchema,
  tagFilterSchema,
  tagListSchema,
  timestampSchema,
  uuidSchema,
} from './common.js';

/** The state of a build. `queued` builds may be waiting for inputs; see `GET /build/{uuid}/why`. */
export const buildStateSchema = named(
  'BuildState',
  z.enum(['queued', 'allocated', 'started', 'succeeded', 'failed', 'canceled']),
);
/** The state of a build. */
export type BuildState = z.infer<typeof buildStateSchema>;

/** How an attempt ended. `build` failures are the builder's; `setup` means missing inputs; `infrastructure` means the agent, upload or daemon broke. */
export const attemptResultSchema = named(
  'AttemptResult',
  z.enum(['success', 'build-failure', 'setup-failure', 'infrastructure-failure', 'timeout', 'canceled']),
);
/** How an attempt ended. */
export type AttemptResult = z.infer<typeof attemptResultSchema>;

/** Options and derivation of `POST /builds`. The derivation (and its closure) must have been uploaded or be already known. */
export const submitBuildRequestSchema = named(
  'SubmitBuildRequest',
  z.object({
    derivation: derivationPathSchema,
    /** Higher runs first. Default 0. */
    priority: prioritySchema.default(0),
    tags: tagListSchema.default([]),
    /** Do not create a build if any build (in any state but canceled) exists for this derivation. */
    ignoreIfBuildForDerivationExists: z.boolean().default(false),
    /** Do not create a build if a build exists for a derivation with the same output paths. */
    ignoreIfBuildForOutputsExists: z.boolean().default(false),
    /** Submit builds for input derivations whose outputs have no successful build and are not otherwise available. */
    ensureAllRelatedDerivationOutputsHaveSuccessfulBuilds: z.boolean().default(false),
    /** Do not allocate before this time. */
    deferUntil: timestampSchema.optional(),
    /** Wall-clock limit for the build, in seconds (daemon's `timeout`). Default: the coordinator's. */
    timeoutSeconds: z.number().int().positive().optional(),
    /** Limit on time without log output, in seconds (daemon's `max-silent-time`). Default: the coordinator's. */
    maxSilentTimeSeconds: z.number().int().positive().optional(),
  }),
);
/** The body of `POST /builds` as a client writes it (defaults may be omitted). */
export type SubmitBuildInput = z.input<typeof submitBuildRequestSchema>;
/** The body of `POST /builds` after validation. */
export type SubmitBuildRequest = z.infer<typeof submitBuildRequestSchema>;

/** The answer to `POST /builds`: the build created, or the existing one that made the coordinator skip it. */
export const submitBuildResponseSchema = named(
  'SubmitBuildResponse',
  z.object({
    uuid: uuidSchema,
    created: z.boolean(),
    /** Why no build was created, when `created` is false. */
    reason: z.enum(['build-for-derivation-exists', 'build-for-outputs-exists']).optional(),
    /** Builds submitted for related derivations (with `ensureAllRelatedDerivationOutputsHaveSuccessfulBuilds`). */
    relatedBuilds: z.array(uuidSchema).default([]),
  }),
);
/** The answer to `POST /builds`. */
export type SubmitBuildResponse = z.infer<typeof submitBuildResponseSchema>;

/** A build as listed and shown. */
export const buildSchema = named(
  'Build',
  z.object({
    uuid: uuidSchema,
    derivation: derivationPathSchema,
    system: systemSchema,
    priority: prioritySchema,
    state: buildStateSchema,
    tags: tagListSchema,
    createdAt: timestampSchema,
    deferUntil: timestampSchema.nullable(),
    endedAt: timestampSchema.nullable(),
    timeoutSeconds: z.number().int().positive().nullable(),
    maxSilentTimeSeconds: z.number().int().positive().nullable(),
    /** The agent holding it, when allocated or started. */
    agent: uuidSchema.nullable(),
    /** True when a dependency's build failed and this build cannot run until it succeeds. */
    blockedByFailedDependency: z.boolean(),
  }),
);
/** A build as listed and shown. */
export type Build = z.infer<typeof buildSchema>;

/** One attempt at a build: one allocation to one agent, with its own log. */
export const attemptSchema = named(
  'Attempt',
  z.object({
    uuid: uuidSchema,
    agent: uuidSchema,
    allocatedAt: timestampSchema,
    startedAt: timestampSchema.nullable(),
    endedAt: timestampSchema.nullable(),
    result: attemptResultSchema.nullable(),
    failureReason: z.string().nullable(),
    /** Store paths reported missing by a setup failure. */
    missingInputs: z.array(storePathSchema),
    hasLog: z.boolean(),
  }),
);
/** One attempt at a build. */
export type Attempt = z.infer<typeof attemptSchema>;

/** An output of a built derivation and, once uploaded, its NAR metadata. */
export const buildOutputSchema = named(
  'BuildOutput',
  z.object({
    name: z.string().min(1),
    path: storePathSchema,
    narHash: z.string().nullable(),
    narSize: z.number().int().min(0).nullable(),
    references: z.array(storePathSchema),
  }),
);
/** An output of a built derivation. */
export type BuildOutput = z.infer<typeof buildOutputSchema>;

/** `GET /build/{uuid}`: the build, its attempts, its outputs and the builds it waits for. */
export const buildDetailSchema = named(
  'BuildDetail',
  buildSchema.extend({
    attempts: z.array(attemptSchema),
    outputs: z.array(buildOutputSchema),
    /** Builds of input derivations this build waits for (not yet succeeded). */
    waitingFor: z.array(uuidSchema),
    /** Failed builds of input derivations that block this one. */
    blockedBy: z.array(uuidSchema),
  }),
);
/** `GET /build/{uuid}`. */
export type BuildDetail = z.infer<typeof buildDetailSchema>;

/** Query of `GET /builds`. Filters combine with AND; `tag` may repeat (`tag=k=v&tag=k2=v2`). Ordered newest first. */
export const listBuildsQuerySchema = z.object({
  state: repeated(buildStateSchema),
  system: systemSchema.optional(),
  derivation: derivationPathSchema.optional(),
  agent: uuidSchema.optional(),
  tag: repeated(tagFilterSchema),
  createdAfter: timestampSchema.optional(),
  createdBefore: timestampSchema.optional(),
  /** Priority at least this. */
  priorityMin: priorityQuerySchema.optional(),
  /** Priority at most this. */
  priorityMax: priorityQuerySchema.optional(),
  limit: limitQuerySchema,
  /** An opaque cursor from a previous page's `nextCursor`. */
  cursor: z.string().max(512).optional(),
  blocked: booleanQuerySchema.optional(),
});
/** Query of `GET /builds` as a client writes it. */
export type ListBuildsQueryInput = z.input<typeof listBuildsQuerySchema>;
/** Query of `GET /builds` after validation. */
export type ListBuildsQuery = z.infer<typeof listBuildsQuerySchema>;

/** `GET /builds`: one page. `nextCursor` is null on the last page. */
export const buildListSchema = named(
  'BuildList',
  z.object({ builds: z.array(buildSchema), nextCursor: z.string().nullable() }),
);
/** `GET /builds`. */
export type BuildList = z.infer<typeof buildListSchema>;

/** `POST /build/{uuid}/cancel`. A started build is aborted on its agent. */
export const cancelBuildRequestSchema = named(
  'CancelBuildRequest',
  z.object({
    /** Answer 200 instead of 409 when the build has already ended. */
    ignoreIfFinished: z.boolean().default(false),
  }),
);
/** `POST /build/{uuid}/cancel`. */
export type CancelBuildRequest = z.infer<typeof cancelBuildRequestSchema>;

/** `POST /builds/cancel`: cancel every unfinished build carrying all the given tags. */
export const cancelBuildsRequestSchema = named(
  'CancelBuildsRequest',
  z.object({
    tags: tagListSchema.refine((t) => t.length > 0, 'at least one tag is required'),
    /** Which states to cancel; default all unfinished ones. */
    states: z.array(z.enum(['queued', 'allocated', 'started'])).default(['queued', 'allocated', 'started']),
  }),
);
/** `POST /builds/cancel`. */
export type CancelBuildsRequest = z.infer<typeof cancelBuildsRequestSchema>;

/** The answer to a cancel: which builds are now canceled. */
export const cancelResponseSchema = named('CancelResponse', z.object({ canceled: z.array(uuidSchema) }));
/** The answer to a cancel. */
export type CancelResponse = z.infer<typeof cancelResponseSchema>;

/** `POST /build/{uuid}/update-priority`. */
export const updatePriorityRequestSchema = named(
  'UpdatePriorityRequest',
  z.object({ priority: prioritySchema }),
);
/** `POST /build/{uuid}/update-priority`. */
export type UpdatePriorityRequest = z.infer<typeof updatePriorityRequestSchema>;

/** Query of `GET /build/{uuid}/log`: which attempt (default the latest) and whether to follow a live log. */
export const buildLogQuerySchema = z.object({
  attempt: uuidSchema.optional(),
  follow: booleanQuerySchema.optional(),
});
/** Query of `GET /build/{uuid}/log` as a client writes it. */
export type BuildLogQueryInput = z.input<typeof buildLogQuerySchema>;
