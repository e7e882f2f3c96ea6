// The derivations of the control scenario, instantiated with nix-instantiate
// into the daemon's /nix/store: two long builds that print a line every 0.2 s,
// a silent one, and a small graph for retention (old; lib; app referring to lib).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** `.drv` paths by role, and the marker found in every builder's command line. */
export interface ControlDerivations {
  readonly marker: string;
  readonly long: string;
  /** Another long build (`tick2`), canceled by tag. */
  readonly tagged: string;
  readonly silent: string;
  readonly old: string;
  readonly lib: string;
  readonly app: string;
  /** Never built: submitted deferred to have a queued build to reprioritise. */
  readonly idle: string;
}

/** Writes the expression into `dir` and instantiates it; `marker` makes every path and builder unique to the run. */
export function instantiateControlDerivations(dir: string, marker: string): ControlDerivations {
  const file = join(dir, 'control.nix');
  writeFileSync(
    file,
    `
let
  marker = "${marker}";
  mk = name: script: derivation { inherit name; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" script ]; PATH = "/usr/bin:/bin"; };
in rec {
  long = mk "gbc-control-long" "i=0; while [ $i -lt 600 ]; do echo \\"tick $i \${marker}\\"; i=$((i+1)); sleep 0.2; done; echo done > $out";
  tagged = mk "gbc-control-tagged" "i=0; while [ $i -lt 600 ]; do echo \\"tick2 $i \${marker}\\"; i=$((i+1)); sleep 0.2; done; echo done > $out";
  silent = mk "gbc-control-silent" "echo started-silent \${marker}; sleep 120; echo done > $out";
  old = mk "gbc-control-old" "echo old \${marker} > $out";
  lib = mk "gbc-control-lib" "echo lib \${marker} > $out";
  app = mk "gbc-control-app" "echo 'app uses \${lib}' > $out";
  idle = mk "gbc-control-idle" "echo idle \${marker} > $out";
}
`,
  );
  const drv = (attr: string) =>
    execFileSync('nix-instantiate', [file, '-A', attr], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  return {
    marker,
    long: drv('long'),
    tagged: drv('tagged'),
    silent: drv('silent'),
    old: drv('old'),
    lib: drv('lib'),
    app: drv('app'),
    idle: drv('idle'),
  };
}

/** Process ids whose command line contains `text` (pgrep -f), this test's own excluded. */
export function processesMatching(text: string): number[] {
  try {
    const out = execFileSync('pgrep', ['-f', text], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out
      .split('\n')
      .filter((l) => l !== '')
      .map(Number)
      .filter((pid) => pid !== process.pid);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}
