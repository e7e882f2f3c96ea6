// `gbc cache key new NAME`: a signing key pair for the binary cache, in the
// files `nix-store --generate-binary-cache-key` writes (`name:base64`).
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { formatPublicKey, formatSecretKey, generateSecretKey } from '@gbc/store';
import type { CommandContext } from '../context.js';
import { CliError, ExitCode } from '../errors.js';

interface KeyArgs {
  readonly json: boolean;
  readonly name: string;
  readonly 'secret-key-file'?: string;
  readonly 'public-key-file'?: string;
  readonly force: boolean;
}

/** The `cache` command group. */
export function cacheCommand(ctx: CommandContext): CommandModule {
  return {
    command: 'cache <command>',
    describe: 'Binary cache administration',
    builder: (y) =>
      y
        .command({
          command: 'key <command>',
          describe: 'Signing keys',
          builder: (z) =>
            z
              .command({
                command: 'new <name>',
                describe:
                  'Generate a key pair NAME (e.g. cache.example.org-1): NAME.sec (mode 0600) and NAME.pub',
                builder: (k) =>
                  k
                    .positional('name', { type: 'string', demandOption: true })
                    .option('secret-key-file', {
                      type: 'string',
                      describe: 'Default ./NAME.sec',
                      requiresArg: true,
                    })
                    .option('public-key-file', {
                      type: 'string',
                      describe: 'Default ./NAME.pub',
                      requiresArg: true,
                    })
                    .option('force', {
                      type: 'boolean',
                      default: false,
                      describe: 'Overwrite existing files',
                    }),
                handler: async (raw) => newKey(ctx, raw as unknown as KeyArgs),
              })
              .demandCommand(1, 'name a key command: new'),
          handler: () => undefined,
        })
        .demandCommand(1, 'name a cache command: key'),
    handler: () => undefined,
  };
}

async function newKey(ctx: CommandContext, a: KeyArgs): Promise<void> {
  if (!/^[A-Za-z0-9._-]+$/.test(a.name)) {
    throw new CliError(
      'bad-key-name',
      `key name "${a.name}" may hold only letters, digits, '.', '_' and '-'`,
      ExitCode.usage,
    );
  }
  const secretFile = resolve(ctx.cwd, a['secret-key-file'] ?? `${a.name}.sec`);
  const publicFile = resolve(ctx.cwd, a['public-key-file'] ?? `${a.name}.pub`);
  const key = generateSecretKey(a.name);
  const flag = a.force ? 'w' : 'wx';
  try {
    await writeFile(secretFile, formatSecretKey(key), { mode: 0o600, flag });
    await writeFile(publicFile, formatPublicKey(key), { mode: 0o644, flag });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'EEXIST') {
      throw new CliError(
        'key-exists',
        `${(error as { path?: string }).path ?? 'the key file'} exists; remove it or pass --force`,
        ExitCode.failure,
        { cause: error },
      );
    }
    throw error;
  }
  const publicKey = formatPublicKey(key);
  ctx
    .output(a)
    .result(
      { name: a.name, secretKeyFile: secretFile, publicKeyFile: publicFile, publicKey },
      () =>
        `secret key written to ${secretFile}\npublic key written to ${publicFile}\ntrust it with: trusted-public-keys = ${publicKey}`,
    );
}
