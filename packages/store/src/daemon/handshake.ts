// The greeting that opens every daemon connection; it decides the dialect
// (Nix 1.21 to 1.98, or guix-daemon from 0x163 up) and what later messages look like.
import { encodeU64 } from '../wire/byte-writer.js';
import type { DaemonConnection } from './connection.js';
import {
  GUIX_CLIENT_VERSION,
  GUIX_MIN_VERSION,
  MAX_TEXT,
  NIX_CLIENT_VERSION,
  NIX_MIN_VERSION,
  protocolMajor,
  protocolMinor,
  WORKER_MAGIC_1,
  WORKER_MAGIC_2,
} from './constants.js';
import { DaemonProtocolError } from './errors.js';
import { stderrEvents } from './stderr.js';

/** Which family of the protocol the daemon speaks. */
export type DaemonDialect = 'nix' | 'guix';

/** What the handshake learnt about the daemon. */
export interface DaemonInfo {
  readonly dialect: DaemonDialect;
  /** Version the daemon announced (major << 8 | minor). */
  readonly daemonVersion: number;
  /** Version both sides use: the smaller of the daemon's and the client's. */
  readonly protocolVersion: number;
  /** The daemon's own version string (Nix ≥ 1.33, e.g. "2.8.0"); null otherwise. */
  readonly versionString: string | null;
  /** Whether the daemon trusts us (Nix ≥ 1.35); null when it does not say. */
  readonly trusted: boolean | null;
}

/**
 * The dialect of an announced version: major 1 with minor 0x63 or more is
 * guix-daemon (0x163 for Guix ≤ 1.4.0, 0x164 for 1.5.0); from Nix 1.21 below
 * that is Nix; anything else (another major, an older Nix) is undefined.
 */
export function dialectOf(daemonVersion: number): DaemonDialect | undefined {
  if (daemonVersion > 0xffff || protocolMajor(daemonVersion) !== 1) return undefined;
  if (daemonVersion >= GUIX_MIN_VERSION) return 'guix';
  return daemonVersion >= NIX_MIN_VERSION ? 'nix' : undefined;
}

/** A protocol version as `1.34 (0x122)`. */
export function formatProtocolVersion(version: number): string {
  return `${Math.floor(version / 256)}.${protocolMinor(version)} (0x${version.toString(16)})`;
}

/**
 * Performs the handshake on a fresh connection. Throws DaemonProtocolError
 * `bad-magic` or `unsupported-version`, or the DaemonError the daemon sends
 * while opening its store.
 */
export async function handshake(conn: DaemonConnection): Promise<DaemonInfo> {
  const reader = conn.reader;
  conn.send(encodeU64(WORKER_MAGIC_1));
  const magic = await reader.readU64('daemon magic');
  if (magic !== WORKER_MAGIC_2) {
    throw new DaemonProtocolError('bad-magic', 'the socket does not speak the build-daemon protocol', {
      offset: 0,
      expected: `0x${WORKER_MAGIC_2.toString(16)}`,
      found: `0x${magic.toString(16)}`,
    });
  }
  const daemonVersion = await reader.readU64('daemon protocol version');
  const dialect = dialectOf(daemonVersion);
  if (dialect === undefined) {
    throw new DaemonProtocolError(
      'unsupported-version',
      `the daemon speaks protocol ${formatProtocolVersion(daemonVersion)}, which this client does not`,
      {
        expected: `Nix 1.${protocolMinor(NIX_MIN_VERSION)} or later (below 1.${protocolMinor(GUIX_MIN_VERSION)}), or guix-daemon 0x${GUIX_MIN_VERSION.toString(16)} or later`,
        found: formatProtocolVersion(daemonVersion),
      },
    );
  }
  const clientVersion = dialect === 'guix' ? GUIX_CLIENT_VERSION : NIX_CLIENT_VERSION;
  const protocolVersion = Math.min(daemonVersion, clientVersion);
  const minor = protocolMinor(protocolVersion);
  // Client version, then "no CPU affinity" (≥ 14), then "no reserved space" (≥ 11).
  conn.send(encodeU64(clientVersion), encodeU64(0), encodeU64(0));
  let versionString: string | null = null;
  let trusted: boolean | null = null;
  if (dialect === 'nix' && minor >= 33)
    versionString = await reader.readString(MAX_TEXT, 'daemon version string');
  if (dialect === 'nix' && minor >= 35) {
    const flag = await reader.readU64('trust flag');
    trusted = flag === 1 ? true : flag === 2 ? false : null;
  }
  const info: DaemonInfo = { dialect, daemonVersion, protocolVersion, versionString, trusted };
  for await (const event of stderrEvents(reader, info, 'the handshake')) void event;
  return info;
}
