// The `gbc` command: finds the configuration file, declares every command
// over the shared context, parses, and turns any failure into one line and
// a documented exit code (see errors.ts and README.md).
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { agentAdminCommands } from './commands/agent-admin.js';
import { agentCommand } from './commands/agent.js';
import { allocationPlanCommand, dynamicAuthCommand, hooksCommand } from './commands/operators.js';
import { buildCommand } from './commands/build.js';
import { buildsCommand } from './commands/builds.js';
import { cacheCommand } from './commands/cache-key.js';
import { clientTokenCommand } from './commands/client-token.js';
import { coordinatorCommand } from './commands/coordinator.js';
import { retentionCommand } from './commands/retention.js';
import { storageCommand } from './commands/storage.js';
import { submitBuildCommand } from './commands/submit-build.js';
import { findConfigFile, loadConfigFile } from './config/load-config-file.js';
import { createCommandContext } from './context.js';
import type { CommandContext } from './context.js';
import { CliError, ExitCode } from './errors.js';
import { reportError } from './report-error.js';

/** How `main` was started; defaults are the process's own. */
export interface MainOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly stderr?: NodeJS.WritableStream;
}

/** Runs `gbc` with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const stderr = options.stderr ?? process.stderr;
  let ctx: CommandContext | undefined;
  try {
    const file = findConfigFile(argv, env, cwd);
    const layers = { file: file === undefined ? {} : await loadConfigFile(file), env };
    ctx = createCommandContext(layers, cwd);
    const parser = yargs([...argv])
      .scriptName('gbc')
      .usage('$0 <command> [options]\n\nA build coordinator for Guix and Nix derivations.')
      .option('config', {
        type: 'string',
        describe: 'Configuration file (JSON, or a JavaScript module); default ./gbc.config.json if present',
        requiresArg: true,
      })
      .option('json', { type: 'boolean', default: false, describe: 'Print results as JSON' })
      .command(coordinatorCommand(ctx))
      .command(agentCommand(ctx, agentAdminCommands(ctx)))
      .command(submitBuildCommand(ctx))
      .command(buildCommand(ctx))
      .command(buildsCommand(ctx))
      .command(dynamicAuthCommand(ctx))
      .command(allocationPlanCommand(ctx))
      .command(hooksCommand(ctx))
      .command(cacheCommand(ctx))
      .command(clientTokenCommand(ctx))
      .command(retentionCommand(ctx))
      .command(storageCommand(ctx))
      .demandCommand(1, 'name a command (see gbc --help)')
      .strict()
      .recommendCommands()
      .help()
      .alias('help', 'h')
      .version(packageVersion())
      .wrap(Math.min(100, terminalColumns()))
      .exitProcess(false)
      .fail((message: string | null, error: Error | undefined) => {
        throw error ?? new CliError('usage', `${message ?? 'bad usage'} (see gbc --help)`, ExitCode.usage);
      });
    await parser.parseAsync();
    return ctx.lastOutput?.exitCode ?? ExitCode.ok;
  } catch (error) {
    const report = reportError(error, env, ctx?.coordinatorUrl);
    stderr.write(`${report.line}\n`);
    if (report.debug !== undefined) stderr.write(`${report.debug}\n`);
    return report.exitCode;
  }
}

/** The version in @gbc/cli's package.json (beside src/ and dist/ alike). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? 'unknown';
}

/** Columns of the terminal on stdout; 100 when stdout is a file or a pipe. */
function terminalColumns(): number {
  // Node's types say `number`, but `columns` is undefined when stdout is no terminal.
  const columns = process.stdout.columns as number | undefined;
  return columns ?? 100;
}
