// `gbc coordinator`: runs a coordinator (client API, agent API and binary
// cache) until SIGTERM or SIGINT, or with --update-database only migrates.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import type { AllocationStrategy } from '@gbc/allocator';
import { cacheProcessesOf as checkCacheProcesses } from '@gbc/coordinator-server';
import type {
  CacheFlavour,
  CoordinatorOptions,
  DerivationSubstitutesOptions,
  LogLevel,
} from '@gbc/coordinator-server';
import { parseGuixPublicKey, parsePublicKey } from '@gbc/store';
import { layeredOptions } from '../config/layered-options.js';
import type { CommandContext } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { controlOptions, controlSettingsOf } from './coordinator-control.js';
import type { ControlArgs } from './coordinator-control.js';
import { untilSignal } from './signals.js';

/** The `coordinator` command. */
export function coordinatorCommand(ctx: CommandContext): CommandModule {
  return {
    command: 'coordinator',
    describe: 'Run the coordinator',
    builder: (y) =>
      layeredOptions(y, ctx.layers, {
        database: {
          type: 'string',
          default: 'sqlite://gbc.db',
          describe: 'Database URI: sqlite://PATH, sqlite::memory: or postgres://…',
          requiresArg: true,
        },
        'agent-communication': {
          type: 'string',
          default: 'http://0.0.0.0:8745',
          describe: 'Where agents connect (agent API, binary cache, metrics)',
          requiresArg: true,
        },
        'advertise-agent-url': {
          type: 'string',
          describe:
            'PostgreSQL, several processes: the agent URL the other processes forward fetch-builds to while this one schedules (default: where it listens)',
          requiresArg: true,
        },
        'client-communication': {
          type: 'string',
          default: 'http://127.0.0.1:8746',
          describe: 'Where clients connect (client API)',
          requiresArg: true,
        },
        'cache-communication': {
          type: 'string',
          describe: 'Also serve the binary cache alone on this address (it is always on the agent address)',
          requiresArg: true,
        },
        'cache-processes': {
          type: 'string',
          describe:
            'Processes answering on --cache-communication, this one included (default 1): about one per core for a cache many clients substitute from, or auto (one per core)',
          requiresArg: true,
        },
        'metrics-communication': {
          type: 'string',
          describe:
            'Serve /metrics on this address instead of the agent address (its gauges name every agent)',
          requiresArg: true,
        },
        'dashboard-communication': {
          type: 'string',
          describe:
            'Also serve the web dashboard read-only on this address, without a login (whoever reaches it sees what a read-only token sees, logs included)',
          requiresArg: true,
        },
        'allocation-strategy': {
          type: 'string',
          default: 'basic',
          describe: 'basic, derivation-ordered, fair-share, or a module path',
          requiresArg: true,
        },
        'data-dir': {
          type: 'string',
          default: 'gbc-data',
          describe: 'Directory of NARs, logs and partial uploads',
          requiresArg: true,
        },
        storage: {
          type: 'string',
          describe:
            'Keep NARs and logs in object storage instead: s3://bucket/prefix?endpoint=URL&region=NAME&path-style=true&presign=SECONDS (credentials from AWS_* / AWS_PROFILE); partial uploads stay in --data-dir',
          requiresArg: true,
        },
        'store-dir': {
          type: 'string',
          default: '/gnu/store',
          describe: 'Store directory of the served paths (/gnu/store for Guix, /nix/store for Nix)',
          requiresArg: true,
        },
        'signing-key': {
          type: 'string',
          describe: 'Secret key file to sign narinfos with (gbc cache key new)',
          requiresArg: true,
        },
        'cache-flavour': {
          type: 'string',
          choices: ['guix', 'nix'],
          describe: 'Narinfo layout served by default (default: guix for /gnu/store, nix otherwise)',
          requiresArg: true,
        },
        'cache-ttl': {
          type: 'number',
          describe:
            'Cache-Control max-age of narinfos and NARs, in seconds (default 86400; guix publish --ttl)',
          requiresArg: true,
        },
        'cache-negative-ttl': {
          type: 'number',
          describe:
            'Cache-Control max-age of a narinfo 404, in seconds (default 60; guix publish --negative-ttl)',
          requiresArg: true,
        },
        'pid-file': {
          type: 'string',
          describe: 'Write the process id to this file while running',
          requiresArg: true,
        },
        'lease-seconds': {
          type: 'number',
          describe: 'How long an allocation lives without a status report (default 300)',
          requiresArg: true,
        },
        'substitute-url': {
          type: 'string',
          array: true,
          describe: 'External substitute servers agents may fetch inputs from (repeatable)',
        },
        'derivation-substitute-url': {
          type: 'string',
          array: true,
          describe:
            'Binary caches to fetch a submitted derivation the coordinator lacks from, with its closure of derivations (repeatable, or space-separated)',
        },
        'trusted-public-key': {
          type: 'string',
          array: true,
          describe: 'Nix key (name:base64) whose Sig: on a derivation substitute is trusted (repeatable)',
        },
        'trusted-guix-key': {
          type: 'string',
          array: true,
          describe:
            'Guix public key file whose Signature: on a derivation substitute is trusted (repeatable)',
        },
        'log-level': {
          type: 'string',
          default: 'info',
          choices: ['debug', 'info', 'warn', 'error'],
          describe: 'Least severity of log lines (JSON on stderr)',
        },
        'hook-lease-seconds': {
          type: 'number',
          describe:
            'How long a hook event is reserved for the worker running it, renewed while it runs: after a crash its events run again this soon (default 30)',
          requiresArg: true,
        },
        'parallel-hooks': {
          describe:
            'Events of one type processed at once: a number, or (in the configuration file) an object per event type',
          requiresArg: true,
        },
        'update-database': {
          type: 'boolean',
          default: false,
          describe: 'Apply pending database migrations and exit',
        },
        ...controlOptions,
      } as const),
    handler: async (raw) => {
      const a = raw as unknown as CoordinatorArgs;
      const out = ctx.output(a);
      const databaseUri = a.database;
      // Loaded here, not at the top: client commands start faster without the server's modules.
      const { createCoordinator, createJsonLogger, listen } = await import('@gbc/coordinator-server');
      if (a['update-database']) {
        const { openDatastore } = await import('@gbc/datastore');
        const datastore = await openDatastore(databaseUri, { migrate: false, cwd: ctx.cwd });
        try {
          const applied = await datastore.migrate();
          out.result({ applied }, () =>
            applied.length === 0
              ? 'the database is up to date'
              : `applied ${applied.length} migration(s): ${applied.join(', ')}`,
          );
        } finally {
          await datastore.close();
        }
        return;
      }
      const coordinator = await createCoordinator({
        databaseUri,
        cwd: ctx.cwd,
        dataDir: resolve(ctx.cwd, a['data-dir']),
        ...(a.storage === undefined ? {} : { storage: storageOf(a.storage, ctx.cwd) }),
        allocationStrategy: strategyOf(a),
        agentUrl: a['agent-communication'],
        ...(a['advertise-agent-url'] === undefined ? {} : { advertiseAgentUrl: a['advertise-agent-url'] }),
        clientUrl: a['client-communication'],
        ...(a['cache-communication'] === undefined ? {} : { cacheUrl: a['cache-communication'] }),
        ...(a['cache-processes'] === undefined
          ? {}
          : { cacheProcesses: cacheProcessesOf(a['cache-processes']) }),
        ...(a['metrics-communication'] === undefined ? {} : { metricsUrl: a['metrics-communication'] }),
        ...(a['dashboard-communication'] === undefined ? {} : { dashboardUrl: a['dashboard-communication'] }),
        storeDir: a['store-dir'],
        ...(a['lease-seconds'] === undefined ? {} : { leaseSeconds: a['lease-seconds'] }),
        substituteUrls: a['substitute-url'] ?? [],
        logger: createJsonLogger(a['log-level'] as LogLevel),
        ...hooksOf(a, ctx),
        ...controlSettingsOf(a),
        client: { derivationSubstitutes: await derivationSubstitutesOf(a, ctx) },
        cache: {
          ...(a['signing-key'] === undefined ? {} : { signingKeyFile: resolve(ctx.cwd, a['signing-key']) }),
          ...(a['guix-signing-key'] === undefined
            ? {}
            : { guixSigningKeyFile: resolve(ctx.cwd, a['guix-signing-key']) }),
          ...(a['cache-flavour'] === undefined ? {} : { flavour: a['cache-flavour'] as CacheFlavour }),
          ...(a['cache-ttl'] === undefined ? {} : { narinfoMaxAge: a['cache-ttl'] }),
          ...(a['cache-negative-ttl'] === undefined ? {} : { negativeMaxAge: a['cache-negative-ttl'] }),
        },
      });
      const stopped = untilSignal();
      try {
        await coordinator.start();
        const listening = await listen(coordinator);
        try {
          if (a['pid-file'] !== undefined)
            await writeFile(resolve(ctx.cwd, a['pid-file']), `${process.pid}\n`);
          out.result(
            {
              agentUrl: listening.agentUrl,
              clientUrl: listening.clientUrl,
              cacheUrl: listening.cacheUrl,
              metricsUrl: listening.metricsUrl,
              dashboardUrl: listening.dashboardUrl,
              pid: process.pid,
              cacheHelperPids: listening.cacheHelperPids?.(),
            },
            () =>
              `gbc coordinator: agent API on ${listening.agentUrl}, client API on ${listening.clientUrl}` +
              (listening.cacheUrl === undefined ? '' : `, binary cache also on ${listening.cacheUrl}`) +
              (listening.cacheHelperPids === undefined
                ? ''
                : ` (with ${listening.cacheHelperPids().length} helper processes)`) +
              (listening.metricsUrl === undefined ? '' : `, metrics on ${listening.metricsUrl}`) +
              (listening.dashboardUrl === undefined
                ? ''
                : `, read-only dashboard on ${listening.dashboardUrl}`),
          );
          const signal = await stopped.promise;
          out.note(`gbc coordinator: ${signal}, stopping`);
        } finally {
          await listening.close();
          if (a['pid-file'] !== undefined) await rm(resolve(ctx.cwd, a['pid-file']), { force: true });
        }
      } finally {
        stopped.dispose();
        await coordinator.stop();
      }
    },
  };
}

