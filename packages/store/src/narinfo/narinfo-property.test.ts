// Property tests: random and mutated narinfo text gives a NarInfo or a
// NarInfoError, never another exception; whatever parses writes back to text
// that parses to the same NarInfo.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NIX32_ALPHABET } from '../base32/index.js';
import { NarInfoError, parseNarInfo, writeNarInfo } from './index.js';
import type { NarInfo } from './index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/narinfo/ok');
const seeds = readdirSync(root)
  .filter((f) => f.endsWith('.narinfo'))
  .map((f) => ({
    text: readFileSync(join(root, f), 'utf8'),
    storeDir: f.startsWith('guix') ? '/gnu/store' : '/nix/store',
  }));

/** Parses; on success checks that writing and re-parsing is stable. Returns whether it parsed. */
function check(text: string, storeDir: string): boolean {
  let info: NarInfo;
  try {
    info = parseNarInfo(text, { storeDir });
  } catch (error) {
    if (!(error instanceof NarInfoError)) throw error;
    expect(error.code).toMatch(/^narinfo-/);
    return false;
  }
  // Outside the try: the writer must accept whatever the parser accepted.
  const written = writeNarInfo(info);
  const again = parseNarInfo(written, { storeDir });
  expect(writeNarInfo(again)).toBe(written);
  expect({ ...again, flavour: info.flavour }).toEqual(info);
  return true;
}

const fieldNames = [
  'StorePath',
  'URL',
  'Compression',
  'FileHash',
  'FileSize',
  'NarHash',
  'NarSize',
  'References',
  'Deriver',
  'System',
  'Sig',
  'CA',
  'Signature',
];
const nixChar = fc.constantFrom(...NIX32_ALPHABET.split(''), '-', 'e', ' ', ':', '/', '\n', '\r', '0', '9');

// One mutation of a line list: drop, duplicate, swap, or edit a line.
const mutation = fc.tuple(
  fc.nat(),
  fc.nat(),
  fc.integer({ min: 0, max: 5 }),
  fc.string({ maxLength: 8 }),
  nixChar,
);
function mutate(lines: string[], [i, j, kind, text, ch]: [number, number, number, string, string]): string[] {
  const out = [...lines];
  if (out.length === 0) return [text];
  const a = i % out.length;
  const b = j % out.length;
  const line = out[a]!;
  if (kind === 0) out.splice(a, 1);
  else if (kind === 1) out.splice(b, 0, line);
  else if (kind === 2) [out[a], out[b]] = [out[b]!, line];
  else if (kind === 3)
    out[a] = line.slice(0, j % (line.length + 1)) + ch + line.slice((j % (line.length + 1)) + 1);
  else if (kind === 4) out[a] = line.slice(0, j % (line.length + 1)) + text;
  else out[a] = `${fieldNames[j % fieldNames.length]}: ${line.slice(line.indexOf(': ') + 2)}`;
  return out;
}

describe('narinfo parser properties', () => {
  it('only throws NarInfoError on random text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        check(text, '/nix/store');
        check(`${text}\n`, '/gnu/store');
      }),
      { numRuns: 500 },
    );
  });

  it('only throws NarInfoError on random Key: value lines', () => {
    const line = fc
      .tuple(fc.constantFrom(...fieldNames, 'Other'), fc.stringMatching(/^[ -~]{0,70}$/))
      .map(([k, v]) => `${k}: ${v}`);
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 14 }),
        (lines) => void check(`${lines.join('\n')}\n`, '/nix/store'),
      ),
      { numRuns: 500 },
    );
  });

  it('only throws NarInfoError on mutated real narinfos, and some mutants still parse', () => {
    let parsed = 0;
    let refused = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (seed, mutations) => {
          const lines = mutations.reduce(mutate, seed.text.slice(0, -1).split('\n'));
          if (check(`${lines.join('\n')}\n`, seed.storeDir)) parsed++;
          else refused++;
        },
      ),
      { numRuns: 1000 },
    );
    expect(parsed).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });

  it('only throws NarInfoError on any single-character change, and refuses most of them', () => {
    const seed = seeds.find((s) => s.storeDir === '/nix/store')!;
    let refused = 0;
    fc.assert(
      fc.property(fc.nat(), fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }), (pos, ch) => {
        const at = pos % (seed.text.length - 1);
        if (!check(seed.text.slice(0, at) + ch + seed.text.slice(at + 1), seed.storeDir)) refused++;
      }),
      { numRuns: 1000 },
    );
    expect(refused).toBeGreaterThan(300);
  });
});
