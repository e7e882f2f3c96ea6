// Server-sent events framing: writing one message, and parsing a byte stream into messages.

/** One server-sent event message. */
export interface SseMessage {
  /** The `id:` field, or undefined when the message had none. */
  readonly id: string | undefined;
  /** The `event:` field; `message` when absent. */
  readonly event: string;
  /** The `data:` lines joined with `\n`. */
  readonly data: string;
  /** The `retry:` field in ms, when present. */
  readonly retry: number | undefined;
}

/** Writes one SSE message (`id`, `event`, `data` split on newlines), ending with the blank line. */
export function formatSseMessage(message: {
  id?: string;
  event?: string;
  data: string;
  retry?: number;
}): string {
  let out = '';
  if (message.retry !== undefined) out += `retry: ${message.retry}\n`;
  if (message.id !== undefined) out += `id: ${message.id.replace(/[\r\n]/g, '')}\n`;
  if (message.event !== undefined) out += `event: ${message.event.replace(/[\r\n]/g, '')}\n`;
  for (const line of message.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** An SSE comment line, e.g. a keep-alive. */
export function formatSseComment(text: string): string {
  return `: ${text.replace(/[\r\n]/g, ' ')}\n\n`;
}

/**
 * Parses an SSE byte stream (WHATWG "event stream interpretation"): lines end
 * in CRLF, LF or CR; comments are skipped; a blank line dispatches. A message
 * without data is not dispatched; a final message without a blank line is dropped.
 */
export async function* parseSse(stream: AsyncIterable<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buffer = '';
  let id: string | undefined;
  let event = '';
  let data: string[] = [];
  let retry: number | undefined;
  let sawCr = false;
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true });
    // A CR at the end of the previous chunk already ended a line: drop a following LF.
    if (sawCr && buffer.startsWith('\n')) buffer = buffer.slice(1);
    sawCr = false;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(buffer);
      if (m === null) break;
      if (m[0] === '\r' && m.index === buffer.length - 1) sawCr = true;
      const line = buffer.slice(0, m.index);
      buffer = buffer.slice(m.index + m[0].length);
      if (line === '') {
        if (data.length > 0)
          yield { id, event: event === '' ? 'message' : event, data: data.join('\n'), retry };
        event = '';
        data = [];
        retry = undefined;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') data.push(value);
      else if (field === 'event') event = value;
      else if (field === 'id' && !value.includes('\0')) id = value;
      else if (field === 'retry' && /^[0-9]+$/.test(value)) retry = Number(value);
    }
  }
}

/** Writes a gbc event as an SSE message: `id:` its sequence number, `event:` its type, `data:` its JSON. */
export function formatEventMessage(event: { readonly id: string; readonly type: string }): string {
  return formatSseMessage({ id: event.id, event: event.type, data: JSON.stringify(event) });
}
