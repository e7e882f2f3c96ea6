// `gbc agent`: runs an agent (the agent's options as flags) until SIGTERM or
// SIGINT; the administration subcommands (new, list, …) hang below it. It
// also takes the command line Guix's agent service writes for the original
// agent (gnu/services/guix.scm): `--coordinator=URL` (the agent URL here),
// `--timestamp-log-output=BOOL`, and the plural, space-separated
// `--derivation-substitute-urls` / `--non-derivation-substitute-urls`.
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import type { AgentOptions, UploadCompression } from '@gbc/agent';
import { layeredOptions } from '../config/layered-options.js';
import type { CommandContext } from '../context.js';
import { CliError, ExitCode } from '../errors.js';

interface AgentRunArgs {
  readonly json: boolean;
  readonly 'coordinator-url'?: string;
  readonly coordinator?: string;
  readonly 'timestamp-log-output': unknown;
  readonly uuid?: string;
  readonly password?: string;
  readonly 'password-file'?: string;
  readonly name?: string;
  readonly 'dynamic-auth-token'?: string;
  readonly 'dynamic-auth-token-file'?: string;
  readonly description?: string;
  readonly 'state-dir': string;
  readonly system?: string[];
  readonly 'max-parallel-builds'?: number;
  readonly 'max-parallel-uploads'?: number;
  readonly 'max-allocated-builds'?: number;
  readonly 'max-1min-load-average'?: number;
  readonly 'status-interval'?: number;
  readonly 'poll-interval'?: number;
  readonly 'max-build-timeout'?: number;
  readonly 'max-build-silent-time'?: number;
  readonly 'derivation-substitute-url'?: string[];
  readonly 'non-derivation-substitute-url'?: string[];
  readonly 'derivation-substitute-urls'?: string[];
  readonly 'non-derivation-substitute-urls'?: string[];
  readonly 'upload-compression'?: string;
  readonly 'daemon-socket'?: string;
  readonly 'store-dir': string;
  readonly 'guix-signing-key'?: string;
}

