// `gbc client-token new NAME [--read-only] | list | revoke ID`: client API
// tokens administered on the coordinator host, straight in its database
// (`--database` / GBC_DATABASE / the file's `database`, as `gbc coordinator`
// reads it). This is how the first token is made: once one exists, the HTTP
// token routes want a read-write token themselves.
import type { Argv, CommandModule } from 'yargs';
import type { Datastore } from '@gbc/datastore';
import { layeredOptions } from '../config/layered-options.js';
import type { CommandContext } from '../context.js';

interface TokenArgs {
  readonly json: boolean;
  readonly database: string;
  readonly name?: string;
  readonly 'read-only'?: boolean;
  readonly id?: string;
}

/** The `client-token` command group. */
export function clientTokenCommand(ctx: CommandContext): CommandModule {
  const withDb = <T>(y: Argv<T>) =>
    layeredOptions(y, ctx.layers, {
      database: {
        type: 'string',
        default: 'sqlite://gbc.db',
        describe: "The coordinator's database URI (as for gbc coordinator)",
        requiresArg: true,
      },
    } as const);
  const sub = (
    command: string,
    describe: string,
    run: (a: TokenArgs, ds: Datastore) => Promise<void>,
    extra: (y: Argv) => Argv = (y) => y,
  ): CommandModule => ({
    command,
    describe,
    builder: (y) => extra(withDb(y)),
    handler: async (raw) => {
      const a = raw as unknown as TokenArgs;
      const { openDatastore } = await import('@gbc/datastore');
      const ds = await openDatastore(a.database, { cwd: ctx.cwd });
      try {
        await run(a, ds);
      } finally {
        await ds.close();
      }
    },
  });
  return {
    command: 'client-token <command>',
    describe: 'Create, list and revoke client API tokens (on the coordinator host)',
    builder: (y) =>
      y
        .command(
          sub(
            'new <name>',
            'Create a token; its secret is printed once',
            async (a, ds) => {
              const { createClientToken } = await import('@gbc/coordinator-server');
              const created = await createClientToken(ds.db, {
                name: a.name ?? '',
                scope: a['read-only'] === true ? 'read' : 'read-write',
              });
              ctx
                .output(a)
                .result(
                  created,
                  () =>
                    `${created.secret}\n(id ${created.token.id}, ${created.token.scope}; the secret is not shown again)`,
                );
            },
            (y) =>
              y
                .positional('name', {
                  type: 'string',
                  describe: 'Who or what uses the token',
                  demandOption: true,
                })
                .option('read-only', {
                  type: 'boolean',
                  default: false,
                  describe: 'Only reads (dashboards); default read-write',
                }),
          ),
        )
        .command(
          sub('list', 'List live tokens (never their secrets)', async (a, ds) => {
            const { listClientTokens } = await import('@gbc/coordinator-server');
            const tokens = await listClientTokens(ds.db);
            ctx
              .output(a)
              .result({ tokens }, () =>
                tokens.length === 0
                  ? 'no client tokens'
                  : tokens.map((t) => `${t.id}  ${t.scope.padEnd(10)}  ${t.createdAt}  ${t.name}`).join('\n'),
              );
          }),
        )
        .command(
          sub(
            'revoke <id>',
            'Revoke a token by its id',
            async (a, ds) => {
              const { revokeClientToken } = await import('@gbc/coordinator-server');
              await revokeClientToken(ds.db, a.id ?? '');
              ctx.output(a).result({ revoked: a.id }, () => `revoked ${a.id ?? ''}`);
            },
            (y) =>
              y.positional('id', {
                type: 'string',
                describe: 'Token id (gbc client-token list)',
                demandOption: true,
              }),
          ),
        )
        .demandCommand(1, 'name a client-token command: new, list or revoke'),
    handler: () => undefined,
  };
}
