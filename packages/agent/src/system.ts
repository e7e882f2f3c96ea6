// The machine's Nix/Guix system name (`x86_64-linux`, …), from Node's platform and architecture.

const ARCH: Record<string, string> = {
  x64: 'x86_64',
  arm64: 'aarch64',
  ia32: 'i686',
  arm: 'armhf',
  riscv64: 'riscv64',
  ppc64: 'powerpc64le',
  s390x: 's390x',
};

/** The system name `builtins.currentSystem` would give on this machine, e.g. `x86_64-linux`. */
export function defaultSystem(arch: string = process.arch, platform: string = process.platform): string {
  return `${ARCH[arch] ?? arch}-${platform}`;
}
