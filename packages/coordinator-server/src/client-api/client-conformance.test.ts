// The protocol's own CoordinatorClient against the client app served over real
// HTTP on loopback: a whole submission as `gbc submit-build` does it (missing
// paths, source NAR, derivations, build) and every other client route, each
// answer validated by the client against the protocol's schemas.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoordinatorClient, ProtocolError, encodeDerivationText } from '@gbc/protocol';
import type { GbcEvent } from '@gbc/protocol';
import { listen } from '../coordinator/listen.js';
import type { Listening } from '../coordinator/listen.js';
import { DIALECTS, instantiateNix, narOf, startTestCoordinator } from './test-support.js';
import type { NixDerivations, TestCoordinator } from './test-support.js';

describe.each(DIALECTS)('CoordinatorClient over HTTP on %s', (dialect) => {
  let t: TestCoordinator;
  let server: Listening;
  let client: CoordinatorClient;
  let nix: NixDerivations;
  beforeAll(async () => {
    t = await startTestCoordinator(dialect);
    server = await listen(t.coordinator, { agentUrl: 'http://127.0.0.1:0', clientUrl: 'http://127.0.0.1:0' });
    client = new CoordinatorClient({ baseUrl: server.clientUrl });
    nix = instantiateNix();
  });
  afterAll(async () => {
    // undefined when beforeAll failed before they started
    await (server as Listening | undefined)?.close();
    await (t as TestCoordinator | undefined)?.close();
  });

  it('submits a build the way gbc submit-build does', async () => {
    const closure = [nix.dep, nix.top, nix.source];
    expect((await client.missingPaths(closure)).missing).toEqual(closure);
    const { nar, narHash, narSize } = narOf(nix.source);
    const stored = await client.putSource(
      nix.source.slice('/nix/store/'.length),
      { narHash, narSize, references: [] },
      nar,
    );
    expect(stored).toEqual({ path: nix.source, narHash, narSize, compression: 'none', fileSize: narSize });
    const uploaded = await client.uploadDerivations(
      [nix.top, nix.dep].map((path) => ({ path, text: encodeDerivationText(nix.read(path)) })),
    );
    expect(uploaded.stored.sort()).toEqual([nix.dep, nix.top].sort());
    expect((await client.missingPaths(closure)).missing).toEqual([]);
    expect(await client.getDerivation(nix.top.slice('/nix/store/'.length))).toEqual(nix.read(nix.top));
    const build = await client.submitBuild({
      derivation: nix.top,
      priority: 2,
      tags: [{ key: 'via', value: 'client' }],
      ensureAllRelatedDerivationOutputsHaveSuccessfulBuilds: true,
    });
    expect(build.created).toBe(true);
    expect(build.relatedBuilds).toHaveLength(1);
    const shown = await client.getBuild(build.uuid);
    expect(shown).toMatchObject({
      uuid: build.uuid,
      derivation: nix.top,
      priority: 2,
      state: 'queued',
      waitingFor: build.relatedBuilds,
    });
    const why = await client.why(build.uuid);
    expect(why.reasons.map((r) => r.kind)).toEqual(['inputs-pending', 'no-matching-agent']);
    const all: string[] = [];
    for await (const b of client.iterateBuilds({ limit: 1 })) all.push(b.uuid);
    expect(all.sort()).toEqual([build.uuid, ...build.relatedBuilds].sort());
    expect((await client.updatePriority(build.uuid, 9)).priority).toBe(9);
    expect((await client.cancelBuildsByTags([{ key: 'via', value: 'client' }])).canceled.sort()).toEqual(
      [build.uuid, ...build.relatedBuilds].sort(),
    );
    expect((await client.cancelBuild(build.uuid, { ignoreIfFinished: true })).canceled).toEqual([]);
  });

  it('administers agents and reads the plan, the OpenAPI document and events', async () => {
    const from = t.coordinator.context.events.lastId();
    const { agent, password } = await client.createAgent({
      name: 'http-agent',
      tags: [{ key: 'k', value: 'v' }],
    });
    expect(password).not.toBeNull();
    expect((await client.listAgents()).agents.map((a) => a.uuid)).toContain(agent.uuid);
    expect((await client.getAgent(agent.uuid)).startedBuilds).toEqual([]);
    expect((await client.setAgentTags(agent.uuid, [])).tags).toEqual([]);
    expect((await client.setAgentActive(agent.uuid, false)).active).toBe(false);
    expect((await client.newAgentPassword(agent.uuid)).password).not.toBe(password);
    expect((await client.createDynamicAuthToken()).token.length).toBeGreaterThanOrEqual(16);
    expect((await client.allocationPlan({ limit: 3 })).strategy).toBe('basic');
    expect(Object.keys((await client.openApi()).paths as object)).toContain('/derivations/missing');
    const stop = new AbortController();
    const seen: GbcEvent[] = [];
    for await (const e of client.events({
      lastEventId: from,
      query: { agent: agent.uuid },
      signal: stop.signal,
    })) {
      seen.push(e);
      if (seen.length === 2) stop.abort();
    }
    expect(seen.map((e) => e.type)).toEqual(['agent-created', 'agent-deactivated']);
  });

  it('surfaces refusals as ProtocolErrors with the server code', async () => {
    const refused = await client.getBuild('00000000-0000-4000-8000-000000000001').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProtocolError);
    expect((refused as ProtocolError).code).toBe('not-found');
    const bad = await client
      .uploadDerivations([
        {
          path: nix.top.replace(/-client-top/, '-client-tip'),
          text: encodeDerivationText(nix.read(nix.top)),
        },
      ])
      .catch((e: unknown) => e);
    expect((bad as ProtocolError).code).toBe('unprocessable-derivation');
    expect((bad as ProtocolError).status).toBe(422);
  });
});
