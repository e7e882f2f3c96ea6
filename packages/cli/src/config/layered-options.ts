// Declares yargs options whose defaults come from the configuration layers:
// a GBC_* environment variable wins over the configuration file, and a flag
// wins over both (yargs applies flags over defaults). Only declared options
// are read from the layers, so strict parsing never trips on unrelated keys.
import type { Argv, InferredOptionTypes, Options } from 'yargs';
import type { ConfigObject } from './load-config-file.js';

/** Where option values come from besides the command line. */
export interface ConfigLayers {
  /** The configuration file's settings (kebab-case keys), `{}` without a file. */
  readonly file: ConfigObject;
  /** The environment (GBC_* variables are read). */
  readonly env: NodeJS.ProcessEnv;
}

/** `database-uri` → `GBC_DATABASE_URI`. */
export function envNameOf(option: string): string {
  return `GBC_${option.toUpperCase().replace(/-/g, '_')}`;
}

/** Declares `options` on `y` with their defaults taken from `layers` (env over file over the declared default). */
export function layeredOptions<T, O extends Record<string, Options>>(
  y: Argv<T>,
  layers: ConfigLayers,
  options: O,
): Argv<T & InferredOptionTypes<O>> {
  const declared: Record<string, Options> = {};
  for (const [key, option] of Object.entries(options)) {
    const fromEnv = layers.env[envNameOf(key)];
    if (fromEnv !== undefined && fromEnv !== '') {
      declared[key] = { ...option, default: fromEnvironment(fromEnv, option) };
    } else if (Object.hasOwn(layers.file, key)) {
      declared[key] = { ...option, default: layers.file[key] };
    } else {
      declared[key] = option;
    }
  }
  return y.options(declared) as unknown as Argv<T & InferredOptionTypes<O>>;
}

/** Reads an environment value as the option's type: numbers, booleans (1/true/yes), arrays split on whitespace. */
function fromEnvironment(value: string, option: Options): unknown {
  if (option.array === true || option.type === 'array') return value.split(/\s+/).filter((v) => v !== '');
  if (option.type === 'number') return Number(value);
  if (option.type === 'boolean') return /^(1|true|yes|on)$/i.test(value);
  return value;
}
