// The closure an agent sets a build up from: derivations dependencies first,
// every input to fetch, and which of those are outputs of the build's own
// input derivations (what BuildDerivation needs besides the input sources).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatastore, recordDerivations } from '@gbc/datastore';
import type { Datastore, DerivationRecord } from '@gbc/datastore';
import { decodeDerivationText, encodeDerivationText } from '@gbc/protocol';
import { derivationClosure } from './closure.js';
import { fakeDrv } from './test-support.js';

const withSource = (d: DerivationRecord, source: string): DerivationRecord => ({
  ...d,
  inputSources: [source],
});

describe('derivationClosure', () => {
  let store: Datastore;
  beforeEach(async () => {
    store = await openDatastore('sqlite::memory:');
  });
  afterEach(async () => {
    await store.close();
  });

  it('lists derivations dependencies first, all inputs, and the direct input outputs apart', async () => {
    const base = withSource(fakeDrv('base'), '/gnu/store/00000000000000000000000000000000-base-src');
    const mid = withSource(fakeDrv('mid', [base]), '/gnu/store/11111111111111111111111111111111-mid-src');
    const top = withSource(fakeDrv('top', [mid]), '/gnu/store/22222222222222222222222222222222-top-src');
    // Recorded top first: its input rows are resolved by path once mid is recorded.
    await recordDerivations(store.db, [top]);
    await recordDerivations(store.db, [mid, base]);
    const closure = await derivationClosure(store.db, top.path);
    expect(closure.derivations).toEqual([base.path, mid.path, top.path]);
    expect(closure.inputOutputs).toEqual([mid.outputs[0]!.path]);
    expect(closure.inputs).toEqual(
      [...base.inputSources, ...mid.inputSources, ...top.inputSources, mid.outputs[0]!.path].sort(),
    );
    expect(Buffer.from(decodeDerivationText(closure.text)).equals(Buffer.from(top.text))).toBe(true); // the build's own derivation travels with it
    expect(await derivationClosure(store.db, base.path)).toEqual({
      derivations: [base.path],
      inputs: base.inputSources,
      inputOutputs: [],
      text: encodeDerivationText(base.text),
    });

    // For BuildDerivation: the derivation alone, its own sources and the input outputs it uses, nothing further up.
    expect(await derivationClosure(store.db, top.path, 'own')).toEqual({
      derivations: [top.path],
      inputs: [...top.inputSources, mid.outputs[0]!.path].sort(),
      inputOutputs: [mid.outputs[0]!.path],
      text: encodeDerivationText(top.text),
    });
  });
});