/**
 * `--cache-processes`: `auto`, or a whole number (a configuration file may give
 * it as one), within the configuration's bounds — refused here as a usage error.
 */
function cacheProcessesOf(value: string | number): number | 'auto' {
  const given =
    value === 'auto' || typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  try {
    checkCacheProcesses(given);
  } catch {
    throw new CliError(
      'bad-cache-processes',
      `--cache-processes must be a whole number from 1 to 64 or auto, not ${JSON.stringify(String(value))}`,
      ExitCode.usage,
    );
  }
  return given;
}

/** An object-store URL as given; a directory relative to the working directory. */
function storageOf(storage: string, cwd: string): string {
  return storage.startsWith('s3://') ? storage : resolve(cwd, storage);
}

interface CoordinatorArgs extends ControlArgs {
  readonly json: boolean;
  readonly database: string;
  readonly 'agent-communication': string;
  readonly 'advertise-agent-url'?: string;
  readonly 'client-communication': string;
  readonly 'cache-communication'?: string;
  readonly 'cache-processes'?: string | number;
  readonly 'metrics-communication'?: string;
  readonly 'dashboard-communication'?: string;
  readonly 'allocation-strategy': string;
  readonly 'data-dir': string;
  readonly storage?: string;
  readonly 'store-dir': string;
  readonly 'signing-key'?: string;
  readonly 'cache-flavour'?: string;
  readonly 'cache-ttl'?: number;
  readonly 'cache-negative-ttl'?: number;
  readonly 'pid-file'?: string;
  readonly 'lease-seconds'?: number;
  readonly 'substitute-url'?: string[];
  readonly 'derivation-substitute-url'?: string[];
  readonly 'trusted-public-key'?: string[];
  readonly 'trusted-guix-key'?: string[];
  readonly 'log-level': string;
  readonly 'parallel-hooks'?: unknown;
  readonly 'hook-lease-seconds'?: number;
  readonly 'update-database': boolean;
}