/** The `agent` command: runs an agent, or with a subcommand administers agents. */
export function agentCommand(ctx: CommandContext, admin: (y: Argv) => Argv): CommandModule {
  return {
    command: 'agent',
    describe: 'Run an agent (or administer agents: new, list, show, password, tag, activate, deactivate)',
    builder: (y) =>
      admin(
        layeredOptions(
          y.option('coordinator', {
            // Not layered: GBC_COORDINATOR and the file's "coordinator" are the client API URL of the other commands.
            type: 'string',
            requiresArg: true,
            describe:
              "The Guix service's spelling of --coordinator-url: the coordinator's agent URL (command line only; wins over --coordinator-url)",
          }),
          ctx.layers,
          {
            'coordinator-url': {
              type: 'string',
              describe:
                "The coordinator's agent URL, e.g. http://coordinator:8745; several processes of one coordinator: their URLs separated by commas (the agent fails over)",
              requiresArg: true,
            },
            uuid: {
              type: 'string',
              describe: 'Agent uuid (with --password or --password-file)',
              requiresArg: true,
            },
            password: {
              type: 'string',
              describe: 'Agent password (prefer --password-file)',
              requiresArg: true,
            },
            'password-file': {
              type: 'string',
              describe: 'File holding the agent password',
              requiresArg: true,
            },
            name: { type: 'string', describe: 'Agent name (with a dynamic-auth token)', requiresArg: true },
            'dynamic-auth-token': {
              type: 'string',
              describe: 'Dynamic-auth token (prefer the file form)',
              requiresArg: true,
            },
            'dynamic-auth-token-file': {
              type: 'string',
              describe: 'File holding a dynamic-auth token',
              requiresArg: true,
            },
            description: {
              type: 'string',
              describe: 'Description sent when a dynamic-auth token creates the agent',
              requiresArg: true,
            },
            'state-dir': {
              type: 'string',
              default: 'gbc-agent',
              describe: 'Credentials, undelivered results and upload spool',
              requiresArg: true,
            },
            system: { type: 'string', array: true, describe: "Systems to build (default this machine's)" },
            'max-parallel-builds': {
              type: 'number',
              describe: 'Builds run at once (default 1)',
              requiresArg: true,
            },
            'max-parallel-uploads': {
              type: 'number',
              describe: 'Output uploads at once (default 2)',
              requiresArg: true,
            },
            'max-allocated-builds': {
              type: 'number',
              describe: 'Builds held at most (default max-parallel-builds)',
              requiresArg: true,
            },
            'max-1min-load-average': {
              type: 'number',
              describe: 'Fetch nothing while the load is above this (default: cores)',
              requiresArg: true,
            },
            'status-interval': {
              type: 'number',
              describe:
                'Seconds between status reports, which is how soon a canceled build is aborted (default: 3 while it holds builds, else a third of the lease, at most 60)',
              requiresArg: true,
            },
            'poll-interval': {
              type: 'number',
              describe:
                'Seconds between fetches while the coordinator has nothing for this agent (default 2)',
              requiresArg: true,
            },
            'max-build-timeout': {
              type: 'number',
              describe:
                "Upper bound in seconds on any build's wall-clock time, whatever the coordinator sends (default none)",
              requiresArg: true,
            },
            'max-build-silent-time': {
              type: 'number',
              describe:
                "Upper bound in seconds on any build's time without log output, whatever the coordinator sends (default none)",
              requiresArg: true,
            },
            'derivation-substitute-url': {
              type: 'string',
              array: true,
              describe: 'Binary caches for .drv files the coordinator cannot give (repeatable)',
            },
            'non-derivation-substitute-url': {
              type: 'string',
              array: true,
              describe:
                "Binary caches for the other inputs (outputs of input derivations, sources), after the coordinator's cache (repeatable)",
            },
            'derivation-substitute-urls': {
              type: 'string',
              array: true,
              describe: 'Space-separated --derivation-substitute-url values, as the Guix service writes them',
            },
            'non-derivation-substitute-urls': {
              type: 'string',
              array: true,
              describe:
                'Space-separated --non-derivation-substitute-url values, as the Guix service writes them',
            },
            // A string parsed here: yargs reads any word after `=` of a boolean flag as false (`=maybe` too).
            'timestamp-log-output': {
              type: 'string',
              describe:
                "Start each of the agent's log lines with the time (--timestamp-log-output=false when the service manager stamps them)",
            },
            'upload-compression': {
              type: 'string',
              describe: 'Compression of uploaded NARs: zstd (default), lzip, gzip or none',
              requiresArg: true,
            },
            'daemon-socket': {
              type: 'string',
              describe: 'Build daemon socket (unix:///path or a path)',
              requiresArg: true,
            },
            'store-dir': {
              type: 'string',
              default: '/gnu/store',
              describe: "The daemon's store directory (/nix/store for Nix)",
              requiresArg: true,
            },
            'guix-signing-key': {
              type: 'string',
              describe:
                'Guix secret key signing what the agent imports into guix-daemon; authorize its .pub on the build machine with guix archive --authorize (default /etc/guix/signing-key.sec)',
              requiresArg: true,
            },
          } as const,
        ),
      ),
    handler: async (raw) => {
      const a = raw as unknown as AgentRunArgs;
      const coordinatorUrl = a.coordinator ?? a['coordinator-url'];
      if (coordinatorUrl === undefined) {
        throw new CliError(
          'no-coordinator',
          'gbc agent needs --coordinator-url (or GBC_COORDINATOR_URL, or --coordinator), or an administration subcommand',
          ExitCode.usage,
        );
      }
      const stamp = booleanFlag('--timestamp-log-output', a['timestamp-log-output'], true);
      const out = ctx.output(a);
      const log = (message: string, fields?: Record<string, unknown>): void =>
        out.note(
          JSON.stringify(
            stamp ? { time: new Date().toISOString(), msg: message, ...fields } : { msg: message, ...fields },
          ),
        );
      const file = (f: string | undefined) => (f === undefined ? undefined : resolve(ctx.cwd, f));
      const options: AgentOptions = dropUndefined({
        coordinatorUrl,
        stateDir: resolve(ctx.cwd, a['state-dir']),
        uuid: a.uuid,
        password: a.password,
        passwordFile: file(a['password-file']),
        name: a.name,
        token: a['dynamic-auth-token'],
        tokenFile: file(a['dynamic-auth-token-file']),
        description: a.description,
        systems: a.system,
        maxParallelBuilds: a['max-parallel-builds'],
        maxParallelUploads: a['max-parallel-uploads'],
        maxAllocatedBuilds: a['max-allocated-builds'],
        maxLoad1: a['max-1min-load-average'],
        statusIntervalMs: secondsToMs('--status-interval', a['status-interval']),
        pollIntervalMs: secondsToMs('--poll-interval', a['poll-interval']),
        maxBuildTimeoutSeconds: a['max-build-timeout'],
        maxBuildSilentSeconds: a['max-build-silent-time'],
        derivationSubstituteUrls: urlList(a['derivation-substitute-url'], a['derivation-substitute-urls']),
        nonDerivationSubstituteUrls: urlList(
          a['non-derivation-substitute-url'],
          a['non-derivation-substitute-urls'],
        ),
        uploadCompression: a['upload-compression'] as UploadCompression | undefined,
        daemonSocket: a['daemon-socket'],
        storeDir: a['store-dir'],
        guixSigningKeyFile: file(a['guix-signing-key']),
        log,
      });
      // Loaded here, not at the top: other commands start faster without the agent's modules.
      const { createAgent } = await import('@gbc/agent');
      const agent = createAgent(options);
      let signals = 0;
      const onSignal = (): void => {
        signals += 1;
        log(
          signals === 1
            ? 'gbc agent: stopping after the builds it holds (signal again to abort them)'
            : 'gbc agent: aborting held builds',
        );
        agent.stop(signals === 1);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      try {
        await agent.run();
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
    },
  };
}

/** A copy of `o` without its undefined fields (the options are exact optional properties). */
function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * The URLs of a singular, repeatable flag and of its plural, space-separated
 * spelling (`--derivation-substitute-urls="u1 u2"`), in that order, without
 * duplicates; undefined when neither was given. The agent checks each is a URL.
 */
export function urlList(
  singular: readonly string[] | undefined,
  plural: readonly string[] | undefined,
): string[] | undefined {
  if (singular === undefined && plural === undefined) return undefined;
  const urls = [...(singular ?? []), ...(plural ?? []).flatMap((v) => String(v).split(/\s+/))].filter(
    (u) => u !== '',
  );
  return [...new Set(urls)];
}

/**
 * A boolean flag read as the original agent reads it: absent gives `dflt`;
 * bare (`--flag`) or true/yes/1 gives true; false/no/0 or `--no-flag` gives
 * false; anything else is a usage error.
 */
export function booleanFlag(flag: string, value: unknown, dflt: boolean): boolean {
  const one = Array.isArray(value) ? (value[value.length - 1] as unknown) : value;
  if (one === undefined) return dflt;
  if (typeof one === 'boolean') return one;
  // yargs hands over a string or a number here; anything else is no boolean either.
  const text = typeof one === 'string' || typeof one === 'number' ? String(one) : typeof one;
  const word = text.toLowerCase();
  if (word === '' || word === 'true' || word === 'yes' || word === '1') return true;
  if (word === 'false' || word === 'no' || word === '0') return false;
  throw new CliError(
    `bad-${flag.slice(2)}`,
    `${flag} takes true or false, got ${JSON.stringify(text.slice(0, 100))}`,
    ExitCode.usage,
  );
}

/** A flag in seconds (`--status-interval`, `--poll-interval`) as the agent's milliseconds; a positive number or absent. */
function secondsToMs(flag: string, seconds: number | undefined): number | undefined {
  if (seconds === undefined) return undefined;
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new CliError(
      `bad-${flag.slice(2)}`,
      `${flag} must be a positive number of seconds, got ${String(seconds)}`,
      ExitCode.usage,
    );
  return Math.round(seconds * 1000);
}
