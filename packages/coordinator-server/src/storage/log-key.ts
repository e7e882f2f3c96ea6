// How a build log is named. The log store addresses an attempt's log by
// `logKey(build, attempt)`, live or sealed, always; that is the one key every
// reader uses. `attempts.log_location` records the sealed object's storage key
// in the `log` area (`<logKey><ext>`, e.g. `b1/0.gz`), which is what retention
// deletes and lists: it says that a sealed log exists, and is never read back
// as a log-store key.

/** The log-store key of attempt `attemptId` of build `buildId`. */
export function logKey(buildId: string, attemptId: number): string {
  return `${buildId}/${attemptId}`;
}
