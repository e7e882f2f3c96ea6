// What must hold after a chaos run, whatever the seed: every build ended
// succeeded, with exactly one successful attempt and no attempt left open;
// every served output is what Nix builds for the same derivation (path,
// NarHash, NarSize, references, from the coordinator's narinfo); every
// success reached the hook; no partial file is left in the data directory.
// Each broken invariant is one line naming the builds or files concerned.
import { existsSync, readdirSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import type { BuildDetail } from '@gbc/protocol';
import { fetchNarinfo } from '../support/cache-files.js';
import type { ChaosFarm } from './chaos-farm.js';
import type { HostOutput } from './host-outputs.js';

/** How a build is named in messages: its node, uuid and state. */
export function describeBuild(farm: ChaosFarm, b: BuildDetail): string {
  const attempts = b.attempts
    .map(
      (a) =>
        `${a.result ?? (a.startedAt === null ? 'allocated' : 'started')}@agent${agentIndex(farm, a.agent)}`,
    )
    .join(',');
  return `${farm.buildNodes.get(b.uuid)?.name ?? '?'} (${b.uuid}) ${b.state}${b.agent === null ? '' : ` on agent ${agentIndex(farm, b.agent)}`} [attempts: ${attempts}]`;
}

function agentIndex(farm: ChaosFarm, uuid: string): string {
  const i = farm.agents.findIndex((a) => a.setup.uuid === uuid);
  return i < 0 ? uuid : String(i);
}

/** Why a farm that stopped moving is stuck: the builds held for ever (allocated or started), and how many wait behind them. */
export function describeStall(farm: ChaosFarm, builds: readonly BuildDetail[]): string {
  const held = builds.filter((b) => b.state === 'allocated' || b.state === 'started');
  const queued = builds.filter((b) => b.state === 'queued').length;
  return `held for ever: ${held.length === 0 ? 'none' : held.map((b) => describeBuild(farm, b)).join('; ')}; queued behind them: ${queued}`;
}

/** Broken invariants about builds and attempts. */
export function checkAttempts(farm: ChaosFarm, builds: readonly BuildDetail[]): string[] {
  const problems: string[] = [];
  if (builds.length !== farm.dag.nodes.length)
    problems.push(`${builds.length} builds for ${farm.dag.nodes.length} derivations`);
  const notSucceeded = builds.filter((b) => b.state !== 'succeeded');
  if (notSucceeded.length > 0)
    problems.push(
      `builds that did not succeed: ${notSucceeded.map((b) => describeBuild(farm, b)).join('; ')}`,
    );
  const duplicated = builds.filter((b) => b.attempts.filter((a) => a.result === 'success').length > 1);
  if (duplicated.length > 0)
    problems.push(
      `builds with more than one successful attempt: ${duplicated.map((b) => describeBuild(farm, b)).join('; ')}`,
    );
  const open = builds.filter((b) => b.state === 'succeeded' && b.attempts.some((a) => a.endedAt === null));
  if (open.length > 0)
    problems.push(
      `succeeded builds with an attempt still open: ${open.map((b) => describeBuild(farm, b)).join('; ')}`,
    );
  return problems;
}

/** Broken invariants about outputs: each succeeded build's output against what the host's Nix built. */
export async function checkOutputs(
  farm: ChaosFarm,
  builds: readonly BuildDetail[],
  host: ReadonlyMap<string, HostOutput>,
): Promise<string[]> {
  const problems: string[] = [];
  for (const b of builds.filter((x) => x.state === 'succeeded')) {
    const expected = host.get(b.derivation);
    const output = b.outputs.find((o) => o.name === 'out');
    if (expected === undefined || output === undefined) {
      problems.push(
        `${describeBuild(farm, b)}: no ${expected === undefined ? 'host build' : 'output "out"'} to compare`,
      );
      continue;
    }
    const narinfo = await fetchNarinfo(farm.agentUrl, output.path);
    const served = {
      path: output.path,
      narHash: narinfo.fields?.get('NarHash'),
      narSize: Number(narinfo.fields?.get('NarSize')),
      references: (narinfo.fields?.get('References') ?? '')
        .split(' ')
        .filter((r) => r !== '')
        .sort(),
    };
    const want = {
      path: expected.path,
      narHash: expected.narHash,
      narSize: expected.narSize,
      references: [...expected.references],
    };
    if (JSON.stringify(served) !== JSON.stringify(want)) {
      problems.push(
        `${describeBuild(farm, b)}: served ${JSON.stringify(served)} (narinfo ${narinfo.status}), Nix built ${JSON.stringify(want)}`,
      );
    }
  }
  return problems;
}

/** Broken invariants about the hook: a success whose build-success event was never run. */
export function checkHooks(
  farm: ChaosFarm,
  builds: readonly BuildDetail[],
  runs: ReadonlyMap<string, number>,
): string[] {
  const lost = builds.filter((b) => b.state === 'succeeded' && !runs.has(b.uuid));
  return lost.length === 0
    ? []
    : [
        `successes whose build-success event never reached the hook: ${lost.map((b) => describeBuild(farm, b)).join('; ')}`,
      ];
}

/** Partial files under the data directory: temporaries (`.tmp-*`), partial uploads (`*.part`) and anything left in `scratch/`. */
export function partialFiles(dataDir: string): string[] {
  if (!existsSync(dataDir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dataDir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const path = relative(dataDir, join(e.parentPath, e.name));
    if (basename(path).startsWith('.tmp-') || path.endsWith('.part') || path.startsWith('scratch/'))
      out.push(path);
  }
  return out.sort();
}
