// Public entry of @gbc/store: the Nix/Guix store formats and the daemon client.
export * from './errors.js';
export * from './base32/index.js';
export * from './wire/index.js';
export * from './hash/index.js';
export * from './store-path/index.js';
export * from './nar/index.js';
export * from './narinfo/index.js';
export * from './signature/index.js';
export * from './derivation/index.js';
export * from './daemon/index.js';
export * from './export/index.js';
