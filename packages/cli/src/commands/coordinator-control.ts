// The control settings of `gbc coordinator`: client authentication, farm-wide
// build time limits, the retention policy and the partial-upload sweep, as
// flags / GBC_* / file keys.
import type { CoordinatorOptions } from '@gbc/coordinator-server';
import { CliError, ExitCode } from '../errors.js';

/** The yargs options `gbc coordinator` declares for control settings. */
export const controlOptions = {
  'client-auth': {
    type: 'string',
    choices: ['auto', 'required'],
    describe: 'auto: tokens needed once one exists; required: always',
    requiresArg: true,
  },
  'client-allow-unauthenticated': {
    type: 'boolean',
    describe: 'Serve a client API without tokens beyond loopback',
  },
  'build-timeout': {
    type: 'number',
    describe: 'Default wall-clock limit of a build, seconds',
    requiresArg: true,
  },
  'max-silent-time': {
    type: 'number',
    describe: 'Default limit of a build without output, seconds',
    requiresArg: true,
  },
  'retention-output-days': {
    type: 'number',
    describe: 'Keep outputs this many days after their latest successful build',
    requiresArg: true,
  },
  'retention-log-days': {
    type: 'number',
    describe: 'Drop logs of attempts that ended more days ago',
    requiresArg: true,
  },
  'retention-nar-budget': {
    type: 'string',
    describe: 'Largest total size of stored NARs: bytes, or with K/M/G/T (powers of 1024)',
    requiresArg: true,
  },
  'retention-interval': {
    type: 'number',
    describe: 'Run retention every this many seconds (0 = only on demand)',
    requiresArg: true,
  },
  'partial-upload-max-age': {
    type: 'number',
    describe: 'Remove partial uploads nobody resumed for this many seconds (0 = never; default 86400)',
    requiresArg: true,
  },
  'guix-signing-key': {
    type: 'string',
    describe: 'Guix key file (guix archive --generate-key) to sign Guix narinfos with',
    requiresArg: true,
  },
} as const;

/** The parsed control options. */
export interface ControlArgs {
  readonly 'client-auth'?: string;
  readonly 'client-allow-unauthenticated'?: boolean;
  readonly 'build-timeout'?: number;
  readonly 'max-silent-time'?: number;
  readonly 'retention-output-days'?: number;
  readonly 'retention-log-days'?: number;
  readonly 'retention-nar-budget'?: string | number;
  readonly 'retention-interval'?: number;
  readonly 'partial-upload-max-age'?: number;
  readonly 'guix-signing-key'?: string;
}

type ControlSettings = Pick<
  CoordinatorOptions,
  | 'clientAuth'
  | 'allowUnauthenticatedClients'
  | 'buildTimeoutSeconds'
  | 'maxSilentTimeSeconds'
  | 'retention'
  | 'retentionIntervalSeconds'
  | 'partialUploadMaxAgeSeconds'
>;

/** The coordinator options for the control flags given (absent flags keep the coordinator's defaults). */
export function controlSettingsOf(a: ControlArgs): ControlSettings {
  const retention = {
    ...(a['retention-output-days'] === undefined
      ? {}
      : { outputDays: nonNegative('retention-output-days', a['retention-output-days']) }),
    ...(a['retention-log-days'] === undefined
      ? {}
      : { logDays: nonNegative('retention-log-days', a['retention-log-days']) }),
    ...(a['retention-nar-budget'] === undefined
      ? {}
      : { narBudgetBytes: parseSize(a['retention-nar-budget']) }),
  };
  return {
    ...(a['client-auth'] === undefined ? {} : { clientAuth: a['client-auth'] as 'auto' | 'required' }),
    ...(a['client-allow-unauthenticated'] === undefined
      ? {}
      : { allowUnauthenticatedClients: a['client-allow-unauthenticated'] }),
    ...(a['build-timeout'] === undefined
      ? {}
      : { buildTimeoutSeconds: positive('build-timeout', a['build-timeout']) }),
    ...(a['max-silent-time'] === undefined
      ? {}
      : { maxSilentTimeSeconds: positive('max-silent-time', a['max-silent-time']) }),
    ...(Object.keys(retention).length === 0 ? {} : { retention }),
    ...(a['retention-interval'] === undefined
      ? {}
      : { retentionIntervalSeconds: nonNegative('retention-interval', a['retention-interval']) }),
    ...(a['partial-upload-max-age'] === undefined
      ? {}
      : { partialUploadMaxAgeSeconds: nonNegative('partial-upload-max-age', a['partial-upload-max-age']) }),
  };
}

/** Reads a size: a byte count, or a number with K, M, G or T (powers of 1024, optional B/iB). */
export function parseSize(value: string | number): number {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(String(value));
  if (m === null)
    throw new CliError(
      'bad-size',
      `retention-nar-budget: cannot read "${String(value)}" as a size (e.g. 500G, 1048576)`,
      ExitCode.usage,
    );
  const power = ' KMGT'.indexOf((m[2] ?? '').toUpperCase() || ' ');
  return Math.floor(Number(m[1]) * 1024 ** power);
}

function positive(name: string, n: number): number {
  if (!Number.isInteger(n) || n <= 0)
    throw new CliError(
      'bad-limit',
      `--${name} must be a positive integer of seconds, got ${String(n)}`,
      ExitCode.usage,
    );
  return n;
}

function nonNegative(name: string, n: number): number {
  if (!Number.isFinite(n) || n < 0)
    throw new CliError('bad-limit', `--${name} must be a number >= 0, got ${String(n)}`, ExitCode.usage);
  return n;
}
