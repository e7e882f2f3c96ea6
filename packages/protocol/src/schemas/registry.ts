// The registry of named schemas: each becomes a component of the OpenAPI document.
import { z } from 'zod';

/** Metadata kept for a named schema: its component id and a description. */
export interface SchemaMeta {
  readonly id: string;
  readonly description?: string;
}

/** Every named schema of the protocol, keyed by component id. */
export const schemaRegistry = z.registry<SchemaMeta>();

/** Registers `schema` under `id` (an OpenAPI component name) and returns it unchanged. */
export function named<T extends z.ZodType>(id: string, schema: T, description?: string): T {
  schemaRegistry.add(schema, description === undefined ? { id } : { id, description });
  return schema;
}
