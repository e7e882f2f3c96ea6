// Waits for SIGTERM or SIGINT, so that long-running commands stop gracefully.

/** A promise of the first stop signal, and a way to stop listening. */
export interface SignalWait {
  readonly promise: Promise<NodeJS.Signals>;
  dispose(): void;
}

/** Resolves on the first SIGTERM or SIGINT; a second one exits at once. */
export function untilSignal(): SignalWait {
  let received = false;
  let settle: (signal: NodeJS.Signals) => void = () => undefined;
  const promise = new Promise<NodeJS.Signals>((resolve) => {
    settle = resolve;
  });
  const on = (signal: NodeJS.Signals): void => {
    if (received) process.exit(130);
    received = true;
    settle(signal);
  };
  process.on('SIGTERM', on);
  process.on('SIGINT', on);
  return {
    promise,
    dispose() {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
    },
  };
}
