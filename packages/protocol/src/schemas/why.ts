// The answer to "why is my build not running?": GET /build/{uuid}/why.
import { z } from 'zod';
import { named } from './registry.js';
import {
  derivationPathSchema,
  storePathSchema,
  systemSchema,
  tagListSchema,
  timestampSchema,
  uuidSchema,
} from './common.js';
import { buildStateSchema } from './builds.js';

/** An input derivation that is not yet available, and the build that would make it so. */
const pendingInputSchema = z.object({
  derivation: derivationPathSchema,
  /** The build producing it, or null if nobody is building it. */
  build: uuidSchema.nullable(),
  state: buildStateSchema.nullable(),
});

/** One reason a build is not running (or not finished). Several may hold at once. */
export const whyReasonSchema = named(
  'WhyReason',
  z.discriminatedUnion('kind', [
    /** Deferred by `deferUntil`. */
    z.object({ kind: z.literal('deferred'), until: timestampSchema }),
    /** Inputs being built or waiting to be built. */
    z.object({ kind: z.literal('inputs-pending'), inputs: z.array(pendingInputSchema) }),
    /** An input's build failed: blocked until it succeeds. */
    z.object({ kind: z.literal('inputs-failed'), inputs: z.array(pendingInputSchema) }),
    /** Inputs nobody builds and no cache holds. */
    z.object({ kind: z.literal('inputs-unavailable'), paths: z.array(storePathSchema) }),
    /** No active agent builds this system with matching tags. */
    z.object({ kind: z.literal('no-matching-agent'), system: systemSchema, tags: tagListSchema }),
    /** Ready, waiting for a free agent; `position` counts ready builds ahead of it for its system. */
    z.object({ kind: z.literal('queued'), position: z.number().int().min(0) }),
    /** Allocated to an agent that has not started it. */
    z.object({ kind: z.literal('allocated'), agent: uuidSchema, leaseExpiresAt: timestampSchema }),
    /** Running on an agent. */
    z.object({ kind: z.literal('started'), agent: uuidSchema, startedAt: timestampSchema }),
    /** Finished (succeeded, failed or canceled). */
    z.object({ kind: z.literal('finished'), state: buildStateSchema, endedAt: timestampSchema.nullable() }),
  ]),
);
/** One reason a build is not running. */
export type WhyReason = z.infer<typeof whyReasonSchema>;

/** `GET /build/{uuid}/why`. */
export const whyResponseSchema = named(
  'WhyResponse',
  z.object({ uuid: uuidSchema, state: buildStateSchema, reasons: z.array(whyReasonSchema) }),
);
/** `GET /build/{uuid}/why`. */
export type WhyResponse = z.infer<typeof whyResponseSchema>;
