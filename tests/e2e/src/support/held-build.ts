// A build that an agent holds and has started, arranged over HTTP only: the
// agent is created through the client API, the derivation submitted with
// @gbc/cli's submitDerivations, fetched and started through the agent API.
import { AgentClient, type CoordinatorClient } from '@gbc/protocol';
import { submitDerivations } from '@gbc/cli';

/** An agent's account and its client. */
export interface TestAgent {
  readonly uuid: string;
  readonly password: string;
  readonly client: AgentClient;
}

/** Creates an agent through the client API and an AgentClient for it on `agentUrl`. */
export async function createTestAgent(
  client: CoordinatorClient,
  agentUrl: string,
  name: string,
): Promise<TestAgent> {
  const created = await client.createAgent({ name });
  const password = created.password;
  if (password === null) throw new Error('createAgent answered no password');
  return {
    uuid: created.agent.uuid,
    password,
    client: agentClientFor(agentUrl, created.agent.uuid, password),
  };
}

/** An AgentClient for an existing agent (e.g. on a restarted coordinator's new port). */
export function agentClientFor(agentUrl: string, uuid: string, password: string): AgentClient {
  return new AgentClient({ baseUrl: agentUrl, credentials: { agent: uuid, password } });
}

/** Submits `drv`, has `agent` fetch it (bounded polling) and report its start; returns the build uuid. */
export async function submitAndStart(
  client: CoordinatorClient,
  agent: AgentClient,
  drv: string,
  system = 'x86_64-linux',
): Promise<string> {
  const [submitted] = await submitDerivations(client, [drv]);
  if (submitted === undefined) throw new Error(`submitDerivations created no build for ${drv}`);
  for (let i = 0; i < 400; i++) {
    const { builds } = await agent.fetchBuilds({ count: 1, systems: [system] });
    const mine = builds.find((b) => b.uuid === submitted.uuid);
    if (mine !== undefined) {
      await agent.reportBuildStart(mine.uuid);
      return mine.uuid;
    }
    if (builds.length > 0)
      throw new Error(`fetched other builds than ${submitted.uuid}: ${builds.map((b) => b.uuid).join(' ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`build ${submitted.uuid} was never allocated`);
}
