// Splits `Key: value` text (narinfo, nix-cache-info) into fields, refusing
// anything that is not one well-formed line per field.
import { quote } from '../errors.js';
import { NarInfoError } from './narinfo-error.js';

/** One `Key: value` line. */
export interface KeyValueLine {
  readonly key: string;
  readonly value: string;
  /** 1-based line number. */
  readonly line: number;
  /** Offset of the line's first character in the text. */
  readonly offset: number;
}

const KEY = /^[A-Za-z][A-Za-z0-9]*$/;
// Any C0 control character or DEL: a value is one line of printable text.
// eslint-disable-next-line no-control-regex -- matching control characters is this pattern's job
const CONTROL = /[\u0000-\u001f\u007f]/;
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Decodes narinfo bytes as UTF-8 (refusing invalid sequences); strings pass through. */
export function decodeText(input: string | Uint8Array, what: string): string {
  if (typeof input === 'string') return input;
  try {
    return decoder.decode(input);
  } catch (error) {
    throw new NarInfoError('narinfo-syntax', `the ${what} is not valid UTF-8`, { cause: error });
  }
}

/** Splits text into `Key: value` lines; every line, the last one too, ends with `\n`. */
export function splitKeyValueLines(text: string, what: string): KeyValueLine[] {
  if (text.length > 0 && !text.endsWith('\n')) {
    throw new NarInfoError('narinfo-syntax', `the ${what} does not end with a newline`, {
      offset: text.length,
      expected: '"\\n" after the last line',
      found: quote(text.slice(-20)),
    });
  }
  const lines: KeyValueLine[] = [];
  if (text.length === 0) return lines;
  let offset = 0;
  for (const [index, raw] of text.slice(0, -1).split('\n').entries()) {
    const line = index + 1;
    const colon = raw.indexOf(': ');
    const key = colon < 0 ? raw : raw.slice(0, colon);
    if (colon < 0 || !KEY.test(key)) {
      throw new NarInfoError('narinfo-syntax', `a ${what} line is not "Key: value"`, {
        line,
        offset,
        expected: 'a field name, ": " and a value',
        found: quote(raw),
      });
    }
    const value = raw.slice(colon + 2);
    if (CONTROL.test(value)) {
      throw new NarInfoError('narinfo-syntax', 'a value holds a control character', {
        field: key,
        line,
        offset,
        found: quote(value),
      });
    }
    lines.push({ key, value, line, offset });
    offset += raw.length + 1;
  }
  return lines;
}
