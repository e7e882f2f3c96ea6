// Test support (not exported): submitting derivations made in a real
// guix-daemon's store (@gbc/store/testing's addShellDerivation) to a
// coordinator, as `gbc submit-build` would: derivation texts, dependencies
// first, and input sources (the busybox builder) as NARs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CoordinatorClient } from '@gbc/protocol';
import { encodeDerivationText } from '@gbc/protocol';
import { dumpNar, formatNarHash, hashNar, parseDerivation, storePathBasename } from '@gbc/store';

/** Limits and such of the submitted build. */
export interface GuixSubmitOptions {
  readonly timeoutSeconds?: number;
  readonly maxSilentTimeSeconds?: number;
}

/** Uploads the closure of `drvPath`, read from `storeOnDisk` (the daemon's store as seen from here), and submits a build of it. */
export async function submitGuix(
  client: CoordinatorClient,
  storeOnDisk: string,
  drvPath: string,
  options: GuixSubmitOptions = {},
): Promise<string> {
  const onDisk = (p: string): string => join(storeOnDisk, storePathBasename(p));
  const order: string[] = [];
  const sources = new Set<string>();
  const seen = new Set<string>();
  const visit = (p: string): void => {
    if (seen.has(p)) return;
    seen.add(p);
    const d = parseDerivation(readFileSync(onDisk(p)));
    for (const s of d.inputSrcs) sources.add(s);
    for (const i of d.inputDrvs.keys()) visit(i);
    order.push(p);
  };
  visit(drvPath);
  for (const s of sources) {
    const chunks: Uint8Array[] = [];
    for await (const chunk of dumpNar(onDisk(s))) chunks.push(chunk);
    const nar = Buffer.concat(chunks);
    const { narHash, narSize } = await hashNar([nar]);
    await client.putSource(
      storePathBasename(s),
      { narHash: formatNarHash(narHash), narSize, references: [] },
      nar,
    );
  }
  await client.uploadDerivations(
    order.map((p) => ({ path: p, text: encodeDerivationText(readFileSync(onDisk(p))) })),
  );
  const res = await client.submitBuild({ derivation: drvPath, ...options });
  return res.uuid;
}
