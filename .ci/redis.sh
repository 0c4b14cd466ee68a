#!/usr/bin/env bash
# Makes `redis-server` available for the Redis store's tests (store.type: redis).
# Idempotent: installs the Debian package only when redis-server is missing. Never starts a
# shared instance: each test starts its own `redis-server --port N` on a free loopback port and
# stops it. The package's own service is kept from starting (policy-rc.d), and stopped and
# disabled if the init system started it anyway.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
  echo "redis-server present: $(redis-server --version | head -1)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "redis-server is missing and this user cannot install packages (no root, no sudo)" >&2
    exit 1
  fi
fi

# Keep maintainer scripts from starting the packaged service while installing.
POLICY=/usr/sbin/policy-rc.d
OWN_POLICY=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod 755 "$POLICY"
  OWN_POLICY=1
fi
cleanup() {
  if [ "$OWN_POLICY" -eq 1 ]; then
    $SUDO rm -f "$POLICY"
  fi
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null

if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
fi

echo "installed: $(redis-server --version | head -1)"
