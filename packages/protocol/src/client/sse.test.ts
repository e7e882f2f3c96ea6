// SSE framing: what formatSseMessage writes, parseSse reads back, however the bytes are split.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatEventMessage, formatSseComment, formatSseMessage, parseSse } from './sse.js';
import type { SseMessage } from './sse.js';

async function* chunks(text: string, cuts: number[]): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    const end = Math.min(bytes.length, cut);
    if (end > at) yield bytes.slice(at, end);
    at = Math.max(at, end);
  }
  if (at < bytes.length) yield bytes.slice(at);
}

async function collect(text: string, cuts: number[] = []): Promise<SseMessage[]> {
  const out: SseMessage[] = [];
  for await (const m of parseSse(chunks(text, cuts))) out.push(m);
  return out;
}

describe('SSE', () => {
  it('parses ids, types, multi-line data, comments and retry', async () => {
    const text =
      ': hello\n\nretry: 250\nid: 7\nevent: build-started\ndata: {"a":\ndata: 1}\n\nid: 8\ndata: x\n\n';
    const msgs = await collect(text);
    expect(msgs).toEqual([
      { id: '7', event: 'build-started', data: '{"a":\n1}', retry: 250 },
      { id: '8', event: 'message', data: 'x', retry: undefined },
    ]);
  });

  it('accepts CRLF and CR line ends, split anywhere, and drops an unterminated last message', async () => {
    expect(await collect('id: 1\r\ndata: a\r\n\r\nid: 2\rdata: b\r\rdata: c', [5, 6, 13, 14, 22])).toEqual([
      { id: '1', event: 'message', data: 'a', retry: undefined },
      { id: '2', event: 'message', data: 'b', retry: undefined },
    ]);
  });

  it('round-trips any messages through any chunking', async () => {
    const message = fc.record({
      id: fc.stringMatching(/^[0-9]{1,6}$/),
      event: fc.constantFrom('build-started', 'agent-status', 'x'),
      data: fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.replace(/\r\n?/g, '\n')),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(message, { maxLength: 6 }),
        fc.array(fc.nat(400), { maxLength: 8 }),
        async (messages, cuts) => {
          const text = formatSseComment('keep-alive') + messages.map((m) => formatSseMessage(m)).join('');
          const got = await collect(text, cuts);
          expect(got).toEqual(messages.map((m) => ({ ...m, retry: undefined })));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('writes a gbc event with its id and type', async () => {
    const event = {
      id: '9',
      type: 'build-success',
      time: '2026-11-27T23:17:36.000Z',
      data: { note: 'a\nb' },
    };
    const [m] = await collect(formatEventMessage(event));
    expect(m).toEqual({ id: '9', event: 'build-success', data: JSON.stringify(event), retry: undefined });
  });
});
