// The messages a daemon sends while it works on an operation, up to
// STDERR_LAST: log text, activities, data requests and chunks, errors.
import type { ByteReader } from '../wire/byte-reader.js';
import { MAX_TEXT, protocolMinor, RESULT_BUILD_LOG_LINE, Stderr } from './constants.js';
import { DaemonError, DaemonProtocolError, stripAnsi } from './errors.js';
import type { DaemonInfo } from './handshake.js';

/** A field of a Nix activity or result: an integer or a string. */
export type ActivityField = number | string;

/** One message from the daemon before STDERR_LAST (errors are thrown instead). */
export type StderrEvent =
  /** Log text (STDERR_NEXT): `text` is `bytes` decoded as UTF-8; `bytes` is what the daemon sent. */
  | { readonly kind: 'next'; readonly text: string; readonly bytes: Uint8Array }
  | { readonly kind: 'read'; readonly length: number }
  | { readonly kind: 'write'; readonly data: Uint8Array }
  | {
      readonly kind: 'start-activity';
      readonly id: number;
      readonly level: number;
      readonly type: number;
      readonly text: string;
      readonly fields: readonly ActivityField[];
      readonly parent: number;
    }
  | { readonly kind: 'stop-activity'; readonly id: number }
  | {
      readonly kind: 'result';
      readonly id: number;
      readonly type: number;
      readonly fields: readonly ActivityField[];
    };

async function readFields(reader: ByteReader): Promise<ActivityField[]> {
  const count = await reader.readU64('field count');
  const fields: ActivityField[] = [];
  for (let i = 0; i < count; i++) {
    const at = reader.offset;
    const type = await reader.readU64('field type');
    if (type === 0) fields.push(await reader.readU64('integer field'));
    else if (type === 1) fields.push(await reader.readString(MAX_TEXT, 'string field'));
    else {
      throw new DaemonProtocolError('unexpected-message', 'unknown activity field type', {
        offset: at,
        expected: '0 (integer) or 1 (string)',
        found: String(type),
      });
    }
  }
  return fields;
}

/** Reads the body of STDERR_ERROR in the form the negotiated dialect uses. */
async function readError(reader: ByteReader, info: DaemonInfo, operation: string): Promise<DaemonError> {
  if (info.dialect === 'guix' || protocolMinor(info.protocolVersion) < 26) {
    const message = await reader.readString(MAX_TEXT, 'error message');
    const status = await reader.readU64('error status');
    return new DaemonError({ daemonMessage: stripAnsi(message).trim(), status, operation });
  }
  const type = await reader.readString(MAX_TEXT, 'error type');
  if (type !== 'Error') {
    throw new DaemonProtocolError('unexpected-message', 'structured daemon error of an unknown type', {
      offset: reader.offset,
      expected: '"Error"',
      found: JSON.stringify(type),
    });
  }
  const level = await reader.readU64('error level');
  await reader.readString(MAX_TEXT, 'error name');
  const message = await reader.readString(MAX_TEXT, 'error message');
  await expectNoPosition(reader);
  const traceCount = await reader.readU64('error trace count');
  const traces: string[] = [];
  for (let i = 0; i < traceCount; i++) {
    await expectNoPosition(reader);
    traces.push(stripAnsi(await reader.readString(MAX_TEXT, 'error trace')));
  }
  return new DaemonError({ daemonMessage: stripAnsi(message).trim(), level, traces, operation });
}

async function expectNoPosition(reader: ByteReader): Promise<void> {
  const at = reader.offset;
  const havePos = await reader.readU64('error position flag');
  if (havePos !== 0) {
    throw new DaemonProtocolError(
      'unexpected-message',
      'daemon error carries a position this client cannot read',
      {
        offset: at,
        expected: '0',
        found: String(havePos),
      },
    );
  }
}

/**
 * Decodes whole messages from bytes already received, without a promise per
 * integer: a build sends hundreds of activity and result messages, and
 * reading each field through the async reader was a fifth of the agent's
 * allocations. Anything unusual (an incomplete message, an error, an unknown
 * tag or field type, oversized or badly padded text) is left to the async
 * path, which reads it and reports it as before.
 */
