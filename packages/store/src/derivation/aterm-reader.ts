// A cursor over derivation bytes that reads the ATerm tokens of a `.drv`:
// literals, strings in canonical escaping, and comma-separated lists.
import { quote } from '../errors.js';
import { bytesToByteString } from './byte-string.js';
import { DerivationError } from './errors.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const ESCAPES: Readonly<Record<number, string>> = {
  0x22: '"',
  0x5c: '\\',
  0x6e: '\n',
  0x72: '\r',
  0x74: '\t',
};

/** Reads ATerm tokens from `bytes`, tracking the offset for error messages. */
export class AtermReader {
  readonly bytes: Uint8Array;
  offset = 0;

  /** Starts reading at offset 0. */
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** Consumes the ASCII literal `text` or throws `drv-syntax`. */
  expect(text: string): void {
    for (let i = 0; i < text.length; i++) {
      if (this.bytes[this.offset + i] !== text.charCodeAt(i)) this.fail(`"${text}"`, this.offset + i);
    }
    this.offset += text.length;
  }

  /** Consumes `byte` and returns true when it comes next; otherwise consumes nothing. */
  accept(byte: number): boolean {
    if (this.bytes[this.offset] !== byte) return false;
    this.offset++;
    return true;
  }

  /** Reads a quoted string as a byte string; only \" \\ \n \r \t escapes, no raw \n \r \t. */
  string(): string {
    if (this.bytes[this.offset] !== QUOTE) this.fail('a quoted string', this.offset);
    const start = ++this.offset;
    const bytes = this.bytes;
    let i = start;
    while (i < bytes.length && bytes[i] !== QUOTE && bytes[i] !== BACKSLASH && !isRawControl(bytes[i]!)) i++;
    if (bytes[i] === QUOTE) {
      this.offset = i + 1;
      return bytesToByteString(bytes, start, i);
    }
    let out = bytesToByteString(bytes, start, i);
    for (;;) {
      if (i >= bytes.length) this.fail('a closing quote', i, 'end of input');
      const b = bytes[i]!;
      if (b === QUOTE) break;
      if (isRawControl(b)) {
        throw new DerivationError(
          'drv-noncanonical',
          'raw tab, newline or carriage return in a string (Nix writes them escaped)',
          {
            offset: i,
          },
        );
      }
      if (b === BACKSLASH) {
        const escaped = bytes[i + 1];
        const text = escaped === undefined ? undefined : ESCAPES[escaped];
        if (text === undefined) {
          throw new DerivationError('drv-escape', 'invalid escape in a string', {
            offset: i,
            expected: '\\" \\\\ \\n \\r or \\t',
            found: escaped === undefined ? 'end of input' : quote(bytesToByteString(bytes, i, i + 2)),
          });
        }
        out += text;
        i += 2;
      } else {
        const runStart = i;
        while (i < bytes.length && bytes[i] !== QUOTE && bytes[i] !== BACKSLASH && !isRawControl(bytes[i]!))
          i++;
        out += bytesToByteString(bytes, runStart, i);
      }
    }
    this.offset = i + 1;
    return out;
  }

  /** Reads `[item,item,…]` with `item` reading one element. */
  list<T>(item: () => T): T[] {
    this.expect('[');
    const out: T[] = [];
    if (this.accept(0x5d)) return out;
    do out.push(item());
    while (this.accept(0x2c));
    this.expect(']');
    return out;
  }

  /** Throws `drv-syntax` naming what was expected at `offset`. */
  fail(expected: string, offset: number, found?: string): never {
    throw new DerivationError('drv-syntax', 'derivation syntax error', {
      offset,
      expected,
      found:
        found ??
        (offset < this.bytes.length
          ? quote(bytesToByteString(this.bytes, offset, offset + 12))
          : 'end of input'),
    });
  }
}

function isRawControl(b: number): boolean {
  return b === 0x0a || b === 0x0d || b === 0x09;
}
