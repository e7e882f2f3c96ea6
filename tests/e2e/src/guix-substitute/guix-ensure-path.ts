// Runs ensure-path.scm: Guix's own client library, on Debian's Guile with the
// Guix modules from $GBC_GUIX_DIR/scheme, asking a guix-daemon for store
// paths with substitutes on. The daemon fetches them through the real `guix
// substitute`, which checks each narinfo's signature against the ACL.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./ensure-path.scm', import.meta.url));

/** What the daemon said it could substitute, with the narinfo facts it read. */
export interface SubstitutableInfo {
  readonly path: string;
  readonly deriver: string | null;
  readonly references: readonly string[];
  readonly narSize: number;
}

/** The outcome of ensure-path for one path: done, or the daemon's error text. */
export type Ensured =
  | { readonly path: string; readonly ok: true }
  | { readonly path: string; readonly ok: false; readonly error: string };

/** The script's report, and the daemon's messages it relayed. */
export interface EnsurePathReport {
  readonly substitutable: readonly string[];
  readonly infos: readonly SubstitutableInfo[];
  readonly ensured: readonly Ensured[];
  readonly stderr: string;
}

/** Asks the daemon at `socket` (`unix:///…` or a file name) to ensure `paths`, substitutes on. Throws if the script itself fails. */
export function guixEnsurePaths(
  guixDir: string,
  socket: string,
  paths: readonly string[],
  timeoutMs = 120_000,
): Promise<EnsurePathReport> {
  const scheme = join(guixDir, 'scheme');
  const env = { ...process.env, GUIX_DAEMON_SOCKET: socket.replace(/^unix:\/\//, '') };
  return new Promise((resolve, reject) => {
    execFile(
      'guile',
      ['--no-auto-compile', '-L', scheme, '-C', scheme, SCRIPT, ...paths],
      { env, timeout: timeoutMs, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        if (error !== null)
          return reject(new Error(`ensure-path.scm failed (${error.message}): ${stderr.slice(-3000)}`));
        try {
          resolve({ ...(JSON.parse(stdout) as Omit<EnsurePathReport, 'stderr'>), stderr });
        } catch {
          reject(
            new Error(`ensure-path.scm printed no JSON: ${stdout.slice(0, 2000)} / ${stderr.slice(-2000)}`),
          );
        }
      },
    );
  });
}
