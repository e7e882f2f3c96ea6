// Agent-port routes about a held build: closure, derivation text, start,
// setup failure and result. Each datastore change carries its hook events in
// the same transaction; the scheduler and the live events follow.
import type { Hono, MiddlewareHandler } from 'hono';
import { enqueueEvents, finishAttempt, startAttempt } from '@gbc/datastore';
import type { AttemptOutcome, OutputMetadataInput, ResultKind } from '@gbc/datastore';
import { agentRoutes } from '@gbc/protocol';
import type { BuildResultRequest } from '@gbc/protocol';
import type { CoordinatorContext } from '../context.js';
import { leaseMs } from '../context.js';
import { HttpError } from '../http/http-error.js';
import { mountRoute } from '../http/validate.js';
import type { CoordinatorScheduler } from '../scheduler/create-scheduler.js';
import { StorageError } from '../errors.js';
import type { AgentEnv } from './agent-auth.js';
import { heldAttempt } from './attempt-access.js';
import { derivationClosure } from './closure.js';
import { findDerivationText } from './derivation-text.js';
import { logKey } from './upload-routes.js';
import type { UploadedOutputs } from './uploaded-outputs.js';

/** Mounts closure, derivation text, start, setup-failure and result routes. */
export function mountBuildRoutes(
  app: Hono<AgentEnv>,
  ctx: CoordinatorContext,
  scheduler: CoordinatorScheduler,
  auth: MiddlewareHandler<AgentEnv>,
  uploaded: UploadedOutputs,
): void {
  const db = ctx.datastore.db;
  const opts = { jsonBodyBytes: ctx.config.jsonBodyBytes, before: [auth] };

  mountRoute(
    app,
    agentRoutes.buildClosure,
    async (c, { params, query }) => {
      const held = await heldAttempt(db, params.uuid, c.get('agentId'));
      return c.json(await derivationClosure(db, held.derivationPath, query.derivations), 200);
    },
    opts,
  );

  mountRoute(
    app,
    agentRoutes.derivationText,
    async (c, { params }) => {
      const text = await findDerivationText(db, params.name);
      if (text === undefined) throw new HttpError('not-found', `no derivation ${params.name}`);
      return c.body(Buffer.from(text), 200, { 'Content-Type': 'application/octet-stream' });
    },
    opts,
  );

  mountRoute(
    app,
    agentRoutes.reportBuildStart,
    async (c, { params }) => {
      const me = c.get('agentId');
      const held = await heldAttempt(db, params.uuid, me);
      if (held.startedAt !== null) return c.body(null, 204);
      const now = ctx.clock.now();
      await ctx.datastore.transaction(async (trx) => {
        await startAttempt(trx, held.attemptId, me, leaseMs(ctx), now);
        await enqueueEvents(
          trx,
          [
            {
              eventType: 'build-started',
              payload: { build: held.buildId, agent: me, derivation: held.derivationPath },
            },
          ],
          now,
        );
      });
      ctx.events.publish({
        type: 'build-started',
        build: held.buildId,
        agent: me,
        derivation: held.derivationPath,
        state: 'started',
      });
      return c.body(null, 204);
    },
    opts,
  );

  mountRoute(
    app,
    agentRoutes.reportSetupFailure,
    async (c, { params, body }) => {
      const me = c.get('agentId');
      const held = await heldAttempt(db, params.uuid, me);
      const payload = {
        build: held.buildId,
        agent: me,
        derivation: held.derivationPath,
        missingInputs: body.missingInputs,
      };
      const finished = await finishAttempt(
        db,
        held.attemptId,
        me,
        {
          result: 'setup-failure',
          failureReason: `missing inputs: ${body.missingInputs.join(' ')}`,
          missingInputs: body.missingInputs,
          events: [{ eventType: 'build-missing-inputs', payload }],
        },
        ctx.clock.now(),
      );
      await scheduler.notifyBuildFinished(finished, []);
      ctx.events.publish({
        type: 'build-missing-inputs',
        build: held.buildId,
        agent: me,
        derivation: held.derivationPath,
        state: finished.buildState,
        data: { missingInputs: body.missingInputs },
      });
      return c.body(null, 204);
    },
    opts,
  );

  mountRoute(
    app,
    agentRoutes.reportResult,
    async (c, { params, body }) => {
      const me = c.get('agentId');
      const held = await heldAttempt(db, params.uuid, me);
      const outputs =
        body.result === 'success'
          ? await verifiedOutputs(ctx, uploaded, held.buildId, held.derivationPath)
          : [];
      const logLocation = await sealLog(ctx, logKey(held.buildId, held.attemptId));
      const kind = resultKind(body);
      const eventType =
        kind === 'success'
          ? 'build-success'
          : kind === 'build-failure' || kind === 'timeout'
            ? 'build-failure'
            : undefined;
      const payload = { build: held.buildId, agent: me, derivation: held.derivationPath, result: kind };
      const outcome: AttemptOutcome = {
        result: kind,
        failureReason: failureReason(body),
        logLocation,
        outputs,
        events: eventType === undefined ? [] : [{ eventType, payload }],
      };
      const finished = await finishAttempt(db, held.attemptId, me, outcome, ctx.clock.now());
      // A canceled build is never retried under its UUID: its notes would only linger (its NAR files are retention's orphans).
      if (kind === 'success' || kind === 'canceled') await uploaded.clear(held.buildId);
      await scheduler.notifyBuildFinished(
        finished,
        outputs.map((o) => o.storePath),
      );
      if (eventType !== undefined)
        ctx.events.publish({
          type: eventType,
          build: held.buildId,
          agent: me,
          derivation: held.derivationPath,
          state: finished.buildState,
          result: kind,
        });
      return c.body(null, 204);
    },
    opts,
  );
}

