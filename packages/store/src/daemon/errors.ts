// Typed errors of the daemon client: the daemon refused an operation
// (DaemonError, carrying its own message), or the connection itself failed.
import { StoreError, type StoreErrorDetails } from '../errors.js';

/** Extra details of an error reported by the daemon (STDERR_ERROR). */
export interface DaemonErrorDetails extends StoreErrorDetails {
  /** The daemon's message, ANSI colour codes removed. */
  readonly daemonMessage: string;
  /** Exit status the daemon attached (Guix and Nix < 1.26; Guix uses 100+ for build failures). */
  readonly status?: number;
  /** Nix's verbosity level of the error (structured form), when sent. */
  readonly level?: number;
  /** Nix's trace lines (structured form), outermost last. */
  readonly traces?: readonly string[];
  /** The operation that failed, e.g. `add-text-to-store`. */
  readonly operation?: string;
}

/**
 * Why guix-daemon refused a signed import (`guix authenticate verify`):
 * `unsigned` (no signature), `unauthorized-key` (the key is not in the
 * daemon's /etc/guix/acl), `hash-mismatch` (the signature covers other
 * bytes), `bad-signature` (invalid or corrupt signature). A setup problem:
 * retrying the same import cannot succeed.
 */
export type SignatureRefusal = 'unsigned' | 'unauthorized-key' | 'hash-mismatch' | 'bad-signature';

const SIGNATURE_REFUSALS: readonly [RegExp, SignatureRefusal][] = [
  [/imported archive of .* lacks a signature/, 'unsigned'],
  [/unauthorized public key/, 'unauthorized-key'],
  [/signed hash doesn't match actual contents of imported archive/, 'hash-mismatch'],
  [/invalid signature:|corrupt signature data:/, 'bad-signature'],
];

/** The signature refusal a daemon message states, if it states one. */
export function signatureRefusalOf(daemonMessage: string): SignatureRefusal | undefined {
  return SIGNATURE_REFUSALS.find(([pattern]) => pattern.test(daemonMessage))?.[1];
}

/**
 * The daemon answered an operation with STDERR_ERROR. `daemonMessage` is what
 * it said; `code` is `daemon-error`. The connection stays usable.
 */
export class DaemonError extends StoreError {
  /** Set when guix-daemon refused an import's signature (a setup failure, never retried). */
  readonly signatureRefusal: SignatureRefusal | undefined;
  readonly daemonMessage: string;
  readonly status: number | undefined;
  readonly level: number | undefined;
  readonly traces: readonly string[];
  readonly operation: string | undefined;

  constructor(details: DaemonErrorDetails) {
    const what =
      details.operation === undefined ? 'the build daemon' : `the build daemon refused ${details.operation}`;
    super('daemon-error', `${what}: ${details.daemonMessage}`, details);
    this.daemonMessage = details.daemonMessage;
    this.status = details.status;
    this.level = details.level;
    this.traces = details.traces ?? [];
    this.operation = details.operation;
    this.signatureRefusal = signatureRefusalOf(details.daemonMessage);
  }
}

/**
 * The connection to the daemon failed or the daemon broke the protocol
 * (codes: `connect-failed`, `bad-magic`, `unsupported-version`,
 * `unexpected-message`, `connection-closed`, `unsupported-operation`, `bad-export`,
 * `bad-address`, `aborted`, `closed`).
 * The connection is not reused after one.
 */
export class DaemonProtocolError extends StoreError {}

/** Removes ANSI escape sequences (Nix colours its messages). */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '');
}
