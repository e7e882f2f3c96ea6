// Runs the shared contract suite for every built-in strategy and for custom
// strategies loaded from fixture modules.
import { fileURLToPath } from 'node:url';
import { builtinStrategy } from './builtin-strategies.js';
import { loadStrategy } from './load-strategy.js';
import { priorityOrder, runContractSuite } from './testing/contract-suite.js';
import { newestFirst } from './testing/fixtures/newest-first-strategy.js';

const fixture = (name: string) => fileURLToPath(new URL(`./testing/fixtures/${name}`, import.meta.url));

runContractSuite({
  label: 'basic',
  make: () => builtinStrategy('basic'),
  order: priorityOrder,
  reference: {},
});

runContractSuite({
  label: 'derivation-ordered',
  make: () => builtinStrategy('derivation-ordered'),
  order: priorityOrder,
  reference: { propagatePriority: true },
});

const fairShare = { tag: 'project', shares: { a: 3, b: 1 }, windowMs: 10 };
runContractSuite({
  label: 'fair-share',
  make: () => builtinStrategy('fair-share', { fairShare }),
  order: priorityOrder,
  reference: { fairShare },
});

runContractSuite({
  label: 'custom module (newest-first)',
  make: () => loadStrategy(fixture('newest-first-strategy.ts')),
  order: (a, b) => newestFirst(a, b) || (a.id < b.id ? -1 : 1),
  reference: { compare: newestFirst },
});