/** The agent's message; for a timeout, which limit stopped the build first (`max-silent-time: …`). */
function failureReason(body: BuildResultRequest): string | null {
  if (body.result === 'timeout')
    return body.message === undefined ? `${body.limit} exceeded` : `${body.limit}: ${body.message}`;
  return 'message' in body ? (body.message ?? null) : null;
}

function resultKind(body: BuildResultRequest): ResultKind {
  return body.result;
}

/** Every output of the derivation, uploaded, verified and present in storage; else 409. */
async function verifiedOutputs(
  ctx: CoordinatorContext,
  uploaded: UploadedOutputs,
  buildId: string,
  derivationPath: string,
): Promise<OutputMetadataInput[]> {
  const names = await ctx.datastore.db
    .selectFrom('derivation_outputs as o')
    .innerJoin('derivations as d', 'd.id', 'o.derivation_id')
    .select('o.name')
    .where('d.path', '=', derivationPath)
    .execute();
  const out: OutputMetadataInput[] = [];
  const missing: string[] = [];
  for (const { name } of names) {
    const note = await uploaded.load(buildId, name);
    const file = note?.metadata.files[0];
    if (
      note === undefined ||
      file?.location == null ||
      (await ctx.storage.store.stat('nar', file.location)) === null
    )
      missing.push(name);
    else out.push(note.metadata);
  }
  if (missing.length > 0)
    throw new HttpError(
      'conflict',
      `cannot accept success for build ${buildId}: outputs not uploaded and verified: ${missing.join(', ')}`,
      { details: { missingOutputs: missing } },
    );
  return out;
}

/** Seals the attempt's live log into storage; returns its key, or null when no log was sent. */
async function sealLog(ctx: CoordinatorContext, key: string): Promise<string | null> {
  try {
    return (await ctx.storage.logs.seal(key)).key;
  } catch (error) {
    if (error instanceof StorageError && error.code === 'not-found') return null;
    throw error;
  }
}
