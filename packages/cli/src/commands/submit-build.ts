// `gbc submit-build DRV…`: uploads what the coordinator lacks (unless
// --no-upload: the coordinator fetches it) and creates a build per derivation (names from arguments, or from standard input with
// `-` or when none are given); prints the build ids.
import { isAbsolute, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { layeredOptions } from '../config/layered-options.js';
import { clientOptions } from '../context.js';
import type { CommandContext } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { createProgressBar } from '../submit/progress-bar.js';
import { submitDerivations } from '../submit/index.js';
import { parseTags } from './tags.js';

/** The `submit-build` command. */
export function submitBuildCommand(ctx: CommandContext): CommandModule {
  return {
    command: 'submit-build [derivations..]',
    describe: 'Submit builds of derivations (paths, or - to read them from standard input)',
    builder: (y) =>
      layeredOptions(clientOptions(y, ctx.layers), ctx.layers, {
        priority: { type: 'number', default: 0, describe: 'Higher runs first', requiresArg: true },
        tag: { type: 'string', array: true, describe: 'A build tag key=value (repeatable)' },
        'ignore-if-build-for-derivation-exists': {
          type: 'boolean',
          default: false,
          describe: 'Skip a derivation that already has a build',
        },
        'ignore-if-build-for-outputs-exists': {
          type: 'boolean',
          default: false,
          describe: 'Skip a derivation whose outputs already have a build',
        },
        'ensure-all-related-derivation-outputs-have-successful-builds': {
          type: 'boolean',
          default: false,
          describe: 'Also submit builds for inputs nobody has built',
        },
        timeout: {
          type: 'number',
          describe: "Wall-clock limit of each build, seconds (default: the coordinator's)",
          requiresArg: true,
        },
        'max-silent-time': {
          type: 'number',
          describe: "Limit of each build without output, seconds (default: the coordinator's)",
          requiresArg: true,
        },
        'defer-until': {
          type: 'string',
          describe: 'Do not start before this time (ISO 8601)',
          requiresArg: true,
        },
        'store-dir': {
          type: 'string',
          describe: 'Store directory (default: that of the first derivation)',
          requiresArg: true,
        },
        'real-store-dir': {
          type: 'string',
          describe:
            "Directory holding the store's files when it differs from the store directory (local?root=R stores: R/nix/store)",
          requiresArg: true,
        },
        upload: {
          type: 'boolean',
          default: true,
          describe:
            'Upload what the coordinator lacks from the local store; --no-upload submits by name (the coordinator fetches from its derivation substitute servers)',
        },
      } as const).positional('derivations', { type: 'string', array: true, describe: '.drv paths' }),
    handler: async (raw) => {
      const a = raw as unknown as SubmitArgs;
      const out = ctx.output(a);
      const names = await derivationNames(a.derivations ?? [], ctx.cwd);
      if (names.length === 0)
        throw new CliError(
          'no-derivations',
          'name at least one derivation (or - to read them from standard input)',
          ExitCode.usage,
        );
      const priority = a.priority;
      if (!Number.isInteger(priority))
        throw new CliError(
          'bad-priority',
          `--priority must be an integer, got ${String(priority)}`,
          ExitCode.usage,
        );
      const deferUntil = a['defer-until'] === undefined ? undefined : isoTime(a['defer-until']);
      const bar = createProgressBar();
      try {
        const builds = await submitDerivations(ctx.client(a), names, {
          build: {
            priority,
            tags: parseTags(a.tag ?? []),
            ignoreIfBuildForDerivationExists: a['ignore-if-build-for-derivation-exists'],
            ignoreIfBuildForOutputsExists: a['ignore-if-build-for-outputs-exists'],
            ensureAllRelatedDerivationOutputsHaveSuccessfulBuilds:
              a['ensure-all-related-derivation-outputs-have-successful-builds'],
            ...(deferUntil === undefined ? {} : { deferUntil }),
            ...(a.timeout === undefined ? {} : { timeoutSeconds: seconds('timeout', a.timeout) }),
            ...(a['max-silent-time'] === undefined
              ? {}
              : { maxSilentTimeSeconds: seconds('max-silent-time', a['max-silent-time']) }),
          },
          ...(a['store-dir'] === undefined ? {} : { storeDir: a['store-dir'] }),
          ...(a['real-store-dir'] === undefined
            ? {}
            : { realStoreDir: resolve(ctx.cwd, a['real-store-dir']) }),
          upload: a.upload,
          onProgress: bar.update,
        });
        bar.done();
        out.result({ builds }, () =>
          builds
            .map((b) => (b.created ? b.uuid : `${b.uuid} (existing: ${b.reason ?? 'not created'})`))
            .join('\n'),
        );
      } finally {
        bar.done();
      }
    },
  };
}

interface SubmitArgs {
  readonly json: boolean;
  readonly coordinator: string;
  readonly token?: string;
  readonly derivations?: string[];
  readonly priority: number;
  readonly tag?: string[];
  readonly 'ignore-if-build-for-derivation-exists': boolean;
  readonly 'ignore-if-build-for-outputs-exists': boolean;
  readonly 'ensure-all-related-derivation-outputs-have-successful-builds': boolean;
  readonly 'defer-until'?: string;
  readonly timeout?: number;
  readonly 'max-silent-time'?: number;
  readonly 'store-dir'?: string;
  readonly 'real-store-dir'?: string;
  readonly upload: boolean;
}

/** The derivation paths: arguments, with `-` (or no argument on a non-terminal stdin) meaning one per line of standard input. */
async function derivationNames(args: readonly string[], cwd: string): Promise<string[]> {
  const names: string[] = [];
  const fromStdin = args.includes('-') || (args.length === 0 && process.stdin.isTTY !== true);
  for (const arg of args) if (arg !== '-') names.push(arg);
  if (fromStdin) {
    let text = '';
    for await (const chunk of process.stdin) text += String(chunk);
    names.push(...text.split(/\s+/).filter((line) => line !== ''));
  }
  for (const name of names) {
    if (!name.endsWith('.drv'))
      throw new CliError('not-a-derivation', `${name} is not a derivation (.drv) path`, ExitCode.usage);
  }
  return names.map((name) => (isAbsolute(name) ? name : resolve(cwd, name)));
}

/** Reads a time for --defer-until as an ISO 8601 timestamp with a zone. */
function isoTime(text: string): string {
  const t = new Date(text);
  if (Number.isNaN(t.getTime()))
    throw new CliError(
      'bad-time',
      `--defer-until: cannot read "${text}" as a time (use ISO 8601, e.g. 2026-12-01T12:00:00Z)`,
      ExitCode.usage,
    );
  return t.toISOString();
}

/** A time limit flag: a positive whole number of seconds. */
function seconds(name: string, n: number): number {
  if (!Number.isInteger(n) || n <= 0)
    throw new CliError(
      'bad-limit',
      `--${name} must be a positive integer of seconds, got ${String(n)}`,
      ExitCode.usage,
    );
  return n;
}