/**
 * Hooks come from the configuration file only (`hooks`: per event type, a
 * list of built-in hooks, commands, modules or, in a JavaScript file,
 * functions); `parallel-hooks` from the file, GBC_PARALLEL_HOOKS or the flag.
 */
function hooksOf(
  a: CoordinatorArgs,
  ctx: CommandContext,
): Pick<CoordinatorOptions, 'hooks' | 'parallelHooks' | 'hookRunner'> {
  const hooks = ctx.layers.file.hooks;
  if (hooks !== undefined && (hooks === null || typeof hooks !== 'object' || Array.isArray(hooks))) {
    throw new CliError(
      'bad-hooks',
      'hooks in the configuration file must be an object of event type -> list of hooks',
      ExitCode.usage,
    );
  }
  const hookLease = a['hook-lease-seconds'];
  if (hookLease !== undefined && !(Number.isFinite(hookLease) && hookLease > 0 && hookLease <= 86_400)) {
    throw new CliError(
      'bad-hook-lease',
      `hook-lease-seconds must be a number of seconds above 0 and at most 86400, got ${String(hookLease)}`,
      ExitCode.usage,
    );
  }
  const parallel = a['parallel-hooks'];
  let parallelHooks: CoordinatorOptions['parallelHooks'];
  if (typeof parallel === 'number' || (typeof parallel === 'string' && /^[1-9][0-9]*$/.test(parallel))) {
    parallelHooks = Number(parallel);
  } else if (
    parallel !== null &&
    typeof parallel === 'object' &&
    !Array.isArray(parallel) &&
    Object.values(parallel).every((n) => Number.isInteger(n) && (n as number) > 0)
  ) {
    parallelHooks = parallel as Record<string, number>;
  } else if (parallel !== undefined) {
    throw new CliError(
      'bad-parallel-hooks',
      `parallel-hooks must be a positive integer or an object of event type -> positive integer, got ${JSON.stringify(parallel)}`,
      ExitCode.usage,
    );
  }
  return {
    ...(hooks === undefined ? {} : { hooks: hooks as CoordinatorOptions['hooks'] }),
    ...(parallelHooks === undefined ? {} : { parallelHooks }),
    ...(hookLease === undefined ? {} : { hookRunner: { leaseMs: hookLease * 1000 } }),
  };
}

