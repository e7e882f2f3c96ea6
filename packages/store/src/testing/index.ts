// Test support for every package (`@gbc/store/testing`, resolved from source
// only, never built into dist): real guix-daemons and what tests put in them.
export {
  ensureGuixSetup,
  GUIX_DAEMON_VERSIONS,
  GUIX_STORE_DIR,
  guixDaemons,
  guixDir,
  startGuixDaemon,
  type GuixDaemonCase,
  type GuixDaemonProcess,
  type GuixDaemonVersion,
  type StartGuixDaemonOptions,
} from './guix-daemon.js';
export {
  addBusybox,
  addShellDerivation,
  machineGuixKey,
  type ShellDerivationSpec,
  type TestDerivation,
} from './guix-store-items.js';
