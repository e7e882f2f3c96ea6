// `gbc build show|cancel|update-priority|watch|log|why ID`.
import type { Argv, CommandModule } from 'yargs';
import type { BuildState } from '@gbc/protocol';
import { clientOptions } from '../context.js';
import type { CommandContext } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { buildDetailText, whyText } from '../format/build-text.js';

interface IdArgs {
  readonly json: boolean;
  readonly coordinator: string;
  readonly token?: string;
  readonly id: string;
}

const finished: ReadonlySet<BuildState> = new Set(['succeeded', 'failed', 'canceled']);

/** The `build` command group. */
export function buildCommand(ctx: CommandContext): CommandModule {
  const withId = <T>(y: Argv<T>) =>
    clientOptions(y, ctx.layers).positional('id', {
      type: 'string',
      describe: 'Build uuid',
      demandOption: true,
    });
  const sub = (
    command: string,
    describe: string,
    run: (a: IdArgs & Record<string, unknown>) => Promise<void>,
    extra?: (y: Argv) => Argv,
  ): CommandModule => ({
    command,
    describe,
    builder: (y) => (extra === undefined ? withId(y) : extra(withId(y))),
    handler: (raw) => run(raw as unknown as IdArgs & Record<string, unknown>),
  });
  return {
    command: 'build <command>',
    describe: 'Show, cancel, reprioritise, watch a build, read its log, ask why it waits',
    builder: (y) =>
      y
        .command(
          sub('show <id>', 'Show a build, its attempts and outputs', async (a) => {
            const b = await ctx.client(a).getBuild(a.id);
            ctx.output(a).result(b, () => buildDetailText(b));
          }),
        )
        .command(
          sub(
            'cancel <id>',
            'Cancel a build',
            async (a) => {
              const r = await ctx
                .client(a)
                .cancelBuild(a.id, { ignoreIfFinished: a['ignore-if-finished'] === true });
              ctx
                .output(a)
                .result(r, () =>
                  r.canceled.length === 0 ? `${a.id} had already ended` : `canceled ${r.canceled.join(' ')}`,
                );
            },
            (y) =>
              y.option('ignore-if-finished', {
                type: 'boolean',
                default: false,
                describe: 'Succeed when the build has already ended',
              }),
          ),
        )
        .command(
          sub(
            'update-priority <id> <priority>',
            "Change a build's priority",
            async (a) => {
              const priority = Number(a.priority);
              if (!Number.isInteger(priority))
                throw new CliError(
                  'bad-priority',
                  `priority must be an integer, got ${String(a.priority)}`,
                  ExitCode.usage,
                );
              const b = await ctx.client(a).updatePriority(a.id, priority);
              ctx.output(a).result(b, () => `${b.uuid} priority ${b.priority}`);
            },
            (y) =>
              y.positional('priority', {
                type: 'string',
                describe: 'New priority (integer, higher runs first)',
                demandOption: true,
              }),
          ),
        )
        .command(
          sub('why <id>', 'Say why a build is not running', async (a) => {
            const w = await ctx.client(a).why(a.id);
            ctx.output(a).result(w, () => whyText(w));
          }),
        )
        .command(
          sub(
            'log <id>',
            "Print a build's log",
            async (a) => {
              const out = ctx.output(a);
              const query = {
                follow: a.follow === true,
                ...(typeof a.attempt === 'string' ? { attempt: a.attempt } : {}),
              };
              const stream = await ctx.client(a).buildLog(a.id, query);
              for await (const chunk of stream) out.write(Buffer.from(chunk).toString('utf8'));
            },
            (y) =>
              y
                .option('follow', {
                  type: 'boolean',
                  default: false,
                  describe: 'Follow a live log until the attempt ends',
                })
                .option('attempt', {
                  type: 'string',
                  describe: 'Attempt uuid (default the latest)',
                  requiresArg: true,
                }),
          ),
        )
        .command(
          sub('watch <id>', 'Follow a build until it ends; exit 4 unless it succeeds', async (a) =>
            watchBuild(ctx, a),
          ),
        )
        .demandCommand(1, 'name a build command: show, cancel, update-priority, watch, log or why'),
    handler: () => undefined,
  };
}

/** Prints state changes of a build until it ends; exit code 4 when it did not succeed. */
async function watchBuild(ctx: CommandContext, a: IdArgs): Promise<void> {
  const out = ctx.output(a);
  const client = ctx.client(a);
  const abort = new AbortController();
  const events = client.events({ query: { build: a.id }, signal: abort.signal });
  // Subscribe first, then read the state, so that no change falls between the two.
  const first = events.next();
  let state = (await client.getBuild(a.id)).state;
  const report = (s: BuildState, detail: Record<string, unknown>) => {
    if (out.json) out.write(`${JSON.stringify({ build: a.id, state: s, ...detail })}\n`);
    else
      out.write(
        `${a.id} ${s}${typeof detail.result === 'string' && detail.result !== 'success' ? ` (${detail.result})` : ''}\n`,
      );
  };
  report(state, {});
  try {
    let next = first;
    while (!finished.has(state)) {
      // A state re-read every few seconds covers a change that came before the stream connected.
      const step = await Promise.race([next, recheckAfter(5000)]);
      if (step === 'recheck') {
        const now = (await client.getBuild(a.id)).state;
        if (now !== state) report((state = now), {});
        continue;
      }
      if (step.done === true) break;
      const e = step.value;
      if (e.state !== undefined && e.state !== state) {
        state = e.state;
        report(state, { event: e.type, ...(e.result === undefined ? {} : { result: e.result }) });
      } else if (e.type === 'build-success' || e.type === 'build-failure' || e.type === 'build-canceled') {
        state = (await client.getBuild(a.id)).state;
        report(state, { event: e.type });
      }
      next = events.next();
    }
  } finally {
    abort.abort();
    await events.return(undefined).catch(() => undefined);
  }
  if (state !== 'succeeded') out.setExitCode(ExitCode.buildFailed);
}

function recheckAfter(ms: number): Promise<'recheck'> {
  return new Promise((resolve) => setTimeout(resolve, ms, 'recheck').unref());
}
