// Custom strategies: validate a value as a strategy, and import one from a
// module (its default export, or a named export `strategy`).
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { builtinStrategy, isBuiltinStrategyName, type BuiltinStrategyOptions } from './builtin-strategies.js';
import { StrategyLoadError } from './errors.js';
import { strategyFunctions, type AllocationStrategy } from './strategy.js';

/** Checks that `value` provides the strategy interface; throws `invalid-strategy` naming what is missing. */
export function validateStrategy(value: unknown, source = 'value'): AllocationStrategy {
  if (typeof value !== 'object' || value === null)
    throw new StrategyLoadError(
      'invalid-strategy',
      `${source} is not an allocation strategy: expected an object, found ${value === null ? 'null' : typeof value}`,
    );
  const record = value as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof record.name !== 'string' || record.name === '') problems.push('name (a non-empty string)');
  for (const fn of strategyFunctions) if (typeof record[fn] !== 'function') problems.push(`${fn}()`);
  if (problems.length > 0)
    throw new StrategyLoadError(
      'invalid-strategy',
      `${source} is not an allocation strategy: missing or wrong ${problems.join(', ')}`,
    );
  return value as AllocationStrategy;
}

/**
 * Imports a strategy module: a path (relative to `baseDir`, default the current
 * directory) or a `file:` URL. Uses the default export, else the export named
 * `strategy`. Throws `strategy-not-found` if the import fails, `invalid-strategy`
 * if the export is not a strategy.
 */
export async function loadStrategy(specifier: string, baseDir = process.cwd()): Promise<AllocationStrategy> {
  const url = specifier.startsWith('file:')
    ? specifier
    : pathToFileURL(isAbsolute(specifier) ? specifier : resolve(baseDir, specifier)).href;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (cause) {
    throw new StrategyLoadError(
      'strategy-not-found',
      `could not import the allocation strategy module ${url}: ${String(cause)}`,
      { cause },
    );
  }
  const candidate = mod.default ?? mod.strategy;
  if (candidate === undefined)
    throw new StrategyLoadError(
      'invalid-strategy',
      `module ${url} exports neither a default nor a named \`strategy\` allocation strategy`,
    );
  return validateStrategy(candidate, `the export of ${url}`);
}

/** A built-in strategy by name, or else a strategy module loaded by path. */
export async function resolveStrategy(
  nameOrPath: string,
  options: BuiltinStrategyOptions & { baseDir?: string } = {},
): Promise<AllocationStrategy> {
  if (isBuiltinStrategyName(nameOrPath)) return builtinStrategy(nameOrPath, options);
  return loadStrategy(nameOrPath, options.baseDir);
}
