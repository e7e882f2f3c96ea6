// Sets a build up in the agent's daemon: fetches the derivation closure from
// the coordinator (a .drv it cannot give, from the derivation substitute
// URLs), makes every other input valid (coordinator cache, then the
// non-derivation substitute URLs), then adds each derivation as text with its
// references, dependencies first. The two URL lists mean what they mean to the
// original agent: .drv files, and every store item that is not one.
// A build that goes through BuildDerivation needs no .drv in the store: it
// asks for its own derivation only, and fetches only the inputs of its build.
import { decodeDerivationText, isProtocolError } from '@gbc/protocol';
import type { AgentClient, BuildClosure } from '@gbc/protocol';
import { computeDerivationPath, derivationReferences, parseDerivation, storePathBasename } from '@gbc/store';
import type { BuildDaemon, Derivation } from '@gbc/store';
import { substituteDerivationText } from './derivation-substitute.js';
import { AgentError } from './errors.js';
import { ensurePaths } from './fetch-inputs.js';
import type { GuixSigning } from './guix-signing.js';
import type { NarSource } from './nar-source.js';
import { httpSource } from './nar-source.js';

/** What setting up needs. */
export interface SetupContext {
  readonly client: AgentClient;
  readonly daemon: BuildDaemon;
  readonly cache: NarSource;
  readonly spoolDir: string;
  /** Binary caches for .drv files the coordinator cannot give. */
  readonly derivationSubstituteUrls: readonly string[];
  /** Binary caches for every other input, after the coordinator's cache. */
  readonly nonDerivationSubstituteUrls: readonly string[];
  /** Wraps each coordinator call (retries); binary cache requests too. */
  readonly call: <T>(fn: () => Promise<T>) => Promise<T>;
  /** The agent's Guix signing key, for imports into guix-daemon. */
  readonly signing?: GuixSigning;
}

/** A build ready to run: its derivation and the inputs it uses (to hold as GC roots). */
export interface PreparedBuild {
  readonly derivation: Derivation;
  readonly inputs: readonly string[];
  /** The outputs of its input derivations the build uses (undefined from a coordinator that does not say). */
  readonly inputOutputs: readonly string[] | undefined;
  /** Whether the derivation closure was added to the store (needed to build through the .drv). */
  readonly derivationsAdded: boolean;
}

/**
 * Sets up `drvPath` for build `build`: with `derivations: 'all'` for a build
 * through the .drv (BuildPaths), with `'own'` for BuildDerivation (see the
 * file header), from the closure `given` with the allocation if there is
 * one. Throws AgentError `missing-inputs` (with `paths`) when some input
 * could be had nowhere.
 */
export async function setupBuild(
  ctx: SetupContext,
  build: string,
  drvPath: string,
  derivations: 'all' | 'own' = 'all',
  given?: BuildClosure,
): Promise<PreparedBuild> {
  // `given`: the closure that came with the allocation (of the same scope), when the agent asked for it.
  const closure = given ?? (await ctx.call(() => ctx.client.buildClosure(build, { derivations })));
  // A coordinator that does not say which inputs are outputs sends the whole closure: then it is added.
  const addDerivations = derivations === 'all' || closure.inputOutputs === undefined;
  // One validity query for the derivations and the inputs the closure names.
  const checked = new Set([...closure.derivations, ...closure.inputs]);
  const valid = new Set(await ctx.daemon.queryValidPaths([...checked]));
  const upstream = (urls: readonly string[]): NarSource[] =>
    urls.map((u) => httpSource(u, ctx.daemon.storeDir));
  const drvSubs = upstream(ctx.derivationSubstituteUrls);
  const otherSubs = upstream(ctx.nonDerivationSubstituteUrls);
  const textOf = (path: string): Promise<Uint8Array> => derivationText(ctx, drvSubs, path);
  const texts = new Map<string, Uint8Array>();
  const parsed = new Map<string, Derivation>();
  for (const path of closure.derivations) {
    if (valid.has(path) && path !== drvPath) continue;
    const bytes =
      path === drvPath && closure.text !== undefined
        ? decodeDerivationText(closure.text)
        : await textOf(path);
    texts.set(path, bytes);
    parsed.set(path, parseDerivation(bytes));
  }
  const sources = new Set<string>();
  for (const d of parsed.values()) for (const s of d.inputSrcs) sources.add(s);
  const wanted = [...new Set([...closure.inputs, ...sources])].sort();
  const fetching = { daemon: ctx.daemon, spoolDir: ctx.spoolDir, call: ctx.call, signing: ctx.signing };
  const missing = await ensurePaths(fetching, wanted, () => [ctx.cache, ...otherSubs], { checked, valid });
  if (missing.length > 0) {
    throw new AgentError(
      'missing-inputs',
      `build ${build}: inputs found neither in the coordinator's cache nor on the substitute URLs: ${missing.join(' ')}`,
      { paths: missing },
    );
  }
  for (const path of addDerivations ? closure.derivations : []) {
    const bytes = texts.get(path);
    const drv = parsed.get(path);
    if (bytes === undefined || drv === undefined || valid.has(path)) continue;
    const name = storePathBasename(path).slice(33);
    const added = await ctx.daemon.addTextToStore(name, bytes, derivationReferences(drv));
    if (added !== path)
      throw new AgentError(
        'bad-derivation',
        `adding ${path} to the daemon gave ${added}: the coordinator's text does not match its path`,
      );
  }
  const derivation = parsed.get(drvPath) ?? parseDerivation(await textOf(drvPath));
  const own = texts.get(drvPath);
  // Not added, so the daemon did not check the text against its path: checked here.
  if (
    !addDerivations &&
    own !== undefined &&
    computeDerivationPath(derivation, storePathBasename(drvPath).slice(33, -4), ctx.daemon.storeDir, own) !==
      drvPath
  ) {
    throw new AgentError('bad-derivation', `the coordinator's text of ${drvPath} does not match its path`);
  }
  return { derivation, inputs: wanted, inputOutputs: closure.inputOutputs, derivationsAdded: addDerivations };
}

/**
 * The text of `path` from the coordinator, or, when it has none (404), from
 * the derivation substitute URLs; AgentError `missing-inputs` when neither has it.
 */
async function derivationText(
  ctx: SetupContext,
  subs: readonly NarSource[],
  path: string,
): Promise<Uint8Array> {
  try {
    return await ctx.call(() => ctx.client.derivationText(storePathBasename(path)));
  } catch (error) {
    if (!isProtocolError(error, 'not-found')) throw error;
    const text = subs.length === 0 ? null : await ctx.call(() => substituteDerivationText(subs, path));
    if (text === null) {
      throw new AgentError(
        'missing-inputs',
        `derivation ${path}: the coordinator has no text of it, nor do the derivation substitute URLs`,
        { cause: error, paths: [path] },
      );
    }
    return text;
  }
}
