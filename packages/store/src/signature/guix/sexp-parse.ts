// Reads libgcrypt s-expressions in the forms Guix writes or accepts: canonical
// (`(3:ecc…)`) and advanced (tokens, "strings", #hex#, |base64|), as
// gcry_sexp_new does for `string->canonical-sexp`.
import { quote } from '../../errors.js';
import { GuixSignatureError } from './guix-signature-error.js';
import type { Sexp, SexpList } from './sexp.js';

const WHITESPACE = new Set([0x20, 0x09, 0x0b, 0x0c, 0x0d, 0x0a]);
const TOKEN_START = /[A-Za-z\-./_:*+=]/;
const TOKEN_CHAR = /[A-Za-z0-9\-./_:*+=]/;
const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  b: 8,
  t: 9,
  v: 11,
  n: 10,
  f: 12,
  r: 13,
  '"': 34,
  "'": 39,
  '\\': 92,
};

/**
 * Parses one s-expression list from `input` (text is read as UTF-8).
 * Whitespace may surround it; anything else after it is refused. Throws
 * {@link GuixSignatureError} `guix-sexp-syntax` with the byte offset, or
 * `guix-sexp-unsupported` for display hints and the `{…}` transport form.
 */
export function parseSexp(input: string | Uint8Array): SexpList {
  const b = Buffer.from(typeof input === 'string' ? Buffer.from(input, 'utf8') : input);
  const stack: Sexp[][] = [];
  let result: SexpList | undefined;
  let i = 0;
  const fail = (message: string, expected?: string): never => {
    throw new GuixSignatureError('guix-sexp-syntax', `malformed s-expression: ${message}`, {
      offset: i,
      expected,
      found: quote(b.subarray(i, i + 20)),
    });
  };
  const push = (atom: Uint8Array): void => {
    const top = stack[stack.length - 1];
    if (top === undefined) fail('an atom outside any list', '"("');
    else top.push(atom);
  };
  while (i < b.length) {
    const c = b[i] as number;
    const ch = String.fromCharCode(c);
    if (WHITESPACE.has(c)) {
      i += 1;
    } else if (result !== undefined) {
      fail('text after the expression', 'the end of the input');
    } else if (ch === '(') {
      stack.push([]);
      i += 1;
    } else if (ch === ')') {
      const done = stack.pop();
      if (done === undefined) fail('")" without "("');
      else if (stack.length === 0) result = done;
      else (stack[stack.length - 1] as Sexp[]).push(done);
      i += 1;
    } else if (ch === '#') {
      const end = b.indexOf(0x23, i + 1);
      if (end < 0) fail('a hex string without its closing "#"');
      const digits = b
        .subarray(i + 1, end)
        .toString('latin1')
        .replace(/[ \t\v\f\r\n]/g, '');
      if (!/^[0-9A-Fa-f]*$/.test(digits) || digits.length % 2 !== 0)
        fail('a hex string with a non-hex character or an odd number of digits', 'pairs of hex digits');
      push(new Uint8Array(Buffer.from(digits, 'hex')));
      i = end + 1;
    } else if (ch === '|') {
      const end = b.indexOf(0x7c, i + 1);
      if (end < 0) fail('a base64 string without its closing "|"');
      const text = b
        .subarray(i + 1, end)
        .toString('latin1')
        .replace(/[ \t\v\f\r\n]/g, '');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1)
        fail('a malformed base64 string', 'base64');
      push(new Uint8Array(Buffer.from(text, 'base64')));
      i = end + 1;
    } else if (ch === '"') {
      const [bytes, end] = readQuoted(b, i + 1, fail);
      push(bytes);
      i = end;
    } else if (c >= 0x30 && c <= 0x39) {
      const m = /^([0-9]+):/.exec(b.subarray(i, i + 12).toString('latin1'));
      if (m === null) fail('a length prefix not followed by ":"', '<length>:<bytes>');
      const digits = (m as RegExpExecArray)[1] as string;
      const n = Number(digits);
      if (digits.length > 1 && digits.startsWith('0')) fail('a length with a leading zero');
      const start = i + digits.length + 1;
      if (start + n > b.length) fail(`a verbatim string of ${n} bytes past the end of the input`);
      push(new Uint8Array(b.subarray(start, start + n)));
      i = start + n;
    } else if (TOKEN_START.test(ch)) {
      let end = i + 1;
      while (end < b.length && TOKEN_CHAR.test(String.fromCharCode(b[end] as number))) end += 1;
      push(new Uint8Array(b.subarray(i, end)));
      i = end;
    } else if (ch === '[' || ch === '{') {
      throw new GuixSignatureError(
        'guix-sexp-unsupported',
        `s-expression ${ch === '[' ? 'display hints' : 'transport form'} are not supported`,
        { offset: i },
      );
    } else {
      fail('an unexpected character');
    }
  }
  if (result === undefined)
    fail(stack.length > 0 ? 'a list without its closing ")"' : 'no expression', '")"');
  return result as SexpList;
}

/** Reads a quoted string's body from `start` (after the opening quote); returns its bytes and the offset after the closing quote. */
function readQuoted(
  b: Buffer,
  start: number,
  fail: (message: string, expected?: string) => never,
): [Uint8Array, number] {
  const out: number[] = [];
  let i = start;
  while (i < b.length) {
    const c = b[i] as number;
    if (c === 0x22) return [new Uint8Array(out), i + 1];
    if (c !== 0x5c) {
      out.push(c);
      i += 1;
      continue;
    }
    const e = String.fromCharCode(b[i + 1] ?? 0);
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      out.push(simple);
      i += 2;
    } else if (/[0-7]/.test(e) && /^[0-7]{3}$/.test(b.subarray(i + 1, i + 4).toString('latin1'))) {
      out.push(parseInt(b.subarray(i + 1, i + 4).toString('latin1'), 8) & 0xff);
      i += 4;
    } else if (e === 'x' && /^[0-9A-Fa-f]{2}$/.test(b.subarray(i + 2, i + 4).toString('latin1'))) {
      out.push(parseInt(b.subarray(i + 2, i + 4).toString('latin1'), 16));
      i += 4;
    } else if (e === '\r' || e === '\n') {
      // A backslash before a line break continues the string on the next line.
      const pair = String.fromCharCode(b[i + 2] ?? 0);
      i += (e === '\r' && pair === '\n') || (e === '\n' && pair === '\r') ? 3 : 2;
    } else {
      return fail('a bad escape in a quoted string', '\\b \\t \\v \\n \\f \\r \\" \\\' \\\\ \\ooo or \\xHH');
    }
  }
  return fail('a quoted string without its closing quote');
}
