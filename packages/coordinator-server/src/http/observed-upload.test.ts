// Upload bytes and durations reach the coordinator's metrics from the routes:
// a stored input source and a refused one, through the client app.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeUploadHeaders } from '@gbc/protocol';
import {
  addNixSources,
  narOf,
  startTestCoordinator,
  type TestCoordinator,
} from '../client-api/test-support.js';

describe('upload metrics', () => {
  let t: TestCoordinator;
  beforeAll(async () => {
    t = await startTestCoordinator('sqlite', '/nix/store');
  });
  afterAll(async () => {
    await t.close();
  });

  it('counts the bytes of stored and refused NAR uploads by outcome', async () => {
    const { directory } = addNixSources();
    const { nar, narHash, narSize } = narOf(directory);
    const ok = await t.request(`/source/${directory.slice('/nix/store/'.length)}`, {
      method: 'PUT',
      body: nar,
      headers: encodeUploadHeaders({ compression: 'none', narHash, narSize, references: [] }),
    });
    expect(ok.status).toBe(200);
    const long = new Uint8Array(4096);
    const refused = await t.request('/source/33333333333333333333333333333333-src', {
      method: 'PUT',
      body: long,
      headers: encodeUploadHeaders({
        compression: 'none',
        narHash: `sha256:${'1'.repeat(52)}`,
        narSize: 1024,
        references: [],
      }),
    });
    expect(refused.status).toBe(400);
    const text = await t.coordinator.observed.metrics.scrape();
    expect(text).toContain(`gbc_upload_bytes_total{kind="nar",outcome="ok"} ${narSize}`);
    expect(text).toMatch(/gbc_upload_bytes_total\{kind="nar",outcome="(?!ok")[a-z-]+"\} [1-9]\d*/);
    expect(text).toContain('gbc_upload_duration_seconds_count{kind="nar",outcome="ok"} 1');
  });
});
