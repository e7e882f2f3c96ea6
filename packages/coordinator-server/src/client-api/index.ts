// Public entry of the client API module.
export { createClientApp, createClientApps, type ClientApps } from './client-app.js';
export type { ClientAppOptions } from './app-options.js';
export { createModuloHashCache, type ModuloHashCache } from './modulo-hashes.js';
