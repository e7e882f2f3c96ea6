// Built-in hook `guix-data-service`: reports build events to a Guix Data
// Service: POST <url>/build-server/<id>/build-events?token=<token> with
// {"items":[{"type":"build","event":…,"build_id":…,"derivation":…,"timestamp":…}]}.
import { linkAbortSignals } from '@gbc/protocol';
import { HookError } from '../hook-errors.js';
import type { GuixDataServiceHookSpec, HookFunction } from '../hook-types.js';

/** The Guix Data Service's name of each hook event type. */
export const GUIX_DATA_SERVICE_EVENTS: Readonly<Record<string, string>> = {
  'build-submitted': 'scheduled',
  'build-started': 'started',
  'build-success': 'succeeded',
  'build-failure': 'failed',
  'build-canceled': 'canceled',
};

/** Creates the guix-data-service hook for `spec`; events it has no name for are skipped. */
export function createGuixDataServiceHook(spec: GuixDataServiceHookSpec): HookFunction {
  const endpoint = `${spec.url.replace(/\/+$/, '')}/build-server/${encodeURIComponent(String(spec.buildServerId))}/build-events?token=${encodeURIComponent(spec.token)}`;
  const timeoutMs = spec.timeoutMs ?? 30_000;
  return async (event, { signal }) => {
    const name = GUIX_DATA_SERVICE_EVENTS[event.type];
    if (name === undefined) return;
    if (event.build === null || event.derivation === null)
      throw new HookError('missing-data', `event ${event.id} (${event.type}) lacks its build or derivation`);
    const item = {
      type: 'build',
      event: name,
      build_id: event.build,
      derivation: event.derivation,
      timestamp: Math.floor(event.createdAt / 1000),
    };
    // Not AbortSignal.any: the runner's signal lives as long as the coordinator, and each call would leave an entry on it.
    const linked = linkAbortSignals([signal], timeoutMs);
    try {
      let response: Response;
      try {
        response = await fetch(endpoint, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ items: [item] }),
          signal: linked.signal,
        });
      } catch (error) {
        throw new HookError(
          'http-failed',
          `POST to the Guix Data Service at ${spec.url} failed: ${(error as Error).message}`,
          { cause: error },
        );
      }
      if (!response.ok) {
        const body = (await response.text().catch(() => '')).slice(0, 500);
        throw new HookError(
          'http-failed',
          `the Guix Data Service at ${spec.url} answered ${response.status}${body === '' ? '' : `: ${body}`}`,
        );
      }
      await response.body?.cancel();
    } finally {
      linked.release();
    }
  };
}
