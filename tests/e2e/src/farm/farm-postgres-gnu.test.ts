// Issue 7's farm on PostgreSQL (a fresh database on GBC_TEST_POSTGRES_URI's
// server) with Guix's store directory /gnu/store.
import { createPostgresDatabase } from '../support/postgres-database.js';
import { describeFarm } from './farm-scenario.js';

describeFarm({
  label: 'PostgreSQL, /gnu/store',
  storeDir: '/gnu/store',
  database: () => createPostgresDatabase('gbc_farm'),
});
