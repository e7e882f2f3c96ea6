// A client given several coordinator URLs over real HTTP: a URL that refuses
// connections is skipped at once for the same request, a 503 moves the next
// call to another URL, and the URL that works is kept.
import { afterEach, describe, expect, it } from 'vitest';
import { startRecordingServer, readBody, sendJson } from '../testing/recording-server.js';
import type { RecordingServer } from '../testing/recording-server.js';
import { AgentClient } from './agent-client.js';
import { BaseUrls } from './base-urls.js';

const AGENT = '0b5d4a4e-8f5e-4d6b-9c3e-1f2a3b4c5d6e';
const servers: RecordingServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close().catch(() => undefined);
});

async function liveServer(): Promise<RecordingServer> {
  const s = await startRecordingServer();
  s.handle(async (req, res, rec) => {
    await readBody(req, rec);
    sendJson(res, 200, { builds: [] });
  });
  servers.push(s);
  return s;
}

/** A URL where nothing listens (a server started, then closed). */
async function deadUrl(): Promise<string> {
  const s = await startRecordingServer();
  await s.close();
  return s.url;
}

const client = (baseUrl: string) =>
  new AgentClient({ baseUrl, credentials: { agent: AGENT, password: 'secret' } });
const fetchOnce = (c: AgentClient) => c.fetchBuilds({ count: 1, systems: ['x86_64-linux'] });

describe('several coordinator URLs', () => {
  it('sends a refused request to the next URL at once, and keeps using the one that answered', async () => {
    const live = await liveServer();
    const c = client(`${await deadUrl()}, ${live.url}/`);
    await expect(fetchOnce(c)).resolves.toEqual({ builds: [] });
    await expect(fetchOnce(c)).resolves.toEqual({ builds: [] });
    expect(live.requests.map((r) => r.path)).toEqual([
      `/agent/${AGENT}/fetch-builds`,
      `/agent/${AGENT}/fetch-builds`,
    ]);
  });

  it('moves the next call to another URL after a 503, and the failed call says so', async () => {
    const stopping = await startRecordingServer();
    servers.push(stopping);
    stopping.handle(async (req, res, rec) => {
      await readBody(req, rec);
      sendJson(res, 503, { error: { code: 'unavailable', message: 'stopping' } });
    });
    const live = await liveServer();
    const c = client(`${stopping.url},${live.url}`);
    await expect(fetchOnce(c)).rejects.toMatchObject({ code: 'unavailable', status: 503 });
    await expect(fetchOnce(c)).resolves.toEqual({ builds: [] });
    expect([stopping.requests.length, live.requests.length]).toEqual([1, 1]);
  });

  it('with one URL, a refused connection is the caller’s network error, as before', async () => {
    await expect(fetchOnce(client(await deadUrl()))).rejects.toMatchObject({ code: 'network-error' });
  });

  it('with every URL refusing, the call fails once each was tried', async () => {
    await expect(fetchOnce(client(`${await deadUrl()},${await deadUrl()}`))).rejects.toMatchObject({
      code: 'network-error',
    });
  });

  it('refuses a list with something that is not a URL, naming it', () => {
    expect(() => new BaseUrls('http://a:8745,,not a url')).toThrow(/not a URL: "not a url"/);
    expect(() => new BaseUrls(' , ')).toThrow(/no coordinator URL/);
  });
});
