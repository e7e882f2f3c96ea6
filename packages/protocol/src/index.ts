// Public entry of @gbc/protocol: the HTTP contract of gbc (routes, schemas, errors, clients).
export * from './errors.js';
export * from './schemas/registry.js';
export * from './schemas/common.js';
export * from './schemas/builds.js';
export * from './schemas/why.js';
export * from './schemas/agents.js';
export * from './schemas/agent-work.js';
export * from './schemas/derivations.js';
export * from './schemas/uploads.js';
export * from './schemas/events.js';
export * from './schemas/admin.js';
export * from './routes/index.js';
export * from './openapi.js';