class BufferedMessage {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}

  u64(): number | undefined {
    const b = this.bytes;
    const p = this.pos;
    if (p + 8 > b.length) return undefined;
    const lo = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
    const hi = (b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24)) >>> 0;
    if (hi > 0x1fffff) return undefined;
    this.pos = p + 8;
    return hi * 0x1_0000_0000 + lo;
  }

  string(): string | undefined {
    const bytes = this.stringBytes();
    return bytes === undefined ? undefined : bytes.toString('utf8');
  }

  stringBytes(): Buffer | undefined {
    const length = this.u64();
    if (length === undefined || length > MAX_TEXT) return undefined;
    const start = this.pos;
    const end = start + length + ((8 - (length % 8)) % 8);
    if (end > this.bytes.length) return undefined;
    for (let i = start + length; i < end; i++) if (this.bytes[i] !== 0) return undefined;
    this.pos = end;
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + start, length);
  }

  fields(): ActivityField[] | undefined {
    const count = this.u64();
    if (count === undefined || count > this.bytes.length) return undefined;
    const fields: ActivityField[] = [];
    for (let i = 0; i < count; i++) {
      const type = this.u64();
      const value = type === 0 ? this.u64() : type === 1 ? this.string() : undefined;
      if (value === undefined) return undefined;
      fields.push(value);
    }
    return fields;
  }

  /** The next message, null for STDERR_LAST, undefined when it is not all here or not a common one. */
  event(): StderrEvent | null | undefined {
    switch (this.u64()) {
      case Stderr.Last:
        return null;
      case Stderr.Next: {
        const bytes = this.stringBytes();
        return bytes === undefined ? undefined : { kind: 'next', text: bytes.toString('utf8'), bytes };
      }
      case Stderr.StopActivity: {
        const id = this.u64();
        return id === undefined ? undefined : { kind: 'stop-activity', id };
      }
      case Stderr.Result: {
        const id = this.u64();
        const type = this.u64();
        const fields = type === undefined ? undefined : this.fields();
        return id === undefined || type === undefined || fields === undefined
          ? undefined
          : { kind: 'result', id, type, fields };
      }
      case Stderr.StartActivity: {
        const id = this.u64();
        const level = this.u64();
        const type = this.u64();
        const text = this.string();
        const fields = text === undefined ? undefined : this.fields();
        const parent = fields === undefined ? undefined : this.u64();
        if (
          id === undefined ||
          level === undefined ||
          type === undefined ||
          text === undefined ||
          fields === undefined ||
          parent === undefined
        )
          return undefined;
        return { kind: 'start-activity', id, level, type, text, fields, parent };
      }
      default:
        return undefined;
    }
  }
}

/**
 * Yields the daemon's messages for one operation until STDERR_LAST. A
 * STDERR_ERROR is thrown as a DaemonError naming `operation`. A `read` event
 * must be answered (with `encodeBytes`) before pulling the next event.
 */
export async function* stderrEvents(
  reader: ByteReader,
  info: DaemonInfo,
  operation: string,
): AsyncGenerator<StderrEvent> {
  for (;;) {
    // Wait for the next chunk first (a message usually arrives whole in one), then try it whole.
    if (reader.buffered().length === 0) await reader.atEnd();
    const buffered = reader.buffered();
    if (buffered.length >= 8) {
      const message = new BufferedMessage(buffered);
      const event = message.event();
      if (event !== undefined) {
        reader.consume(message.pos);
        if (event === null) return;
        yield event;
        continue;
      }
    }
    const at = reader.offset;
    const tag = await reader.readU64('stderr message tag');
    switch (tag) {
      case Stderr.Last:
        return;
      case Stderr.Error:
        throw await readError(reader, info, operation);
      case Stderr.Next: {
        const raw = await reader.readBytes(MAX_TEXT, 'log text');
        const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.length);
        yield { kind: 'next', text: bytes.toString('utf8'), bytes };
        break;
      }
      case Stderr.Read:
        yield { kind: 'read', length: await reader.readU64('requested length') };
        break;
      case Stderr.Write:
        yield { kind: 'write', data: await reader.readBytes(MAX_TEXT, 'data chunk') };
        break;
      case Stderr.StartActivity: {
        const id = await reader.readU64('activity id');
        const level = await reader.readU64('activity level');
        const type = await reader.readU64('activity type');
        const text = await reader.readString(MAX_TEXT, 'activity text');
        const fields = await readFields(reader);
        const parent = await reader.readU64('activity parent');
        yield { kind: 'start-activity', id, level, type, text, fields, parent };
        break;
      }
      case Stderr.StopActivity:
        yield { kind: 'stop-activity', id: await reader.readU64('activity id') };
        break;
      case Stderr.Result: {
        const id = await reader.readU64('activity id');
        const type = await reader.readU64('result type');
        yield { kind: 'result', id, type, fields: await readFields(reader) };
        break;
      }
      default:
        throw new DaemonProtocolError(
          'unexpected-message',
          `unknown message from the daemon during ${operation}`,
          {
            offset: at,
            expected: 'a STDERR_* tag',
            found: `0x${tag.toString(16)}`,
          },
        );
    }
  }
}

/** True for a Nix result event that carries one build log line. */
export function isBuildLogLine(event: StderrEvent): event is Extract<StderrEvent, { kind: 'result' }> {
  return (
    event.kind === 'result' && event.type === RESULT_BUILD_LOG_LINE && typeof event.fields[0] === 'string'
  );
}
