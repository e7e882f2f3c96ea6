// Event-stream subscribers that stop reading (issue 19, item 5), over real
// HTTP: a client opens `GET /events` and never reads while thousands of events
// are published. Its unsent bytes are bounded: it is dropped (the stream ends
// with a comment saying so) instead of growing the coordinator's memory, and
// a reading subscriber beside it receives every event.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Coordinator } from '../coordinator/create-coordinator.js';
import type { Listening } from '../coordinator/listen.js';
import { silentLogger } from '../logger.js';
import { startListening, type ListeningCoordinator } from '../agent-api/test-support.js';
import { waitFor } from '../test-support/bytes.js';

const BUFFER = 256 * 1024;

describe('GET /events with a subscriber that stops reading', () => {
  let served: ListeningCoordinator;
  let c: Coordinator;
  let listening: Listening;
  const warnings: string[] = [];
  beforeAll(async () => {
    served = await startListening('sqlite', {
      logger: { ...silentLogger, warn: (message: string) => void warnings.push(message) },
      client: { eventBufferBytes: BUFFER },
    });
    ({ c, listening } = served);
  });
  afterAll(() => served.close());

  /** A raw HTTP/1.1 request for /events; the socket is paused at once when `stalled`. */
  function subscribe(stalled: boolean): { socket: Socket; received: () => string; ended: Promise<void> } {
    const url = new URL(listening.clientUrl);
    const socket = connect(Number(url.port), url.hostname);
    let text = '';
    socket.setEncoding('utf8');
    socket.write(`GET /events HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`);
    if (stalled) socket.pause();
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()));
    return { socket, received: () => text, ended };
  }

  it('drops the stalled one once it is the bound behind; the reading one gets every event', async () => {
    const stalled = subscribe(true);
    const reader = subscribe(false);
    await waitFor(() => reader.received().includes(': connected'), 'the reading subscriber to be connected');
    // 4,000 events of ~1 KiB: 4 MiB, sixteen times the bound.
    const padding = 'x'.repeat(1000);
    let last = '';
    for (let i = 0; i < 4000; i++) {
      last = c.context.events.publish({ type: 'agent-status', agent: 'a', data: { padding, i } }).id;
      if (i % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(
      () => warnings.includes('event subscriber dropped: it stopped reading'),
      'the stalled subscriber to be dropped',
    );
    await waitFor(
      () => reader.received().includes(`id: ${last}\n`),
      'the reading subscriber to get the last event',
    );
    expect(warnings.filter((w) => w === 'event subscriber dropped: it stopped reading')).toHaveLength(1);
    // The stalled client reads at last: a prefix of the events, then the end, saying why.
    stalled.socket.resume();
    await stalled.ended;
    const got = stalled.received();
    expect(got).toContain('dropped: this subscriber fell too far behind; reconnect with Last-Event-ID');
    expect(got).not.toContain(`id: ${last}\n`);
    reader.socket.destroy();
    stalled.socket.destroy();
  });
});
