// Public entry of @gbc/agent: the agent loop and its parts.
export { createAgent, type Agent } from './agent.js';
export {
  resolveAgentOptions,
  type AgentAuthOptions,
  type AgentOptions,
  type ResolvedAgentOptions,
} from './options.js';
export { AgentError, isAgentError, type AgentErrorDetails } from './errors.js';
export {
  UPLOAD_COMPRESSIONS,
  createCompressor,
  createDecompressor,
  type UploadCompression,
} from './compression.js';
export { StateFile, type AgentState, type PendingResult } from './state-file.js';
export { backoffDelay, isTransient, withRetry, type RetryPolicy } from './retry.js';
export { systemTimers, type AgentTimers } from './timers.js';
export { defaultSystem } from './system.js';
export { ensurePaths, type FetchContext } from './fetch-inputs.js';
export { coordinatorSource, httpSource, type NarSource } from './nar-source.js';
