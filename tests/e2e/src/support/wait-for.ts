// Waiting on a condition in end-to-end tests: polls a check until it holds,
// bounded, and fails with the last value seen, so a hang becomes a message.

/** Calls `check` every `intervalMs` until it returns a value other than undefined; throws after `timeoutMs` with `describe()` of the wait. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 60_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
