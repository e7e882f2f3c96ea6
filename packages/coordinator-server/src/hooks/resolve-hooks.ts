// Turns the hook configuration into functions per event type: built-in
// names, commands, module exports and plain functions. Refuses what it does
// not understand at start, not at the first event.
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ResolvedCacheOptions } from '../cache/cache-options.js';
import { createCommandHook } from './builtin/command.js';
import { createGuixDataServiceHook } from './builtin/guix-data-service.js';
import { createPublishHook } from './builtin/publish.js';
import { createRetryHook } from './builtin/retry-on-failure.js';
import { createSubmitMissingInputsHook } from './builtin/submit-missing-inputs.js';
import { HookError } from './hook-errors.js';
import type { HookFunction, HookSpec, HooksConfig } from './hook-types.js';

/** What resolving needs: the cache's options (for `publish`) and the directory modules and commands are relative to. */
export interface ResolveHooksOptions {
  readonly cache: ResolvedCacheOptions;
  readonly cwd: string;
}

/** Resolves every configured hook; the map holds only event types with at least one hook. */
export async function resolveHooks(
  config: HooksConfig,
  options: ResolveHooksOptions,
): Promise<Map<string, HookFunction[]>> {
  const out = new Map<string, HookFunction[]>();
  for (const [eventType, value] of Object.entries(config)) {
    if (value === undefined) continue;
    // A configuration file's values arrive unchecked, whatever HooksConfig says: each is checked here.
    const specs: readonly unknown[] = Array.isArray(value) ? value : [value];
    const fns: HookFunction[] = [];
    for (const spec of specs) fns.push(await resolveHook(eventType, spec, options));
    if (fns.length > 0) out.set(eventType, fns);
  }
  return out;
}

async function resolveHook(
  eventType: string,
  value: unknown,
  options: ResolveHooksOptions,
): Promise<HookFunction> {
  if (typeof value === 'function') return value as HookFunction;
  if (typeof value !== 'object' || value === null) throw bad(eventType, value);
  // An object: its kind is told by its keys, and each kind's fields are checked below or where it is built.
  const spec = value as Exclude<HookSpec, HookFunction>;
  if ('command' in spec) return createCommandHook(spec, options.cwd);
  if ('module' in spec) {
    const path = isAbsolute(spec.module) ? spec.module : resolve(options.cwd, spec.module);
    const mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    const fn = mod[spec.export ?? 'default'];
    if (typeof fn !== 'function')
      throw new HookError(
        'bad-hook-config',
        `hook for ${eventType}: ${path} exports no function ${JSON.stringify(spec.export ?? 'default')}`,
      );
    return fn as HookFunction;
  }
  if ('builtin' in spec) {
    switch (spec.builtin) {
      case 'publish':
        if (typeof spec.directory !== 'string' || spec.directory === '')
          throw new HookError('bad-hook-config', `hook for ${eventType}: publish needs a "directory"`);
        return createPublishHook({ ...spec, directory: resolve(options.cwd, spec.directory) }, options.cache);
      case 'retry-on-failure':
        return createRetryHook(spec);
      case 'submit-missing-inputs':
        return createSubmitMissingInputsHook();
      case 'guix-data-service':
        if (
          typeof spec.url !== 'string' ||
          typeof spec.token !== 'string' ||
          (typeof spec.buildServerId !== 'number' && typeof spec.buildServerId !== 'string')
        ) {
          throw new HookError(
            'bad-hook-config',
            `hook for ${eventType}: guix-data-service needs "url", "buildServerId" and "token"`,
          );
        }
        return createGuixDataServiceHook(spec);
    }
  }
  throw bad(eventType, spec);
}

/** JSON.stringify, typed as it behaves: undefined for undefined, a function or a symbol. */
const stringifyJson = JSON.stringify as (value: unknown) => string | undefined;

function bad(eventType: string, spec: unknown): HookError {
  return new HookError(
    'bad-hook-config',
    `hook for ${eventType} not understood: ${String(stringifyJson(spec)).slice(0, 200)}; expected a function, {"builtin": "publish"|"retry-on-failure"|"submit-missing-inputs"|"guix-data-service", …}, {"command": [...]} or {"module": "…"}`,
  );
}
