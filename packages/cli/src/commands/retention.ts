// `gbc retention run [--dry-run]`: asks the coordinator (client API, a
// read-write token when tokens are on) to apply its retention policy now.
// The policy is the coordinator's own configuration, so a run from the
// command line removes exactly what the background task would.
import type { CommandModule } from 'yargs';
import { clientOptions } from '../context.js';
import type { CommandContext } from '../context.js';

interface RetentionArgs {
  readonly json: boolean;
  readonly coordinator: string;
  readonly token?: string;
  readonly 'dry-run': boolean;
}

/** The `retention` command group. */
export function retentionCommand(ctx: CommandContext): CommandModule {
  const run: CommandModule = {
    command: 'run',
    describe: "Apply the coordinator's retention policy now",
    builder: (y) =>
      clientOptions(y, ctx.layers).option('dry-run', {
        type: 'boolean',
        default: false,
        describe: 'Only report what would be removed',
      }),
    handler: async (raw) => {
      const a = raw as unknown as RetentionArgs;
      const r = await ctx.client(a).runRetention({ dryRun: a['dry-run'] });
      const verb = r.dryRun ? 'would remove' : 'removed';
      ctx
        .output(a)
        .result(
          r,
          () =>
            `${verb} ${r.removedNars} NAR(s) (${r.freedBytes} bytes) and ${r.removedLogs} log(s); ${r.keptBytes} bytes of NARs kept`,
        );
    },
  };
  return {
    command: 'retention <command>',
    describe: 'Apply the retention policy on demand',
    builder: (y) => y.command(run).demandCommand(1, 'name a retention command: run'),
    handler: () => undefined,
  };
}
