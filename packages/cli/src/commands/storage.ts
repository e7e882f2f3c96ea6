// `gbc storage migrate --from DATA-DIR --to s3://bucket/prefix`: copies the
// NARs and logs of a coordinator's data directory into object storage (or
// another directory), verified and resumable (see migrateStorage). Run it
// with the coordinator stopped, or again once it is: a rerun copies only what
// is missing. Partial uploads and live logs are not copied: they stay in the
// data directory, which remains the coordinator's scratch space.
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import type { CommandContext } from '../context.js';
import { CliError, ExitCode } from '../errors.js';

interface MigrateArgs {
  readonly json: boolean;
  readonly from: string;
  readonly to: string;
  readonly journal?: string;
  readonly concurrency: number;
}

/** The `storage` command group. */
export function storageCommand(ctx: CommandContext): CommandModule {
  const migrate: CommandModule = {
    command: 'migrate',
    describe: 'Copy a data directory into object storage (verified, resumable)',
    builder: (y) =>
      y
        .option('from', {
          type: 'string',
          demandOption: true,
          describe: "The coordinator's data directory (its nar/ and log/)",
          requiresArg: true,
        })
        .option('to', {
          type: 'string',
          demandOption: true,
          describe:
            's3://bucket/prefix?endpoint=…&region=…&path-style=true (credentials from AWS_*), or a directory',
          requiresArg: true,
        })
        .option('journal', {
          type: 'string',
          describe:
            'File recording the verified objects (default: in the data directory, one per destination)',
          requiresArg: true,
        })
        .option('concurrency', { type: 'number', default: 2, describe: 'Objects copied at once' }),
    handler: async (raw) => {
      const a = raw as unknown as MigrateArgs;
      const out = ctx.output(a);
      const from = resolve(ctx.cwd, a.from);
      if (!existsSync(join(from, 'nar')) && !existsSync(join(from, 'log')))
        throw new CliError(
          'usage',
          `${from} is not a gbc data directory (no nar/ or log/ in it)`,
          ExitCode.usage,
        );
      const { createDataDirStorage, migrateStorage, openStorage } = await import('@gbc/coordinator-server');
      const source = await createDataDirStorage(from);
      const to = a.to.startsWith('s3://') ? a.to : resolve(ctx.cwd, a.to);
      const destination = await openStorage({ storage: to, dataDir: from });
      const journal = a.journal === undefined ? defaultJournal(from, to) : resolve(ctx.cwd, a.journal);
      let lastNote = 0;
      try {
        const summary = await migrateStorage({
          from: source,
          to: destination,
          journal,
          concurrency: a.concurrency,
          onProgress: (p) => {
            const now = Date.now();
            if (now - lastNote < 1000 && p.doneObjects < p.totalObjects) return;
            lastNote = now;
            out.note(
              `migrate: ${p.doneObjects}/${p.totalObjects} objects, ${mib(p.doneBytes)}/${mib(p.totalBytes)} ` +
                `(copied ${p.copied}, already there ${p.skipped + p.verifiedExisting})`,
            );
          },
        });
        out.result(
          { ...summary, journal },
          () =>
            `migrated ${summary.totalObjects} object(s), ${mib(summary.totalBytes)}: copied ${summary.copied}, ` +
            `recorded before ${summary.skipped}, found there and verified ${summary.verifiedExisting}`,
        );
      } finally {
        destination.close?.();
      }
    },
  };
  return {
    command: 'storage <command>',
    describe: 'Manage where NARs and logs are kept',
    builder: (y) => y.command(migrate).demandCommand(1, 'name a storage command: migrate'),
    handler: () => undefined,
  };
}

/** `<data-dir>/scratch/migrate-<sha256 of the destination, 16 hex>.journal`. */
function defaultJournal(from: string, to: string): string {
  const id = createHash('sha256').update(to.replace(/\?.*$/, '')).digest('hex').slice(0, 16);
  return join(from, 'scratch', `migrate-${id}.journal`);
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
