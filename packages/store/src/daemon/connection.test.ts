// Daemon addresses and connection failures.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DaemonConnection, DEFAULT_DAEMON_SOCKET, socketPathOf } from './connection.js';
import { DaemonProtocolError } from './errors.js';
import { createBuildDaemon } from './native-daemon.js';
import { removeDir, tempDir } from './test-helpers.js';

const dir = tempDir('gbc-daemon-conn-');
afterAll(() => removeDir(dir));

describe('daemon addresses', () => {
  it('accepts unix:// URIs and bare paths, defaulting to nix-daemon', () => {
    expect(socketPathOf(undefined)).toBe('/nix/var/nix/daemon-socket/socket');
    expect(socketPathOf('')).toBe(DEFAULT_DAEMON_SOCKET);
    expect(socketPathOf('unix:///var/guix/daemon-socket/socket')).toBe('/var/guix/daemon-socket/socket');
    expect(socketPathOf('unix:///tmp/a%20b/socket')).toBe('/tmp/a b/socket');
    expect(socketPathOf('/tmp/agent2/socket')).toBe('/tmp/agent2/socket');
  });

  it('refuses other schemes and relative unix URIs', () => {
    expect(() => socketPathOf('tcp://localhost:1234')).toThrow(DaemonProtocolError);
    expect(() => socketPathOf('unix://relative/socket')).toThrow(/absolute socket path/);
  });

  it('reports a missing socket as connect-failed, also through the pool', async () => {
    const missing = join(dir, 'no-such-socket');
    await expect(DaemonConnection.open(missing)).rejects.toMatchObject({ code: 'connect-failed' });
    const daemon = createBuildDaemon({ socket: missing, maxConnections: 1 });
    await expect(daemon.isValidPath('/nix/store/x')).rejects.toMatchObject({ code: 'connect-failed' });
    // The failed attempt gave its slot back: a second call fails the same way instead of waiting.
    await expect(daemon.isValidPath('/nix/store/x')).rejects.toMatchObject({ code: 'connect-failed' });
    expect(daemon.openConnections).toBe(0);
    await daemon.close();
    await expect(daemon.isValidPath('/nix/store/x')).rejects.toMatchObject({ code: 'closed' });
  });
});
