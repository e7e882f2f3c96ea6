// The derivations of the dashboard's browser test, instantiated with
// nix-instantiate into the daemon's /nix/store: a long build that prints a
// numbered line every 0.2 s (for a log followed live), and one that is never
// built (submitted deferred: a queued build with buttons).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** `.drv` paths by role. */
export interface WebDerivations {
  readonly ticking: string;
  readonly idle: string;
}

/** Writes the expression into `dir` and instantiates it; `marker` makes the paths unique to the run. */
export function instantiateWebDerivations(dir: string, marker: string): WebDerivations {
  const file = join(dir, 'web.nix');
  writeFileSync(
    file,
    `
let
  marker = "${marker}";
  mk = name: script: derivation { inherit name; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" script ]; PATH = "/usr/bin:/bin"; };
in {
  ticking = mk "gbc-web-ticking" "i=0; while [ $i -lt 900 ]; do echo \\"line $i of \${marker}\\"; i=$((i+1)); sleep 0.2; done; echo done > $out";
  idle = mk "gbc-web-idle" "echo idle \${marker} > $out";
}
`,
  );
  const drv = (attr: string) =>
    execFileSync('nix-instantiate', [file, '-A', attr], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  return { ticking: drv('ticking'), idle: drv('idle') };
}
