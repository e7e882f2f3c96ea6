// Submits the Guix farm's graph with `gbc submit-build` from the workstation
// directory (the first call uploads busybox and the derivations; the others,
// run together, only add builds with their own tags or limits), then follows
// the builds over the client API until every one has ended (the blocked one:
// until it is blocked), failing with every build's state if that never comes.
import type { BuildDetail, CoordinatorClient } from '@gbc/protocol';
import {
  GNU_STORE,
  GUIX_BLOCKED,
  GUIX_DAG_NAMES,
  GUIX_DAG_SUBMISSIONS,
  type GuixDagName,
  type Submission,
} from './guix-farm-dag.js';
import type { GuixFarm } from './guix-farm-setup.js';

/** The `gbc submit-build` flags of a submission. */
function flagsOf(s: Submission): string[] {
  if ('machine' in s) return ['--tag', `machine=${s.machine}`];
  if ('maxSilentTime' in s) return ['--max-silent-time', String(s.maxSilentTime)];
  return ['--timeout', String(s.timeout)];
}

/** Submits every derivation of the graph; name → build UUID. */
export async function submitGuixFarmDag(farm: GuixFarm): Promise<Map<GuixDagName, string>> {
  const groups = new Map<string, GuixDagName[]>();
  for (const name of GUIX_DAG_NAMES) {
    const key = flagsOf(GUIX_DAG_SUBMISSIONS[name]).join(' ');
    groups.set(key, [...(groups.get(key) ?? []), name]);
  }
  const submit = async (
    flags: string,
    names: readonly GuixDagName[],
  ): Promise<Array<[GuixDagName, string]>> => {
    const out = await farm.gbc(
      'submit-build',
      ...names.map((n) => farm.dag.drvs.get(n)!),
      ...flags.split(' '),
      '--store-dir',
      GNU_STORE,
      '--real-store-dir',
      farm.dag.realStoreDir,
      '--json',
    );
    const { builds } = JSON.parse(out) as {
      builds: Array<{ uuid: string; created: boolean; derivation: string }>;
    };
    if (builds.length !== names.length || builds.some((b) => !b.created))
      throw new Error(`gbc submit-build ${flags} created not one build per derivation: ${out}`);
    return builds.map((b) => [names.find((n) => farm.dag.drvs.get(n) === b.derivation)!, b.uuid]);
  };
  const [first, ...rest] = [...groups];
  const submitted = [await submit(...first!), ...(await Promise.all(rest.map((g) => submit(...g))))];
  return new Map(submitted.flat());
}

/** Whether `name`'s build is where the run leaves it: ended, or (the blocked one) blocked. */
function settled(name: GuixDagName, b: BuildDetail): boolean {
  if (name === GUIX_BLOCKED) return b.blockedByFailedDependency;
  return b.state === 'succeeded' || b.state === 'failed' || b.state === 'canceled';
}

/** Polls the builds until all are settled; their details. Throws after `timeoutMs` with each build's state and attempts. */
export async function waitForGuixFarm(
  client: CoordinatorClient,
  uuids: ReadonlyMap<GuixDagName, string>,
  timeoutMs: number,
): Promise<Map<GuixDagName, BuildDetail>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const details = new Map(
      await Promise.all([...uuids].map(async ([name, uuid]) => [name, await client.getBuild(uuid)] as const)),
    );
    if ([...details].every(([name, b]) => settled(name, b))) return details;
    if (Date.now() > deadline) {
      const states = [...details].map(
        ([name, b]) =>
          `${name} ${b.state}${b.blockedByFailedDependency ? ' blocked' : ''} [${b.attempts.map((a) => `${a.result ?? 'running'}: ${a.failureReason ?? ''}`).join('; ')}]`,
      );
      throw new Error(`the Guix farm's builds did not all end within ${timeoutMs} ms:\n${states.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
