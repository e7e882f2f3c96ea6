// Numbers of the build-daemon worker protocol: magic words, versions,
// operation codes and the stderr message tags (FORMATS.md "Build-daemon worker protocol").

/** The client's greeting word ("cxin" little-endian). */
export const WORKER_MAGIC_1 = 0x6e697863;
/** The daemon's answer ("oixd" little-endian). */
export const WORKER_MAGIC_2 = 0x6478696f;

/**
 * Oldest version guix-daemon announces (0x163, Guix ≤ 1.4.0): any major-1
 * version from here up is guix-daemon, a dialect of its own, not Nix 1.99.
 */
export const GUIX_MIN_VERSION = 0x163;
/**
 * Version this client offers guix-daemon (0x164, Guix 1.5.0; it only adds op
 * 81, substitute-urls, which this client does not use); both use the smaller.
 */
export const GUIX_CLIENT_VERSION = 0x164;
/** @deprecated The oldest guix-daemon version; use GUIX_MIN_VERSION or GUIX_CLIENT_VERSION. */
export const GUIX_PROTOCOL_VERSION = GUIX_MIN_VERSION;
/**
 * Highest Nix protocol version this client speaks (1.35: trust flag). Every
 * feature gated below it is implemented; newer daemons negotiate down to it.
 */
export const NIX_CLIENT_VERSION = 0x123;
/** Oldest Nix protocol version accepted (1.21: Nix 2.0's activities and STDERR_READ tunnelling). */
export const NIX_MIN_VERSION = 0x115;

/** Major part of a protocol version. */
export function protocolMajor(version: number): number {
  return (version >> 8) & 0xff;
}

/** Minor part of a protocol version. */
export function protocolMinor(version: number): number {
  return version & 0xff;
}

/** Worker operation codes used by this client. */
export const Op = {
  IsValidPath: 1,
  AddTextToStore: 8,
  BuildPaths: 9,
  AddTempRoot: 11,
  ExportPath: 16,
  SetOptions: 19,
  QueryPathInfo: 26,
  ImportPaths: 27,
  QueryValidPaths: 31,
  BuildDerivation: 36,
  NarFromPath: 38,
  AddToStoreNar: 39,
  BuildPathsWithResults: 46,
} as const;

/** Tags of the messages a daemon sends while it works on an operation. */
export const Stderr = {
  Next: 0x6f6c6d67,
  Read: 0x64617461,
  Write: 0x64617416,
  Last: 0x616c7473,
  Error: 0x63787470,
  StartActivity: 0x53545254,
  StopActivity: 0x53544f50,
  Result: 0x52534c54,
} as const;

/** Nix result type of one build log line (STDERR_RESULT). */
export const RESULT_BUILD_LOG_LINE = 101;

/** Build modes of build-paths / BuildDerivation. */
export const BuildMode = { normal: 0, repair: 1, check: 2 } as const;
/** A build mode name. */
export type BuildModeName = keyof typeof BuildMode;

/** Limits on strings read from a daemon, in bytes. */
export const MAX_PATH = 4096;
/** Log lines and error messages can be long (a whole compiler error); not unbounded. */
export const MAX_TEXT = 64 << 20;
