// Test support: real derivations made with nix-instantiate through the
// running nix-daemon: two input sources (one referring to the other), an
// input derivation, and two top-level derivations.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Paths of the test derivations and sources. */
export interface TestDerivations {
  readonly top: string;
  readonly other: string;
  readonly dep: string;
  /** A source that `used` refers to. */
  readonly referenced: string;
  /** A source of `top` that refers to `referenced`. */
  readonly used: string;
}

/** Instantiates the test expression in `dir`; `marker` makes the store paths unique to a run. */
export function instantiateTestDerivations(dir: string, marker: string): TestDerivations {
  if (process.env.NIX_REMOTE === undefined)
    throw new Error('run the cli tests with NIX_REMOTE=daemon (a nix-daemon must be running)');
  const file = join(dir, 'test.nix');
  writeFileSync(
    file,
    `
let
  marker = "${marker}";
  referenced = builtins.toFile "gbc-cli-referenced" "referenced \${marker}";
  used = builtins.toFile "gbc-cli-used" "see \${referenced}";
  mk = name: script: derivation { inherit name; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" script ]; PATH = "/usr/bin:/bin"; };
  dep = mk "gbc-cli-dep" "echo dep \${marker} > $out";
in {
  top = mk "gbc-cli-top" "echo building top; cat \${used} \${dep} > $out";
  other = mk "gbc-cli-other" "echo other \${marker} > $out";
  inherit dep;
  referenced = referenced;
  used = used;
}
`,
  );
  const drv = (attr: string) =>
    execFileSync('nix-instantiate', [file, '-A', attr], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  const value = (attr: string) =>
    JSON.parse(
      execFileSync('nix-instantiate', ['--eval', '--json', file, '-A', attr], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    ) as string;
  return {
    top: drv('top'),
    other: drv('other'),
    dep: drv('dep'),
    referenced: value('referenced'),
    used: value('used'),
  };
}
