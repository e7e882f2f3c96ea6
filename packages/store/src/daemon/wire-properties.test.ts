// Property tests of the client's pure parts: log lines survive any chunking,
// and whatever bytes a daemon sends, the stderr reader only throws typed errors.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../errors.js';
import { ByteReader } from '../wire/byte-reader.js';
import { encodeBytes, encodeU64 } from '../wire/byte-writer.js';
import { Stderr } from './constants.js';
import { DaemonError } from './errors.js';
import type { DaemonInfo } from './handshake.js';
import { LineSplitter } from './line-splitter.js';
import { stderrEvents } from './stderr.js';

const nix: DaemonInfo = {
  dialect: 'nix',
  daemonVersion: 0x122,
  protocolVersion: 0x122,
  versionString: '2.8.0',
  trusted: null,
};
const guix: DaemonInfo = {
  dialect: 'guix',
  daemonVersion: 0x163,
  protocolVersion: 0x163,
  versionString: null,
  trusted: null,
};

async function drain(bytes: Uint8Array, info: DaemonInfo): Promise<number> {
  let n = 0;
  for await (const event of stderrEvents(new ByteReader([bytes]), info, 'test'))
    if (event.kind !== 'read') n++;
  return n;
}

describe('daemon client properties', () => {
  it('splits log text into the same lines however it is cut', () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z \r]{0,12}$/), { maxLength: 8 }),
        fc.array(fc.nat(40), { maxLength: 6 }),
        (lines, cuts) => {
          const text = lines.map((l) => `${l}\n`).join('');
          const points = [...new Set(cuts.map((c) => Math.min(c, text.length)))].sort((a, b) => a - b);
          const got: string[] = [];
          const splitter = new LineSplitter((line) => got.push(line));
          let at = 0;
          for (const p of [...points, text.length]) {
            splitter.push(text.slice(at, p));
            at = p;
          }
          splitter.flush();
          expect(got).toEqual(lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)));
        },
      ),
    );
  });

  it('reads any byte soup into events or typed errors, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.boolean(), async (bytes, useGuix) => {
        try {
          await drain(bytes, useGuix ? guix : nix);
        } catch (error) {
          expect(error).toBeInstanceOf(StoreError);
        }
      }),
    );
  });

  it('decodes the same events, and fails the same way, whether a message arrives whole or byte by byte', async () => {
    // Whole messages are decoded synchronously, split ones through the async reader: both must agree.
    const text = fc.oneof(fc.string({ maxLength: 12 }), fc.constant('naïve ✓'));
    const field = fc.oneof(
      fc.nat().map((n) => Buffer.concat([encodeU64(0), encodeU64(n)])),
      text.map((t) => Buffer.concat([encodeU64(1), encodeBytes(t)])),
    );
    const fields = fc
      .array(field, { maxLength: 3 })
      .map((fs) => Buffer.concat([encodeU64(fs.length), ...fs]));
    const message = fc.oneof(
      text.map((t) => Buffer.concat([encodeU64(Stderr.Next), encodeBytes(t)])),
      fc.nat().map((id) => Buffer.concat([encodeU64(Stderr.StopActivity), encodeU64(id)])),
      fc
        .tuple(fc.nat(), fc.nat(200), fields)
        .map(([id, type, f]) => Buffer.concat([encodeU64(Stderr.Result), encodeU64(id), encodeU64(type), f])),
      fc
        .tuple(fc.nat(), fc.nat(7), fc.nat(120), text, fields, fc.nat())
        .map(([id, level, type, t, f, parent]) =>
          Buffer.concat([
            encodeU64(Stderr.StartActivity),
            encodeU64(id),
            encodeU64(level),
            encodeU64(type),
            encodeBytes(t),
            f,
            encodeU64(parent),
          ]),
        ),
      // Unusual: an unknown field type, and nonzero padding — the async path's errors.
      fc.constant(
        Buffer.concat([
          encodeU64(Stderr.Result),
          encodeU64(1),
          encodeU64(101),
          encodeU64(1),
          encodeU64(7),
          encodeU64(0),
        ]),
      ),
      fc.constant(
        Buffer.concat([encodeU64(Stderr.Next), encodeU64(1), Buffer.from([0x41, 1, 0, 0, 0, 0, 0, 0])]),
      ),
    );
    const collect = async (chunks: Uint8Array[]): Promise<unknown[]> => {
      const out: unknown[] = [];
      try {
        for await (const event of stderrEvents(new ByteReader(chunks), nix, 'test')) out.push(event);
        out.push('last');
      } catch (error) {
        out.push({ error: (error as StoreError).code, message: (error as Error).message });
      }
      return out;
    };
    await fc.assert(
      fc.asyncProperty(fc.array(message, { maxLength: 6 }), fc.boolean(), async (messages, last) => {
        const bytes = Buffer.concat([...messages, last ? encodeU64(Stderr.Last) : Buffer.alloc(0)]);
        const whole = await collect([bytes]);
        const split = await collect([...bytes].map((b) => Uint8Array.of(b)));
        expect(whole).toEqual(split);
      }),
    );
  });

  it('reads both error forms: Guix message + status, Nix structured with traces', async () => {
    const guixError = Buffer.concat([
      encodeU64(Stderr.Next),
      encodeBytes('hi\n'),
      encodeU64(Stderr.Error),
      encodeBytes('no such path'),
      encodeU64(1),
    ]);
    await expect(drain(guixError, guix)).rejects.toMatchObject({ daemonMessage: 'no such path', status: 1 });
    const nixError = Buffer.concat([
      encodeU64(Stderr.Error),
      encodeBytes('Error'),
      encodeU64(0),
      encodeBytes('Error'),
      encodeBytes('\x1b[31;1merror:\x1b[0m path is \x1b[35;1mbad\x1b[0m'),
      encodeU64(0),
      encodeU64(1),
      encodeU64(0),
      encodeBytes('while doing things'),
    ]);
    const error: unknown = await drain(nixError, nix).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DaemonError);
    expect(error).toMatchObject({
      daemonMessage: 'error: path is bad',
      traces: ['while doing things'],
      level: 0,
      status: undefined,
    });
  });
});
