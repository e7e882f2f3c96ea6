// Issue 7's farm on the embedded default: SQLite and Nix's /nix/store.
import { join } from 'node:path';
import { describeFarm } from './farm-scenario.js';

describeFarm({
  label: 'SQLite, /nix/store',
  storeDir: '/nix/store',
  database: (dir) =>
    Promise.resolve({ uri: `sqlite://${join(dir, 'gbc.db')}`, drop: () => Promise.resolve() }),
  runsReadmeLibraryExample: true,
});
