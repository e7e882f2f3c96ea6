// Parser and writer details: error messages name the rule and offset; byte strings stay bytes.
import { describe, expect, it } from 'vitest';
import { byteStringToUtf8, bytesToByteString, utf8ToByteString } from './byte-string.js';
import { DerivationError } from './errors.js';
import { parseDerivation } from './parse.js';
import { writeDerivation } from './write.js';

const enc = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const minimal = 'Derive([("out","/gnu/store/x","","")],[],[],"s","b",[],[("a","1"),("b","2")])';

function refusal(text: string): DerivationError {
  try {
    parseDerivation(enc(text));
  } catch (error) {
    if (error instanceof DerivationError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('parseDerivation', () => {
  it('reads a minimal derivation', () => {
    const drv = parseDerivation(enc(minimal));
    expect(drv.outputs.get('out')).toEqual({ path: '/gnu/store/x', hashAlgo: '', hash: '' });
    expect([...drv.env]).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
    expect(bytesToByteString(writeDerivation(drv))).toBe(minimal);
  });

  it('names the rule and the offset in its errors', () => {
    const swapped = minimal.replace('("a","1"),("b","2")', '("b","2"),("a","1")');
    const unsorted = refusal(swapped);
    expect(unsorted.code).toBe('drv-unsorted');
    expect(unsorted.offset).toBe(swapped.indexOf('("a"'));
    expect(unsorted.message).toMatch(/keys are not sorted; in env; at byte \d+; expected a key after "b"/);
    const trailing = refusal(`${minimal}\n`);
    expect(trailing).toMatchObject({ code: 'drv-trailing', offset: minimal.length });
    const escape = refusal(minimal.replace('"s"', '"\\s"'));
    expect(escape).toMatchObject({ code: 'drv-escape', offset: minimal.indexOf('"s"') + 1 });
    expect(refusal(minimal.replace('"b",[]', '"b" ,[]'))).toMatchObject({
      code: 'drv-syntax',
      offset: minimal.indexOf('"b",[]') + 3,
    });
  });

  it('keeps latin1 and UTF-8 bytes apart and exact', () => {
    const value = 'caf\xe9 \xe2\x98\x83';
    const text = minimal.replace('"1"', `"${value}"`);
    const drv = parseDerivation(enc(text));
    expect(drv.env.get('a')).toBe(value);
    expect(byteStringToUtf8(drv.env.get('a')!)).toBe('caf\ufffd ☃');
    expect(utf8ToByteString('☃')).toBe('\xe2\x98\x83');
    expect(Buffer.from(writeDerivation(drv)).equals(Buffer.from(enc(text)))).toBe(true);
  });
});
