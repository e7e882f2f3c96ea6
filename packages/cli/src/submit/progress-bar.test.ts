// The submission progress bar: drawn on a terminal only, cleared at the end.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgressBar } from './progress-bar.js';

function stream(isTTY: boolean): { out: NodeJS.WriteStream; text: () => string } {
  const s = new PassThrough();
  let text = '';
  s.on('data', (c: Buffer) => (text += c.toString()));
  return { out: Object.assign(s, { isTTY }) as unknown as NodeJS.WriteStream, text: () => text };
}

describe('createProgressBar', () => {
  it('draws each finished phase on one rewritten line of a terminal and clears it at the end', async () => {
    const { out, text } = stream(true);
    const bar = createProgressBar(out);
    bar.update({ phase: 'sources', done: 4, total: 4 });
    bar.update({ phase: 'derivations', done: 0, total: 0 });
    bar.update({ phase: 'builds', done: 2, total: 2 });
    bar.done();
    await new Promise((r) => setImmediate(r));
    expect(text()).toContain(`[${'#'.repeat(24)}] 4/4 sources uploaded`);
    expect(text()).toContain('2/2 builds submitted');
    expect(text().split('\r\x1b[2K').length).toBe(5);
    expect(text().endsWith('\r\x1b[2K')).toBe(true);
  });

  it('writes nothing when standard error is not a terminal', async () => {
    const { out, text } = stream(false);
    const bar = createProgressBar(out);
    bar.update({ phase: 'sources', done: 1, total: 1 });
    bar.done();
    await new Promise((r) => setImmediate(r));
    expect(text()).toBe('');
  });
});
