// GET /build/{uuid}/log through app.request(): a live log, followed while it
// grows until it is sealed, then read back from storage; unknown attempts 404.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimBuildsById, startAttempt } from '@gbc/datastore';
import { encodeDerivationText } from '@gbc/protocol';
import type { BuildDetail } from '@gbc/protocol';
import { logKey } from '../storage/index.js';
import { DIALECTS, startTestCoordinator, syntheticDerivation } from './test-support.js';
import type { TestCoordinator } from './test-support.js';

describe.each(DIALECTS)('client log route on %s', (dialect) => {
  let t: TestCoordinator;
  let build = '';
  let key = '';
  beforeAll(async () => {
    t = await startTestCoordinator(dialect);
    const d = syntheticDerivation(`logged-${dialect}`);
    await t.json('POST', '/derivations', {
      derivations: [{ path: d.path, text: encodeDerivationText(d.bytes) }],
    });
    build = ((await (await t.json('POST', '/builds', { derivation: d.path })).json()) as { uuid: string })
      .uuid;
    const agent = (
      (await (await t.json('POST', '/agents', { name: 'logger' })).json()) as { agent: { uuid: string } }
    ).agent.uuid;
    const db = t.coordinator.context.datastore.db;
    const [claim] = await claimBuildsById(db, [build], {
      agentId: agent,
      leaseMs: 60_000,
      now: t.clock.now(),
    });
    await startAttempt(db, claim!.attemptId, agent, 60_000, t.clock.now());
    key = logKey(build, claim!.attemptId);
  });
  // undefined when beforeAll failed before the coordinator started
  afterAll(async () => (t as TestCoordinator | undefined)?.close());

  it('answers 404 before any log was sent', async () => {
    expect((await t.request(`/build/${build}/log`)).status).toBe(404);
  });

  it('serves the live log, follows it while it grows, then serves the sealed log', async () => {
    const logs = t.coordinator.context.storage.logs;
    await logs.append(key, new TextEncoder().encode('line 1\n'));
    const now = await t.request(`/build/${build}/log`);
    expect(now.headers.get('x-gbc-log-live')).toBe('true');
    expect(await now.text()).toBe('line 1\n');
    const followed = await t.request(`/build/${build}/log?follow=true`);
    // Node types a Response body as ReadableStream<any>; it carries bytes.
    const reader = (followed.body! as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (text !== 'line 1\n') text += new TextDecoder().decode((await reader.read()).value);
    await logs.append(key, new TextEncoder().encode('line 2\n'));
    while (text !== 'line 1\nline 2\n') text += new TextDecoder().decode((await reader.read()).value);
    await logs.append(key, new TextEncoder().encode('line 3\n'));
    await logs.seal(key);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toBe('line 1\nline 2\nline 3\n');
    const sealed = await t.request(`/build/${build}/log`);
    expect(sealed.headers.get('x-gbc-log-live')).toBe('false');
    expect(await sealed.text()).toBe('line 1\nline 2\nline 3\n');
  });

  it('reads the log of a named attempt and 404s for another one', async () => {
    const detail = (await (await t.request(`/build/${build}`)).json()) as BuildDetail;
    const attempt = detail.attempts[0]!.uuid;
    expect(await (await t.request(`/build/${build}/log?attempt=${attempt}`)).text()).toBe(
      'line 1\nline 2\nline 3\n',
    );
    expect((await t.request(`/build/${build}/log?attempt=00000000-0000-4000-8000-0000000fffff`)).status).toBe(
      404,
    );
    expect((await t.request(`/build/${build}/log?attempt=12345678-1234-4234-8234-123456789abc`)).status).toBe(
      404,
    );
    expect((await t.request(`/build/${build}/log?attempt=nope`)).status).toBe(400);
  });
});
