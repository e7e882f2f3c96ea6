// Upload metrics at the routes: bytes read from the request body and the time
// taken, by kind and outcome (`ok` or the refusal's code), reported through
// the context's `observeUpload` (the coordinator's metrics).
import type { Readable } from 'node:stream';
import type { UploadObservation } from '../metrics/coordinator-metrics.js';

/** What an observed upload reports to. */
export interface UploadObserver {
  readonly observeUpload: (upload: UploadObservation) => void;
}

/**
 * Runs `receive` over the chunks of `body`, counting them, and reports the
 * upload once it is stored or refused. The body is iterated without being
 * destroyed when `receive` stops early, so a refusal can still drain it.
 */
export async function observedUpload<T>(
  observer: UploadObserver,
  kind: UploadObservation['kind'],
  body: Readable,
  receive: (chunks: AsyncIterable<Uint8Array>) => Promise<T>,
): Promise<T> {
  const started = performance.now();
  const seen = { bytes: 0 };
  const report = (outcome: string): void =>
    observer.observeUpload({
      kind,
      bytes: seen.bytes,
      seconds: (performance.now() - started) / 1000,
      outcome,
    });
  try {
    const result = await receive(counted(body, seen));
    report('ok');
    return result;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    report(typeof code === 'string' ? code : 'error');
    throw error;
  }
}

async function* counted(body: Readable, seen: { bytes: number }): AsyncGenerator<Uint8Array> {
  for await (const chunk of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>) {
    seen.bytes += chunk.byteLength;
    yield chunk;
  }
}
