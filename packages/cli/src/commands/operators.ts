// Operator commands: `gbc dynamic-auth new-token|list|revoke`, `gbc allocation-plan`, `gbc hooks`.
import type { CommandModule } from 'yargs';
import { clientOptions } from '../context.js';
import type { CommandContext } from '../context.js';

interface ClientArgs {
  readonly json: boolean;
  readonly coordinator: string;
  readonly token?: string;
}

/** The `dynamic-auth` command group. */
export function dynamicAuthCommand(ctx: CommandContext): CommandModule {
  return {
    command: 'dynamic-auth <command>',
    describe: 'Tokens agents exchange for credentials (creating the agent on first use)',
    builder: (y) =>
      y
        .command({
          command: 'new-token',
          describe: 'Create a dynamic-auth token (shown once)',
          builder: (z) => clientOptions(z, ctx.layers),
          handler: async (raw) => {
            const a = raw as unknown as ClientArgs;
            const t = await ctx.client(a).createDynamicAuthToken();
            ctx.output(a).result(t, () => t.token);
          },
        })
        .command({
          command: 'list',
          describe: 'List dynamic-auth tokens (ids, dates, the agents each created; never the tokens)',
          builder: (z) => clientOptions(z, ctx.layers),
          handler: async (raw) => {
            const a = raw as unknown as ClientArgs;
            const r = await ctx.client(a).listDynamicAuthTokens();
            ctx
              .output(a)
              .result(r, () =>
                r.tokens
                  .map(
                    (t) =>
                      `${t.id}  ${t.createdAt}  ${t.revokedAt === null ? 'live' : `revoked ${t.revokedAt}`}  ${t.agents.length === 0 ? '(no agents)' : t.agents.join(' ')}`,
                  )
                  .join('\n'),
              );
          },
        })
        .command({
          command: 'revoke <id>',
          describe: 'Revoke a dynamic-auth token and end the sessions it opened',
          builder: (z) =>
            clientOptions(z, ctx.layers).positional('id', {
              type: 'number',
              describe: 'Token id, as `dynamic-auth list` shows it',
              demandOption: true,
            }),
          handler: async (raw) => {
            const a = raw as unknown as ClientArgs & { id: number };
            const r = await ctx.client(a).revokeDynamicAuthToken(a.id);
            ctx
              .output(a)
              .result(
                r,
                () =>
                  `revoked token ${a.id}; ${r.sessionPasswords} session password(s) of ${r.agents.length} agent(s) removed`,
              );
          },
        })
        .demandCommand(1, 'name a dynamic-auth command: new-token, list or revoke'),
    handler: () => undefined,
  };
}

/** The `allocation-plan` command. */
export function allocationPlanCommand(ctx: CommandContext): CommandModule {
  return {
    command: 'allocation-plan',
    describe: 'Show what each active agent would receive next',
    builder: (y) =>
      clientOptions(y, ctx.layers)
        .option('agent', { type: 'string', describe: 'Only this agent (uuid)', requiresArg: true })
        .option('limit', { type: 'number', describe: 'Builds shown per agent', requiresArg: true }),
    handler: async (raw) => {
      const a = raw as unknown as ClientArgs & { agent?: string; limit?: number };
      const plan = await ctx.client(a).allocationPlan({
        ...(a.agent === undefined ? {} : { agent: a.agent }),
        ...(a.limit === undefined ? {} : { limit: a.limit }),
      });
      ctx
        .output(a)
        .result(plan, () =>
          [
            `strategy ${plan.strategy}, ${plan.unallocatable} ready build(s) no agent can take`,
            ...plan.agents.map(
              (p) => `${p.agent}: ${p.builds.length === 0 ? 'nothing' : p.builds.join(' ')}`,
            ),
          ].join('\n'),
        );
    },
  };
}

/** The `hooks` command: the hook queue and the events whose hooks are failing. */
export function hooksCommand(ctx: CommandContext): CommandModule {
  return {
    command: 'hooks',
    describe: 'Show the hook queue per event type and the events whose hooks are failing',
    builder: (y) =>
      clientOptions(y, ctx.layers).option('limit', {
        type: 'number',
        describe: 'Failing events shown at most (default 100)',
        requiresArg: true,
      }),
    handler: async (raw) => {
      const a = raw as unknown as ClientArgs & { limit?: number };
      const status = await ctx.client(a).hookStatus(a.limit === undefined ? {} : { limit: a.limit });
      ctx
        .output(a)
        .result(status, () =>
          [
            status.queue.length === 0
              ? 'hook queue: empty'
              : `hook queue: ${status.queue.map((q) => `${q.eventType} ${q.pending}`).join(', ')}`,
            status.failing.length === 0 ? 'no failing hooks' : `${status.failing.length} failing event(s):`,
            ...status.failing.map(
              (f) =>
                `${f.id} ${f.eventType}${f.build === null ? '' : ` build ${f.build}`}: ${f.attempts} attempt(s), next ${f.nextAttemptAt}: ${f.lastError.split('\n')[0]}`,
            ),
          ].join('\n'),
        );
    },
  };
}