/**
 * The derivation substitute servers and the keys trusted on what they serve.
 * URLs may be given space-separated in one value, as Guix's services write them.
 */
async function derivationSubstitutesOf(
  a: CoordinatorArgs,
  ctx: CommandContext,
): Promise<DerivationSubstitutesOptions> {
  const urls = (a['derivation-substitute-url'] ?? []).flatMap((u) => u.split(/\s+/)).filter((u) => u !== '');
  for (const u of urls) {
    if (!/^https?:\/\/[^\s/]/.test(u))
      throw new CliError(
        'bad-substitute-url',
        `derivation-substitute-url must be an http(s) URL, got ${JSON.stringify(u)}`,
        ExitCode.usage,
      );
  }
  const nixKeys = (a['trusted-public-key'] ?? []).map((k) => {
    try {
      return parsePublicKey(k.trim());
    } catch (error) {
      throw new CliError(
        'bad-public-key',
        `trusted-public-key ${JSON.stringify(k)}: ${(error as Error).message}`,
        ExitCode.usage,
      );
    }
  });
  const guixKeys = await Promise.all(
    (a['trusted-guix-key'] ?? []).map(async (file) => {
      try {
        return parseGuixPublicKey(await readFile(resolve(ctx.cwd, file)));
      } catch (error) {
        throw new CliError(
          'bad-public-key',
          `trusted-guix-key ${file}: ${(error as Error).message}`,
          ExitCode.usage,
        );
      }
    }),
  );
  return { urls, nixKeys, guixKeys };
}

/** A strategy named by flag or environment, or a strategy object a JavaScript configuration file exports. */
function strategyOf(a: CoordinatorArgs): string | AllocationStrategy {
  const value: unknown = a['allocation-strategy'];
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && typeof (value as { name?: unknown }).name === 'string')
    return value as AllocationStrategy;
  throw new CliError(
    'bad-strategy',
    `allocation-strategy must be a name, a module path or a strategy object, got ${typeof value}`,
    ExitCode.usage,
  );
}
