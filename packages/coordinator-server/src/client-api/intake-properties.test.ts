// Property tests of derivation intake through app.request(): any mutation of a
// derivation's bytes, or of its claimed path, gives a typed refusal (422 or
// 400) or, when the bytes are untouched, success; never a server error, and a
// refused derivation is never recorded.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeDerivationText } from '@gbc/protocol';
import { DIALECTS, startTestCoordinator, syntheticDerivation } from './test-support.js';
import type { SyntheticDerivation, TestCoordinator } from './test-support.js';

describe.each(DIALECTS)('derivation intake properties on %s', (dialect) => {
  let t: TestCoordinator;
  let base: SyntheticDerivation;
  let child: SyntheticDerivation;
  beforeAll(async () => {
    t = await startTestCoordinator(dialect);
    base = syntheticDerivation(`prop-base-${dialect}`);
    child = syntheticDerivation(`prop-child-${dialect}`, [base]);
    const res = await t.json('POST', '/derivations', {
      derivations: [{ path: base.path, text: encodeDerivationText(base.bytes) }],
    });
    expect(res.status).toBe(200);
  });
  // undefined when beforeAll failed before the coordinator started
  afterAll(async () => (t as TestCoordinator | undefined)?.close());

  it('refuses mutated texts with a typed error and records nothing', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        async (edits) => {
          // A derivation of its own per run: an edit that changes nothing records
          // it, and a recorded path is answered 200 without looking at the text.
          const child = syntheticDerivation(`prop-child-${dialect}-${runs++}`, [base]);
          const bytes = new Uint8Array(child.bytes);
          for (const [at, value] of edits) bytes[at % bytes.length] = value;
          const same = bytes.every((b, i) => b === child.bytes[i]);
          const res = await t.json('POST', '/derivations', {
            derivations: [{ path: child.path, text: encodeDerivationText(bytes) }],
          });
          if (same) {
            expect(res.status).toBe(200);
            return;
          }
          expect(res.status).toBe(422);
          expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
            'unprocessable-derivation',
          );
          const missing = (await (
            await t.json('POST', '/derivations/missing', { paths: [child.path] })
          ).json()) as { missing: string[] };
          expect(missing.missing).toEqual([child.path]);
        },
      ),
      { numRuns: 60 },
    );
    // Sixty round trips through the intake on PostgreSQL outlast the default timeout on a loaded machine.
  }, 120_000);

  it('refuses NUL bytes in an input path without reaching the database with them', async () => {
    const text = new TextDecoder('latin1').decode(child.bytes);
    const at = text.indexOf(base.path) + '/gnu/store/'.length + 3;
    const bytes = new Uint8Array(child.bytes);
    bytes[at] = 0;
    const res = await t.json('POST', '/derivations', {
      derivations: [{ path: child.path, text: encodeDerivationText(bytes) }],
    });
    expect(res.status).toBe(422);
  });

  it('refuses a consistent derivation whose system is not printable ASCII', async () => {
    const odd = syntheticDerivation(`prop-odd-${dialect}`, [], 'x86_64\u0000linux');
    const res = await t.json('POST', '/derivations', {
      derivations: [{ path: odd.path, text: encodeDerivationText(odd.bytes) }],
    });
    expect(res.status).toBe(422);
    expect(
      ((await res.json()) as { error: { details: { problems: { code: string }[] } } }).error.details
        .problems[0]!.code,
    ).toBe('drv-system');
  });

  it("refuses any path but the derivation's own", async () => {
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[0-9a-df-np-sv-z]{32}$/), async (hash) => {
        const path = `/gnu/store/${hash}-prop-child-${dialect}.drv`;
        fc.pre(path !== child.path);
        const res = await t.json('POST', '/derivations', {
          derivations: [{ path, text: encodeDerivationText(child.bytes) }],
        });
        expect(res.status).toBe(422);
      }),
      { numRuns: 30 },
    );
  }, 120_000);
});
