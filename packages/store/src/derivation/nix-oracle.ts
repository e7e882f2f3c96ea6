// Test support (not exported by the package): writes the Nix expressions the
// derivation tests instantiate, and runs nix-instantiate / nix-store on them.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/** The attributes of the test expression, in the order they are instantiated. */
export const ATTRS = [
  'multi',
  'fixedFlat',
  'fixedRec',
  'fixedSha1',
  'withSrc',
  'chain0',
  'chain1',
  'chain2',
  'weird',
  'sameFixed',
] as const;

/** The env values of `weird`, as the bytes the derivation must carry. */
export const WEIRD_ENV = {
  quotes: Buffer.from('a "quoted" \\ back\tslash\nnew\rline $ end', 'utf8'),
  utf8: Buffer.from('héllo ☃ ünïcode', 'utf8'),
  latin1: Buffer.from('caf\xe9 na\xefve \xff\x80', 'latin1'),
};

/** Writes `expr.nix` (and the tree whose NAR hash pins `fixedRec`) into `dir`; returns the file. */
export function writeExpression(dir: string): string {
  const tree = join(dir, 'tree');
  mkdirSync(tree, { recursive: true });
  writeFileSync(join(tree, 'f'), 'x');
  const narHash = execFileSync('nix-hash', ['--type', 'sha256', tree], { encoding: 'utf8' }).trim();
  const flatHash = createHash('sha256').update('hello\n').digest('hex');
  const sha1 = createHash('sha1').update('sha1 me').digest('hex');
  const nixString = (bytes: Buffer): Buffer =>
    Buffer.concat([
      Buffer.from('"'),
      Buffer.from(
        bytes
          .toString('latin1')
          .replace(/[\\"$]/g, (c) => `\\${c}`)
          .replace(/\t/g, '\\t')
          .replace(/\n/g, '\\n')
          .replace(/\r/g, '\\r'),
        'latin1',
      ),
      Buffer.from('"'),
    ]);
  const text = Buffer.concat([
    Buffer.from(`let
  mk = attrs: derivation ({ system = builtins.currentSystem; builder = "/bin/sh"; PATH = "/usr/bin:/bin"; } // attrs);
  src = builtins.toFile "input-src.txt" "source text\\n";
in rec {
  multi = mk { name = "multi"; outputs = [ "out" "dev" "doc" ]; args = [ "-c" "echo a > $out; echo b > $dev; echo c > $doc" ]; };
  fixedFlat = mk { name = "fixed-flat"; outputHashMode = "flat"; outputHashAlgo = "sha256"; outputHash = "${flatHash}"; args = [ "-c" "printf 'hello\\\\n' > $out" ]; };
  sameFixed = mk { name = "fixed-flat"; outputHashAlgo = "sha256"; outputHash = "${flatHash}"; args = [ "-c" "echo hello > $out" ]; };
  fixedRec = mk { name = "fixed-rec"; outputHashMode = "recursive"; outputHashAlgo = "sha256"; outputHash = "${narHash}"; args = [ "-c" "mkdir $out; printf x > $out/f" ]; };
  fixedSha1 = mk { name = "fixed-sha1"; outputHashAlgo = "sha1"; outputHash = "${sha1}"; args = [ "-c" "printf 'sha1 me' > $out" ]; };
  withSrc = mk { name = "with-src"; args = [ "-c" "cat \${src} > $out" ]; };
  chain0 = mk { name = "chain-0"; args = [ "-c" "echo 0 > $out" ]; };
  chain1 = mk { name = "chain-1"; args = [ "-c" "cat \${chain0} > $out; echo 1 >> $out" ]; };
  chain2 = mk { name = "chain-2"; args = [ "-c" "cat \${chain1} \${fixedFlat} \${sameFixed} \${multi.dev} > $out" ]; };
  weird = mk { name = "weird-env"; args = [ "-c" "echo \\"$quotes\\" > $out" ]; `),
    Buffer.from('quotes = '),
    nixString(WEIRD_ENV.quotes),
    Buffer.from('; utf8 = '),
    nixString(WEIRD_ENV.utf8),
    Buffer.from('; latin1 = '),
    nixString(WEIRD_ENV.latin1),
    Buffer.from('; };\n}\n'),
  ]);
  const file = join(dir, 'expr.nix');
  writeFileSync(file, text);
  return file;
}

/** A store to instantiate into: the daemon's /nix/store, or a local store with another store dir under `root`. */
export interface OracleStore {
  readonly storeDir: string;
  /** `--store` URI, or undefined for the daemon. */
  readonly uri?: string;
  /** Directory that holds `storeDir` on this machine (`/` for the daemon). */
  readonly root: string;
}

const env = { ...process.env, NIX_REMOTE: 'daemon' };

/** Instantiates every attribute; returns attribute → `.drv` path. */
export function instantiate(store: OracleStore, file: string): Map<string, string> {
  const args = [
    ...(store.uri === undefined ? [] : ['--store', store.uri]),
    file,
    ...ATTRS.flatMap((a) => ['-A', a]),
  ];
  const out = execFileSync('nix-instantiate', args, {
    encoding: 'utf8',
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const paths = out.trim().split('\n');
  return new Map(ATTRS.map((a, i) => [a, paths[i]!]));
}

/**
 * Reads a `.drv` file of `store` by its store path. Nix 2.8's local store
 * with a root keeps its files in `<root>/nix/store` whatever the store dir,
 * so both places are tried.
 */
export function readDrv(store: OracleStore, drvPath: string): Uint8Array {
  const direct = join(store.root, drvPath);
  const real = existsSync(direct) ? direct : join(store.root, 'nix/store', basename(drvPath));
  return new Uint8Array(readFileSync(real));
}

/** Builds derivations with `nix-store -r`; returns the output paths it printed. */
export function realise(store: OracleStore, drvPaths: readonly string[]): string[] {
  const sandbox = [
    '--option',
    'sandbox',
    'true',
    '--option',
    'sandbox-paths',
    '/bin=/usr/bin /usr /lib=/usr/lib /lib64=/usr/lib64',
  ];
  const args = [...(store.uri === undefined ? [] : ['--store', store.uri, ...sandbox]), '-r', ...drvPaths];
  const out = execFileSync('nix-store', args, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  return out.trim().split('\n').sort();
}
