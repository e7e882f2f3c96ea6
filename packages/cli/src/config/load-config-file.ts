// Finds and loads gbc's configuration file: JSON (`gbc.config.json`) or a
// JavaScript module (`gbc.config.js`/`.mjs`) whose values may be functions
// (hooks, allocation strategies). Precedence over it is yargs' job: flags,
// then GBC_* environment variables, then this file, then defaults.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CliError, ExitCode } from '../errors.js';

/** A configuration object: kebab-case keys as the command-line flags spell them. */
export type ConfigObject = Record<string, unknown>;

/** File names looked for in the working directory when no file is named. */
export const DEFAULT_CONFIG_FILES = ['gbc.config.json', 'gbc.config.mjs', 'gbc.config.js'] as const;

/**
 * The configuration file to use: `--config FILE` (or `--config=FILE`) in
 * argv, else `GBC_CONFIG`, else the first of DEFAULT_CONFIG_FILES in `cwd`;
 * undefined when there is none. A named file that does not exist is an error.
 */
export function findConfigFile(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): string | undefined {
  let named: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--config') named = argv[i + 1];
    else if (arg.startsWith('--config=')) named = arg.slice('--config='.length);
  }
  named ??= env.GBC_CONFIG || undefined;
  if (named !== undefined) {
    const file = isAbsolute(named) ? named : resolve(cwd, named);
    if (!existsSync(file)) {
      throw new CliError('config-missing', `configuration file ${file} does not exist`, ExitCode.usage);
    }
    return file;
  }
  return DEFAULT_CONFIG_FILES.map((name) => resolve(cwd, name)).find((file) => existsSync(file));
}

/** Loads a configuration file; a JavaScript module's default export may be an object or a (possibly async) function returning one. */
export async function loadConfigFile(file: string): Promise<ConfigObject> {
  let value: unknown;
  try {
    if (file.endsWith('.json')) {
      value = JSON.parse(readFileSync(file, 'utf8'));
    } else {
      const module = (await import(pathToFileURL(file).href)) as { default?: unknown };
      value =
        typeof module.default === 'function' ? await (module.default as () => unknown)() : module.default;
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(
      'config-unreadable',
      `cannot read configuration file ${file}: ${reason}`,
      ExitCode.usage,
      { cause: error },
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CliError(
      'config-shape',
      `configuration file ${file} must hold an object of settings`,
      ExitCode.usage,
    );
  }
  return value as ConfigObject;
}
