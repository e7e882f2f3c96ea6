#!/usr/bin/env bash
# Installs and starts what gbc's tests need on a fresh Debian 12 machine, as
# root: the pinned pnpm, nix-daemon (Debian's nix-bin) with its build users,
# lzip, and a throwaway PostgreSQL cluster. Sourced by scripts/test; every
# service it starts is recorded so that `gbc_stop_services` (run from the
# caller's EXIT trap) stops exactly those and nothing else.
# Service output goes to files under $GBC_SERVICES_DIR, never to the terminal.

GBC_PNPM_VERSION=12.4.2
GBC_STARTED_PIDS=()

gbc_log() { printf '[setup] %s\n' "$*" >&2; }

gbc_install_tools() {
  if ! command -v pnpm >/dev/null || [ "$(pnpm --version 2>/dev/null)" != "$GBC_PNPM_VERSION" ]; then
    gbc_log "installing pnpm@$GBC_PNPM_VERSION"
    npm i -g "pnpm@$GBC_PNPM_VERSION" >"$GBC_SERVICES_DIR/npm-pnpm.log" 2>&1
  fi
  local missing=()
  command -v nix-daemon >/dev/null || missing+=(nix-bin)
  command -v lzip >/dev/null || missing+=(lzip)
  command -v zstd >/dev/null || missing+=(zstd)
  command -v guile >/dev/null || missing+=(guile-3.0 guile-gcrypt)
  if [ ${#missing[@]} -gt 0 ]; then
    gbc_log "apt-get install ${missing[*]}"
    (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}") \
      >"$GBC_SERVICES_DIR/apt.log" 2>&1 || { cat "$GBC_SERVICES_DIR/apt.log" >&2; return 1; }
  fi
}

# Debian's Chromium for the dashboard's browser tests (Playwright drives it; it
# downloads no browser of its own).
gbc_install_chromium() {
  [ -x /usr/lib/chromium/chromium ] && return 0
  gbc_log "apt-get install chromium"
  (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium) \
    >"$GBC_SERVICES_DIR/apt-chromium.log" 2>&1 || { cat "$GBC_SERVICES_DIR/apt-chromium.log" >&2; return 1; }
}

# Debian's nginx and wrk, for the binary-cache benchmark only (the reference
# static-file server and the load generator). Nothing is started here: the
# benchmark runs nginx itself, on its own configuration and port.
gbc_install_bench_tools() {
  local missing=()
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  command -v wrk >/dev/null || missing+=(wrk)
  [ ${#missing[@]} -eq 0 ] && return 0
  gbc_log "apt-get install ${missing[*]}"
  (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}") \
    >"$GBC_SERVICES_DIR/apt-bench.log" 2>&1 || { cat "$GBC_SERVICES_DIR/apt-bench.log" >&2; return 1; }
}

gbc_start_nix_daemon() {
  mkdir -p /etc/nix /nix/var/nix/daemon-socket
  local wanted='build-users-group = nixbld\nsandbox = false\nsubstituters =\nexperimental-features = nix-command\n'
  if [ "$(cat /etc/nix/nix.conf 2>/dev/null)" != "$(printf "$wanted")" ]; then
    printf "$wanted" > /etc/nix/nix.conf
  fi
  getent group nixbld >/dev/null || groupadd --system nixbld
  local n
  for n in 1 2 3 4 5 6 7 8; do
    id "nixbld$n" >/dev/null 2>&1 || useradd --system -M -d /var/empty -g nixbld -G nixbld -s /usr/sbin/nologin "nixbld$n"
  done
  export NIX_REMOTE=daemon
  if timeout 5 nix store ping --store daemon >/dev/null 2>&1; then
    gbc_log "nix-daemon already answering; using it"
    return 0
  fi
  rm -f /nix/var/nix/daemon-socket/socket
  # The daemon itself must not inherit NIX_REMOTE=daemon: it would open its
  # store through its own socket, each worker connecting back to the daemon.
  env -u NIX_REMOTE nix-daemon >"$GBC_SERVICES_DIR/nix-daemon.log" 2>&1 </dev/null &
  GBC_STARTED_PIDS+=($!)
  local i
  for i in $(seq 1 100); do
    [ -S /nix/var/nix/daemon-socket/socket ] && timeout 5 nix store ping --store daemon >/dev/null 2>&1 && { gbc_log "nix-daemon started"; return 0; }
    sleep 0.1
  done
  gbc_log "nix-daemon did not start; see $GBC_SERVICES_DIR/nix-daemon.log"; return 1
}

gbc_start_postgres() {
  local pgbin port
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  GBC_PG_DIR=$(mktemp -d /tmp/gbc-pg.XXXXXX); chmod 755 "$GBC_PG_DIR"; mkdir "$GBC_PG_DIR/sock"
  chown -R postgres: "$GBC_PG_DIR"
  port=${GBC_PG_PORT:-$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')}
  runuser -u postgres -- "$pgbin/initdb" -D "$GBC_PG_DIR/data" -U postgres --auth=trust >"$GBC_SERVICES_DIR/initdb.log" 2>&1
  runuser -u postgres -- "$pgbin/pg_ctl" -D "$GBC_PG_DIR/data" -l "$GBC_PG_DIR/log" -w start \
    -o "-p $port -k $GBC_PG_DIR/sock -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" >"$GBC_SERVICES_DIR/pg_ctl.log" 2>&1 \
    || { cat "$GBC_PG_DIR/log" >&2; return 1; }
  GBC_PG_BIN=$pgbin
  runuser -u postgres -- "$pgbin/createdb" -h 127.0.0.1 -p "$port" -U postgres gbc
  export GBC_TEST_POSTGRES_URI="postgres://postgres@127.0.0.1:$port/gbc"
  gbc_log "PostgreSQL on $GBC_TEST_POSTGRES_URI"
}

gbc_stop_services() {
  local pid
  if [ -n "${GBC_PG_DIR:-}" ] && [ -d "$GBC_PG_DIR/data" ]; then
    runuser -u postgres -- "$GBC_PG_BIN/pg_ctl" -D "$GBC_PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$GBC_PG_DIR"
  fi
  for pid in "${GBC_STARTED_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${GBC_STARTED_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}

gbc_install_deps() {
  export npm_config_nodedir=/usr
  (cd "$GBC_ROOT" && pnpm install --frozen-lockfile >"$GBC_SERVICES_DIR/pnpm-install.log" 2>&1) \
    || { tail -40 "$GBC_SERVICES_DIR/pnpm-install.log" >&2; return 1; }
}

# guix-daemon 1.5.0 and 1.4.0 and the `guix` helper programs (authenticate,
# substitute, gc, publish), built from the sources in ../shared/guix-daemon
# and cached by the hash of those sources and build scripts, so that a second
# run takes seconds. Sets GBC_GUIX_DIR (holding daemon-1.5.0/guix-daemon,
# daemon-1.4.0/guix-daemon, scheme/bin/guix, busybox/bin/busybox) and writes
# the machine's Guix key pair and ACL (/etc/guix) when there is none.
# Where the guix-daemon kit is: GBC_GUIX_KIT, else ../shared/guix-daemon beside
# this checkout, else beside the local checkout this one was cloned from (a CI
# clone into /tmp has no ../shared of its own).
gbc_guix_kit() {
  if [ -n "${GBC_GUIX_KIT:-}" ]; then echo "$GBC_GUIX_KIT"; return 0; fi
  local kit="$GBC_ROOT/../shared/guix-daemon" origin
  if [ ! -f "$kit/build.sh" ]; then
    origin=$(git -C "$GBC_ROOT" remote get-url origin 2>/dev/null || true)
    if [ -n "$origin" ] && [ -f "$origin/../shared/guix-daemon/build.sh" ]; then
      kit="$origin/../shared/guix-daemon"
    fi
  fi
  echo "$kit"
}

gbc_build_guix() {
  local kit
  kit=$(gbc_guix_kit)
  if [ ! -f "$kit/build.sh" ]; then
    gbc_log "no guix-daemon kit at $kit: the real-guix tests will say they are skipped"
    return 0
  fi
  kit=$(cd "$kit" && pwd)
  local hash cache
  hash=$(cat "$kit/guix-daemon-src.tar.gz" "$kit/guix-scheme-src.tar.gz" "$kit/build.sh" \
    "$kit/build-guix-scheme.sh" "$kit/closure.py" | sha256sum | cut -c1-16)
  cache=${GBC_GUIX_CACHE:-/var/cache/gbc-guix}/$hash
  if [ ! -f "$cache/done" ]; then
    gbc_log "building guix-daemon 1.5.0 and 1.4.0 and guix's helpers into $cache (a few minutes, once per source hash)"
    rm -rf "$cache" && mkdir -p "$cache/src"
    tar -xzf "$kit/guix-daemon-src.tar.gz" -C "$cache/src"
    tar -xzf "$kit/guix-scheme-src.tar.gz" -C "$cache/src"
    local v
    for v in 1.5.0 1.4.0; do
      GUIX_VERSION=$v sh "$kit/build.sh" "$cache/src/guix-daemon-src-v$v" "$cache/daemon-$v" \
        >"$GBC_SERVICES_DIR/guix-daemon-$v-build.log" 2>&1 \
        || { tail -30 "$GBC_SERVICES_DIR/guix-daemon-$v-build.log" >&2; return 1; }
    done
    sh "$kit/build-guix-scheme.sh" "$cache/src/guix-scheme-src" >"$GBC_SERVICES_DIR/guix-scheme-build.log" 2>&1 \
      || { tail -30 "$GBC_SERVICES_DIR/guix-scheme-build.log" >&2; return 1; }
    ln -sfn "$cache/src/guix-scheme-src" "$cache/scheme"
    gbc_unpack_busybox "$cache/busybox" || return 1
    touch "$cache/done"
  fi
  export GBC_GUIX_DIR=$cache
  # Build users and directories as the kit's setup-and-start.sh makes them.
  getent group guixbuild >/dev/null || groupadd --system guixbuild
  local i
  for i in 01 02 03 04 05 06 07 08; do
    getent passwd "guixbuilder$i" >/dev/null || useradd -g guixbuild -G guixbuild -d /var/empty \
      -s /usr/sbin/nologin -c "Guix build user $i" --system "guixbuilder$i"
  done
  mkdir -p /gnu/store /var/guix /var/log/guix /etc/guix
  chgrp guixbuild /gnu/store && chmod 1775 /gnu/store
  if [ ! -f /etc/guix/signing-key.sec ]; then
    guile --no-auto-compile -L "$cache/scheme" -C "$cache/scheme" "$kit/guix-genkey.scm" \
      >"$GBC_SERVICES_DIR/guix-genkey.log" 2>&1 || { cat "$GBC_SERVICES_DIR/guix-genkey.log" >&2; return 1; }
  fi
  gbc_log "guix-daemon 1.5.0 and 1.4.0 ready in $cache"
}

# Debian's static busybox, unpacked: Guix ≥ 1.5.0 runs only builders that are
# in the store, so the tests import it into each guix-daemon's store.
gbc_unpack_busybox() {
  local dir=$1 tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download busybox-static >"$GBC_SERVICES_DIR/busybox-download.log" 2>&1) || {
    apt-get update >"$GBC_SERVICES_DIR/apt-update.log" 2>&1
    (cd "$tmp" && apt-get download busybox-static >"$GBC_SERVICES_DIR/busybox-download.log" 2>&1) \
      || { cat "$GBC_SERVICES_DIR/busybox-download.log" >&2; rm -rf "$tmp"; return 1; }
  }
  dpkg-deb -x "$tmp"/busybox-static_*.deb "$tmp/x"
  mkdir -p "$dir/bin"
  cp "$tmp/x/bin/busybox" "$dir/bin/busybox"
  rm -rf "$tmp"
}
