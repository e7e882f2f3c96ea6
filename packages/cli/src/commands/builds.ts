// `gbc builds list` (filters, pagination) and `gbc builds cancel --tag`.
import type { CommandModule } from 'yargs';
import type { Build, BuildState, ListBuildsQueryInput } from '@gbc/protocol';
import { buildStateSchema } from '@gbc/protocol';
import { clientOptions } from '../context.js';
import type { CommandContext } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { buildLines } from '../format/build-text.js';
import { parseTags } from './tags.js';

interface ListArgs {
  readonly json: boolean;
  readonly coordinator: string;
  readonly token?: string;
  readonly state?: string[];
  readonly system?: string;
  readonly derivation?: string;
  readonly agent?: string;
  readonly tag?: string[];
  readonly 'created-after'?: string;
  readonly 'created-before'?: string;
  readonly 'priority-min'?: number;
  readonly 'priority-max'?: number;
  readonly blocked?: boolean;
  readonly limit?: number;
  readonly cursor?: string;
  readonly all: boolean;
}

/** The `builds` command group. */
export function buildsCommand(ctx: CommandContext): CommandModule {
  return {
    command: 'builds <command>',
    describe: 'List builds, or cancel builds by tag',
    builder: (y) =>
      y
        .command({
          command: 'list',
          describe: 'List builds, newest first (one page unless --all)',
          builder: (z) =>
            clientOptions(z, ctx.layers)
              .option('state', {
                type: 'string',
                array: true,
                choices: buildStateSchema.options,
                describe: 'Only these states (repeatable)',
              })
              .option('system', { type: 'string', requiresArg: true })
              .option('derivation', { type: 'string', requiresArg: true })
              .option('agent', { type: 'string', describe: 'Agent uuid', requiresArg: true })
              .option('tag', {
                type: 'string',
                array: true,
                describe: 'key=value (repeatable; all must match)',
              })
              .option('created-after', { type: 'string', requiresArg: true })
              .option('created-before', { type: 'string', requiresArg: true })
              .option('priority-min', {
                type: 'number',
                describe: 'Only builds of at least this priority',
                requiresArg: true,
              })
              .option('priority-max', {
                type: 'number',
                describe: 'Only builds of at most this priority',
                requiresArg: true,
              })
              .option('blocked', {
                type: 'boolean',
                describe: 'Only builds blocked by a failed dependency (or, with --no-blocked, not blocked)',
              })
              .option('limit', { type: 'number', describe: 'Builds per page', requiresArg: true })
              .option('cursor', {
                type: 'string',
                describe: 'Start at this page (a nextCursor printed before)',
                requiresArg: true,
              })
              .option('all', { type: 'boolean', default: false, describe: 'Follow every page' }),
          handler: async (raw) => {
            const a = raw as unknown as ListArgs;
            parseTags(a.tag ?? []);
            const query: ListBuildsQueryInput = {
              state: a.state as BuildState[] | undefined,
              system: a.system,
              derivation: a.derivation,
              agent: a.agent,
              tag: a.tag,
              createdAfter: a['created-after'],
              createdBefore: a['created-before'],
              priorityMin: a['priority-min'],
              priorityMax: a['priority-max'],
              blocked: a.blocked,
              limit: a.limit,
              cursor: a.cursor,
            };
            const client = ctx.client(a);
            const out = ctx.output(a);
            if (a.all) {
              const builds: Build[] = [];
              for await (const b of client.iterateBuilds(query)) builds.push(b);
              out.result({ builds, nextCursor: null }, () => buildLines(builds));
            } else {
              const page = await client.listBuilds(query);
              out.result(
                page,
                () =>
                  buildLines(page.builds) +
                  (page.nextCursor === null ? '' : `\nmore: --cursor ${page.nextCursor}`),
              );
            }
          },
        })
        .command({
          command: 'cancel',
          describe: 'Cancel every unfinished build carrying all the given tags',
          builder: (z) =>
            clientOptions(z, ctx.layers).option('tag', {
              type: 'string',
              array: true,
              describe: 'key=value (repeatable)',
            }),
          handler: async (raw) => {
            const a = raw as unknown as ListArgs;
            const tags = parseTags(a.tag ?? []);
            if (tags.length === 0)
              throw new CliError(
                'no-tags',
                'builds cancel needs at least one --tag key=value',
                ExitCode.usage,
              );
            const r = await ctx.client(a).cancelBuildsByTags(tags);
            ctx
              .output(a)
              .result(
                r,
                () =>
                  `canceled ${r.canceled.length} build(s)${r.canceled.length === 0 ? '' : `\n${r.canceled.join('\n')}`}`,
              );
          },
        })
        .demandCommand(1, 'name a builds command: list or cancel'),
    handler: () => undefined,
  };
}
