// Every client method calls the route it claims (method, path, body kind) and accepts the route's example answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeList } from '../routes/index.js';
import type { RouteDef } from '../routes/index.js';
import { schemaRegistry } from '../schemas/registry.js';
import { H, U1, U2, examples } from '../testing/examples.js';
import { readBody, sendJson, startRecordingServer } from '../testing/recording-server.js';
import type { RecordingServer } from '../testing/recording-server.js';
import { AgentClient } from './agent-client.js';
import { CoordinatorClient } from './coordinator-client.js';

/** Routes no client method calls, and why. */
const notInClients: Record<string, string> = {
  metrics: 'scraped by Prometheus',
  nixCacheInfo: 'read by Nix and Guix',
  derivationLog: 'read by Nix and Guix',
  events: 'covered by event-stream.test.ts',
};

function matchRoute(method: string, path: string): RouteDef | undefined {
  return routeList.find((r) => {
    if (r.method !== method) return false;
    const re = new RegExp(`^${r.path.replace(/[.]/g, '\\.').replace(/\{[A-Za-z]+\}/g, '[^/]+')}$`);
    return re.test(path);
  });
}

function answer(route: RouteDef): unknown {
  if (route.response.kind !== 'json') return undefined;
  const id = schemaRegistry.get(route.response.schema)?.id;
  return id === undefined ? {} : examples[id]?.good[0];
}

let server: RecordingServer;
const hits: string[] = [];
beforeAll(async () => {
  server = await startRecordingServer();
  server.handle(async (req, res, rec) => {
    await readBody(req, rec);
    // The same path on two ports (GET /derivation/{name}) matches the first; the id is enough for coverage.
    const route = matchRoute(rec.method, rec.path);
    if (route === undefined)
      return sendJson(res, 404, {
        error: { code: 'not-found', message: `no route ${rec.method} ${rec.path}` },
      });
    hits.push(route.id);
    if (route.id === 'derivationText') hits.push('getDerivation');
    if (route.id === 'getDerivation') hits.push('derivationText');
    if (route.body?.kind === 'json') JSON.parse(String(rec.body));
    if (route.response.kind === 'empty') return res.writeHead(204).end();
    if (route.response.kind === 'bytes')
      return res.writeHead(200, { 'content-type': route.response.contentType }).end('bytes');
    sendJson(res, route.response.status, answer(route));
  });
});
afterAll(() => server.close());

describe('client coverage', () => {
  it('calls every route through some client method, each on its own route', async () => {
    const c = new CoordinatorClient({ baseUrl: server.url });
    const a = new AgentClient({ baseUrl: server.url, credentials: { name: 'b', token: 't'.repeat(32) } });
    const DRV = `/gnu/store/${H}-hello-2.12.drv`;
    const meta = { narHash: `sha256:${'1'.repeat(52)}`, narSize: 1, references: [] };
    const calls: [string, () => Promise<unknown>][] = [
      ['missingPaths', () => c.missingPaths([DRV])],
      ['uploadDerivations', () => c.uploadDerivations([{ path: DRV, text: 'RGVy' }])],
      ['putDerivation', () => c.putDerivation(`${H}-hello-2.12.drv`, new Uint8Array([1]))],
      ['putSource', () => c.putSource(`${H}-src`, meta, new Uint8Array([1]))],
      ['submitBuild', () => c.submitBuild({ derivation: DRV })],
      ['listBuilds', () => c.listBuilds()],
      ['getBuild', () => c.getBuild(U1)],
      ['cancelBuild', () => c.cancelBuild(U1)],
      ['cancelBuilds', () => c.cancelBuildsByTags([{ key: 'k', value: 'v' }])],
      ['updatePriority', () => c.updatePriority(U1, 1)],
      ['whyBuild', () => c.why(U1)],
      ['buildLog', async () => new Response(await c.buildLog(U1, { follow: true })).text()],
      ['getDerivation', () => c.getDerivation(`${H}-hello-2.12.drv`)],
      ['listAgents', () => c.listAgents()],
      ['createAgent', () => c.createAgent({ name: 'b' })],
      ['getAgent', () => c.getAgent(U2)],
      ['newAgentPassword', () => c.newAgentPassword(U2)],
      ['listAgentPasswords', () => c.listAgentPasswords(U2)],
      ['revokeAgentPassword', () => c.revokeAgentPassword(U2, 3)],
      ['setAgentTags', () => c.setAgentTags(U2, [])],
      ['activateAgent', () => c.setAgentActive(U2, true)],
      ['deactivateAgent', () => c.setAgentActive(U2, false)],
      ['createDynamicAuthToken', () => c.createDynamicAuthToken()],
      ['listDynamicAuthTokens', () => c.listDynamicAuthTokens()],
      ['revokeDynamicAuthToken', () => c.revokeDynamicAuthToken(4)],
      ['allocationPlan', () => c.allocationPlan({ limit: 5 })],
      ['hookStatus', () => c.hookStatus({ limit: 5 })],
      ['createClientToken', () => c.createClientToken({ name: 'ci', scope: 'read' })],
      ['listClientTokens', () => c.listClientTokens()],
      ['revokeClientToken', () => c.revokeClientToken(U1)],
      ['runRetention', () => c.runRetention({ dryRun: true })],
      ['openApi', () => c.openApi()],
      ['agentSession', () => a.agentId()],
      ['reportStatus', () => a.reportStatus({ load1: 0, builds: [] })],
      ['fetchBuilds', () => a.fetchBuilds({ count: 1, systems: ['x86_64-linux'] })],
      ['buildClosure', () => a.buildClosure(U1)],
      ['derivationText', () => a.derivationText(`${H}-hello-2.12.drv`)],
      ['reportBuildStart', () => a.reportBuildStart(U1)],
      ['reportSetupFailure', () => a.reportSetupFailure(U1, [`/gnu/store/${H}-x`])],
      ['uploadLog', () => a.uploadLog(U1, new Uint8Array([1]), { offset: 3 })],
      ['logUploadProgress', () => a.logUploadProgress(U1)],
      ['uploadOutput', () => a.uploadOutput(U1, 'out', meta, new Uint8Array([1]))],
      ['outputUploadProgress', () => a.outputUploadProgress(U1, 'out')],
      ['reportResult', () => a.reportResult(U1, { result: 'success' })],
      ['narinfo', () => a.narinfo(H)],
      ['narCompressed', () => a.nar(`nar/zstd/${H}-x`)],
      ['nar', () => a.nar(`nar/${H}-x`)],
    ];
    for (const [id, call] of calls) {
      const before = hits.length;
      await call();
      expect(hits.slice(before), id).toContain(id);
    }
    const covered = new Set([...hits, ...Object.keys(notInClients)]);
    expect(routeList.map((r) => r.id).filter((id) => !covered.has(id))).toEqual([]);
  });
});
