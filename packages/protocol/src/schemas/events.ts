// Live events (GET /events, server-sent events): types and the JSON data of each.
import { z } from 'zod';
import { named } from './registry.js';
import { attemptResultSchema, buildStateSchema } from './builds.js';
import { derivationPathSchema, timestampSchema, uuidSchema } from './common.js';

/** Event types on the stream. The SSE `event:` field carries the type; `id:` a decimal sequence number. */
export const eventTypeSchema = named(
  'EventType',
  z.enum([
    'build-submitted',
    'build-allocated',
    'build-started',
    'build-success',
    'build-failure',
    'build-canceled',
    'build-missing-inputs',
    'build-priority-changed',
    'build-released',
    'agent-created',
    'agent-activated',
    'agent-deactivated',
    'agent-status',
    'agent-credentials-revoked',
  ]),
);
/** Event types on the stream. */
export type EventType = z.infer<typeof eventTypeSchema>;

/**
 * One event, as the JSON `data:` of an SSE message. `id` is the sequence number
 * (also the SSE `id:`): resume with `Last-Event-ID` to receive every later event.
 */
export const eventSchema = named(
  'Event',
  z.object({
    id: z.string().regex(/^[0-9]+$/, 'expected a decimal sequence number'),
    type: eventTypeSchema,
    time: timestampSchema,
    build: uuidSchema.optional(),
    agent: uuidSchema.optional(),
    derivation: derivationPathSchema.optional(),
    state: buildStateSchema.optional(),
    result: attemptResultSchema.optional(),
    /** Anything else the event carries (priority, missing inputs, load, …). */
    data: z.record(z.string(), z.unknown()).default({}),
  }),
);
/** One event. */
export type GbcEvent = z.infer<typeof eventSchema>;

/** Query of `GET /events`: restrict to some types or to one build or agent. */
export const eventsQuerySchema = z.object({
  type: z
    .union([eventTypeSchema, z.array(eventTypeSchema)])
    .optional()
    .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])),
  build: uuidSchema.optional(),
  agent: uuidSchema.optional(),
});
/** Query of `GET /events` as a client writes it. */
export type EventsQueryInput = z.input<typeof eventsQuerySchema>;
