// Path-parameter schemas shared by the route tables.
import { z } from 'zod';
import { passwordIdSchema } from '../schemas/agents.js';
import { dynamicAuthTokenIdSchema } from '../schemas/admin.js';
import { derivationBaseNameSchema, storePathBaseNameSchema, uuidSchema } from '../schemas/common.js';

/** `{uuid}` of a build or an agent. */
export const uuidParams = z.object({ uuid: uuidSchema });

/** `{uuid}` of a build and `{name}` of one of its outputs. */
export const outputParams = z.object({
  uuid: uuidSchema,
  name: z
    .string()
    .regex(/^[A-Za-z0-9+\-_?=][A-Za-z0-9+\-._?=]*$/, 'expected an output name such as out or lib'),
});

/** `{name}`: a derivation basename. */
export const derivationNameParams = z.object({ name: derivationBaseNameSchema });

/** `{name}`: a store path basename. */
export const storeNameParams = z.object({ name: storePathBaseNameSchema });

/** `{id}` of a client token. */
export const tokenIdParams = z.object({ id: uuidSchema });

/** `{uuid}` of an agent and `{id}` of one of its passwords. */
export const agentPasswordParams = z.object({ uuid: uuidSchema, id: passwordIdSchema });

/** `{id}` of a dynamic-auth token. */
export const dynamicAuthTokenIdParams = z.object({ id: dynamicAuthTokenIdSchema });
