// Test support: a fresh datastore for the tests of one `describe` block, on
// one dialect, opened before and dropped after them.
import { afterAll, beforeAll } from 'vitest';
import { openDatastore } from '../datastore.js';
import type { Datastore } from '../datastore.js';
import type { Dialect } from '../uri.js';
import { createTestDatabase } from './test-database.js';
import type { TestDatabase } from './test-database.js';

/** Holds the datastore once `beforeAll` has run. */
export interface DatastoreContext {
  store: Datastore;
  database: TestDatabase;
}

/** Registers hooks that open a fresh migrated datastore on `dialect` and drop it afterwards. */
export function useDatastore(dialect: Dialect): DatastoreContext {
  const ctx = {} as DatastoreContext;
  // What beforeAll got to open: a failed start leaves these undefined.
  let database: TestDatabase | undefined;
  let store: Datastore | undefined;
  beforeAll(async () => {
    ctx.database = database = await createTestDatabase(dialect);
    ctx.store = store = await openDatastore(database.uri);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });
  return ctx;
}
