// Public surface of the build-daemon client.
export type {
  BuildDaemon,
  BuildRequest,
  BuildResult,
  BuildStatus,
  DaemonOptions,
  LogLine,
  NarImport,
  PathInfo,
} from './build-daemon.js';
export { DEFAULT_DAEMON_SOCKET, DaemonConnection, socketPathOf } from './connection.js';
export {
  GUIX_CLIENT_VERSION,
  GUIX_MIN_VERSION,
  GUIX_PROTOCOL_VERSION,
  NIX_CLIENT_VERSION,
  NIX_MIN_VERSION,
  Op as DaemonOp,
  Stderr as DaemonStderr,
  type BuildModeName,
} from './constants.js';
export {
  DaemonError,
  DaemonProtocolError,
  signatureRefusalOf,
  type DaemonErrorDetails,
  type SignatureRefusal,
} from './errors.js';
export { EXPORT_MAGIC, readExportTrailer, type ExportTrailer } from './export-format.js';
export {
  dialectOf,
  formatProtocolVersion,
  handshake,
  type DaemonDialect,
  type DaemonInfo,
} from './handshake.js';
export { buildOn, pathWithOutputs, runBuild } from './build.js';
export { buildDerivationOn, encodeBasicDerivation, type BasicDerivation } from './build-derivation.js';
export { buildStatusOf } from './build-result.js';
export { parseBuildTrace, timeLimitOf, type BuildTrace, type TimeLimit } from './build-trace.js';
export { addNarOn, dumpPathOn, exportPathOn, importPathsOn } from './nar-transfer.js';
export { createBuildDaemon, NativeBuildDaemon, type NativeDaemonOptions } from './native-daemon.js';
export { DaemonSession } from './session.js';
export type { ActivityField, StderrEvent } from './stderr.js';
export { TempRoots } from './temp-roots.js';
