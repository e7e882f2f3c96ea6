// `POST /retention/run` on the client API: applies the coordinator's retention
// policy now, or with `dryRun` only reports what it would remove.
import { adminRoutes } from '@gbc/protocol';
import type { Env, Hono } from 'hono';
import type { CoordinatorContext } from '../context.js';
import { mountRoute } from '../http/validate.js';
import { retentionRunner } from './retention-runner.js';

/** Mounts `POST /retention/run` on `app`. */
export function mountRetentionRoute<E extends Env>(app: Hono<E>, ctx: CoordinatorContext): void {
  mountRoute(
    app,
    adminRoutes.runRetention,
    async (c, { body }) => {
      const r = await retentionRunner(ctx).run({ dryRun: body.dryRun });
      return c.json(
        {
          dryRun: r.dryRun,
          removedNars: r.removedOutputs.length + r.orphanNars.length,
          removedLogs: r.removedLogs.length + r.orphanLogs.length,
          freedBytes: r.freedBytes,
          keptBytes: r.keptBytes,
        },
        200,
      );
    },
    { jsonBodyBytes: ctx.config.jsonBodyBytes },
  );
}
