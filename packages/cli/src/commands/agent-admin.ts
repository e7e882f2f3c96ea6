// `gbc agent new|list|show|password new|list|revoke|tag|activate|deactivate`: agent
// administration over the client API.
import type { Argv } from 'yargs';
import type { Agent } from '@gbc/protocol';
import { clientOptions } from '../context.js';
import type { CommandContext } from '../context.js';
import { parseTags, formatTags } from './tags.js';

interface AdminArgs {
  readonly json: boolean;
  readonly coordinator: string;
  readonly token?: string;
  readonly id: string;
  readonly 'password-id': number;
  readonly name: string;
  readonly description?: string;
  readonly tag?: string[];
  readonly tags?: string[];
  readonly password: boolean;
}

/** Adds the administration subcommands to the `agent` command's builder. */
export function agentAdminCommands(ctx: CommandContext): (y: Argv) => Argv {
  const c = <T>(y: Argv<T>) => clientOptions(y, ctx.layers);
  const id = <T>(y: Argv<T>) =>
    c(y).positional('id', { type: 'string', describe: 'Agent uuid', demandOption: true });
  const run = (f: (a: AdminArgs) => Promise<void>) => (raw: unknown) => f(raw as AdminArgs);
  return (y) =>
    y
      .command(
        'new <name>',
        'Create an agent and its first password (shown once)',
        (z) =>
          c(z)
            .positional('name', { type: 'string', demandOption: true })
            .option('description', { type: 'string', requiresArg: true })
            .option('tag', { type: 'string', array: true, describe: 'key=value (repeatable)' })
            .option('password', {
              type: 'boolean',
              default: true,
              describe: 'Create a password (--no-password: none)',
            }),
        run(async (a) => {
          const r = await ctx.client(a).createAgent({
            name: a.name,
            tags: parseTags(a.tag ?? []),
            withPassword: a.password,
            ...(a.description === undefined ? {} : { description: a.description }),
          });
          ctx
            .output(a)
            .result(r, () => `agent ${r.agent.uuid}${r.password === null ? '' : `\npassword ${r.password}`}`);
        }),
      )
      .command(
        'list',
        'List agents',
        (z) => c(z),
        run(async (a) => {
          const r = await ctx.client(a).listAgents();
          ctx.output(a).result(r, () => r.agents.map(agentLine).join('\n'));
        }),
      )
      .command(
        'show <id>',
        'Show an agent, its status and builds',
        (z) => id(z),
        run(async (a) => {
          const r = await ctx.client(a).getAgent(a.id);
          ctx
            .output(a)
            .result(r, () =>
              [
                agentLine(r),
                ...(r.description === null ? [] : [`description ${r.description}`]),
                `systems     ${r.systems.join(' ') || '(none declared yet)'}`,
                `status      ${r.status === null ? 'never reported' : `load ${r.status.load1} at ${r.status.reportedAt}`}`,
                ...r.allocatedBuilds.map((b) => `allocated   ${b}`),
                ...r.startedBuilds.map((b) => `started     ${b}`),
                ...r.recentAttempts.map(
                  (t) => `finished    ${t.build} ${t.result ?? 'ended'} at ${t.endedAt} ${t.derivation}`,
                ),
              ].join('\n'),
            );
        }),
      )
      .command('password <command>', 'Agent passwords', (z) =>
        z
          .command(
            'new <id>',
            'Create a new password for an agent (shown once)',
            (p) => id(p),
            run(async (a) => {
              const r = await ctx.client(a).newAgentPassword(a.id);
              ctx.output(a).result(r, () => r.password);
            }),
          )
          .command(
            'list <id>',
            "List an agent's passwords: ids, dates, whether a session made them (never the passwords)",
            (p) => id(p),
            run(async (a) => {
              const r = await ctx.client(a).listAgentPasswords(a.id);
              ctx
                .output(a)
                .result(r, () =>
                  r.passwords
                    .map((p) => `${p.id}  ${p.createdAt}  ${p.session ? 'session' : 'operator'}`)
                    .join('\n'),
                );
            }),
          )
          .command(
            'revoke <id> <password-id>',
            "Revoke one of an agent's passwords (refused from its next call on)",
            (p) =>
              id(p).positional('password-id', {
                type: 'number',
                describe: 'Password id, as `password list` shows it',
                demandOption: true,
              }),
            run(async (a) => {
              await ctx.client(a).revokeAgentPassword(a.id, a['password-id']);
              ctx
                .output(a)
                .result(
                  { agent: a.id, revoked: a['password-id'] },
                  () => `revoked password ${a['password-id']} of ${a.id}`,
                );
            }),
          )
          .demandCommand(1, 'name a password command: new, list or revoke'),
      )
      .command(
        'tag <id> [tags..]',
        "Replace an agent's tags with key=value pairs (none: remove all)",
        (z) => id(z).positional('tags', { type: 'string', array: true }),
        run(async (a) => {
          const r = await ctx.client(a).setAgentTags(a.id, parseTags(a.tags ?? []));
          ctx.output(a).result(r, () => agentLine(r));
        }),
      )
      .command(
        'activate <id>',
        'Let an agent fetch builds',
        (z) => id(z),
        run(async (a) => {
          const r = await ctx.client(a).setAgentActive(a.id, true);
          ctx.output(a).result(r, () => agentLine(r));
        }),
      )
      .command(
        'deactivate <id>',
        'Stop giving an agent builds',
        (z) => id(z),
        run(async (a) => {
          const r = await ctx.client(a).setAgentActive(a.id, false);
          ctx.output(a).result(r, () => agentLine(r));
        }),
      );
}

function agentLine(a: Agent): string {
  return `${a.uuid}  ${a.active ? 'active  ' : 'inactive'}  ${a.name}${a.tags.length === 0 ? '' : `  ${formatTags(a.tags)}`}`;
}
