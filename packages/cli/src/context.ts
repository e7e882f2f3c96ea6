// What every command receives: the configuration layers, the output channel
// (created once the --json flag is known) and the client options shared by
// the commands that talk to a coordinator.
import type { Argv } from 'yargs';
import { CoordinatorClient } from '@gbc/protocol';
import { layeredOptions } from './config/layered-options.js';
import type { ConfigLayers } from './config/layered-options.js';
import { createOutput } from './output.js';
import type { Output } from './output.js';

/** Shared state of one run of `gbc`. */
export interface CommandContext {
  readonly layers: ConfigLayers;
  readonly cwd: string;
  /** The run's output for these arguments (`--json`); the last one made decides the exit code. */
  output(args: { readonly json?: boolean | undefined }): Output;
  /** The output made last, if any. */
  readonly lastOutput: Output | undefined;
  /** A client of the coordinator named by `--coordinator` (remembered for error messages). */
  client(args: ClientArgs): CoordinatorClient;
  /** The coordinator URL of the last client made, if any. */
  readonly coordinatorUrl: string | undefined;
}

/** The options `clientOptions` declares. */
export interface ClientArgs {
  readonly coordinator: string;
  readonly token?: string | undefined;
}

/** Creates the context of one run. */
export function createCommandContext(layers: ConfigLayers, cwd: string): CommandContext {
  let last: Output | undefined;
  let url: string | undefined;
  return {
    layers,
    cwd,
    output(args) {
      last = createOutput(args.json === true);
      return last;
    },
    get lastOutput() {
      return last;
    },
    client(args) {
      url = args.coordinator;
      return clientOf(args);
    },
    get coordinatorUrl() {
      return url;
    },
  };
}

/** Declares `--coordinator` and `--token`, the options of commands that call the client API. */
export function clientOptions<T>(y: Argv<T>, layers: ConfigLayers) {
  return layeredOptions(y, layers, {
    coordinator: {
      type: 'string',
      default: 'http://127.0.0.1:8746',
      describe: "The coordinator's client API URL",
      requiresArg: true,
    },
    token: {
      type: 'string',
      describe: 'A client token (sent as a bearer token) when the coordinator requires one',
      requiresArg: true,
    },
  } as const);
}

/** A client of the coordinator named by `--coordinator`. */
export function clientOf(args: ClientArgs): CoordinatorClient {
  return new CoordinatorClient({
    baseUrl: args.coordinator,
    ...(args.token === undefined ? {} : { token: args.token }),
  });
}
