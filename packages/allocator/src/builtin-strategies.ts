// The built-in strategies, by the names the configuration uses.
import { AllocatorError } from './errors.js';
import type { FairShareOptions } from './fair-share.js';
import type { QueueIndex } from './queue-index.js';
import { createQueueStrategy } from './queue-strategy.js';
import type { AllocationStrategy } from './strategy.js';

/** Names accepted by {@link builtinStrategy}. */
export const builtinStrategyNames = ['basic', 'derivation-ordered', 'fair-share'] as const;

/** A built-in strategy name. */
export type BuiltinStrategyName = (typeof builtinStrategyNames)[number];

/** `basic`: highest priority, then oldest. */
export function createBasicStrategy(): AllocationStrategy<QueueIndex> {
  return createQueueStrategy({ name: 'basic' });
}

/** `derivation-ordered`: dependencies first; a build ranks as high as anything (transitively) waiting on it. */
export function createDerivationOrderedStrategy(): AllocationStrategy<QueueIndex> {
  return createQueueStrategy({ name: 'derivation-ordered', propagatePriority: true });
}

/** `fair-share`: the tag value with the fewest recent allocations per share goes first; then priority, then age. */
export function createFairShareStrategy(options: FairShareOptions = {}): AllocationStrategy<QueueIndex> {
  return createQueueStrategy({ name: 'fair-share', fairShare: options });
}

/** Options for {@link builtinStrategy}. */
export interface BuiltinStrategyOptions {
  /** Used by `fair-share` only. */
  readonly fairShare?: FairShareOptions;
}

/** Whether `name` names a built-in strategy. */
export function isBuiltinStrategyName(name: string): name is BuiltinStrategyName {
  return (builtinStrategyNames as readonly string[]).includes(name);
}

/** The built-in strategy called `name`; throws `invalid-option` for an unknown name. */
export function builtinStrategy(
  name: string,
  options: BuiltinStrategyOptions = {},
): AllocationStrategy<QueueIndex> {
  switch (name) {
    case 'basic':
      return createBasicStrategy();
    case 'derivation-ordered':
      return createDerivationOrderedStrategy();
    case 'fair-share':
      return createFairShareStrategy(options.fairShare);
    default:
      throw new AllocatorError(
        'invalid-option',
        `unknown allocation strategy ${JSON.stringify(name)}; expected one of ${builtinStrategyNames.join(', ')} or a module path`,
      );
  }
}
