// Build users of their own for each of the farm's machines. guix-daemon
// locks a build user with a file in /var/guix/userpool and, before a build,
// kills every process of that user; a daemon in a private mount namespace has
// a /var/guix (and so a user pool) of its own, so two such daemons sharing the
// `guixbuild` users take the same user at once and kill each other's builders
// (seen: "builder … failed due to signal 9 (Killed)" whenever both machines
// built together). Disjoint users per machine, as two real machines have.
import { execFileSync } from 'node:child_process';

/** Builds a machine runs at once, at most; one user each. */
const USERS_PER_MACHINE = 3;

function exists(database: 'group' | 'passwd', key: string): boolean {
  try {
    execFileSync('getent', [database, key], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Ensures a group `gbcfarm-<machine>` whose members are `gbcfarm-<machine>-1…3`
 * (system users without a login, as guix-daemon's build users are); its name,
 * for `--build-users-group`. Idempotent: kept across runs, like `guixbuild`.
 */
export function ensureMachineBuildUsers(machine: string): string {
  const group = `gbcfarm-${machine}`;
  if (!exists('group', group)) execFileSync('groupadd', ['--system', group], { stdio: 'ignore' });
  for (let i = 1; i <= USERS_PER_MACHINE; i++) {
    const user = `${group}-${i}`;
    if (!exists('passwd', user)) {
      execFileSync(
        'useradd',
        [
          '-g',
          group,
          '-G',
          group,
          '-d',
          '/var/empty',
          '-s',
          '/usr/sbin/nologin',
          '--system',
          '-c',
          `gbc Guix farm build user`,
          user,
        ],
        { stdio: 'ignore' },
      );
    }
  }
  return group;
}
