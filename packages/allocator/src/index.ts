// Public entry of @gbc/allocator: pure allocation strategies over an in-memory
// index of the queue.
export * from './errors.js';
export type * from './types.js';
export * from './strategy.js';
export { IndexedHeap, type HeapNode } from './indexed-heap.js';
export type { FairShareOptions } from './fair-share.js';
export type { QueueIndex } from './queue-index.js';
export { createQueueStrategy, type QueueStrategyOptions } from './queue-strategy.js';
export * from './builtin-strategies.js';
export { validateStrategy, loadStrategy, resolveStrategy } from './load-strategy.js';
export { agentMismatch } from './explain.js';
