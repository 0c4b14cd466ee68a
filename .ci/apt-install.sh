#!/usr/bin/env bash
# Installs one Debian package for the tests, quietly and without starting its service:
#   bash .ci/apt-install.sh PACKAGE SERVICE COMMAND...
# Does nothing when every COMMAND is already on the PATH. Maintainer scripts are kept from
# starting the packaged SERVICE (policy-rc.d), and it is stopped and disabled if the init system
# started it anyway: each test runs its own instance on a free loopback port. apt's output is shown
# only when the install fails.
set -euo pipefail

PACKAGE=$1 SERVICE=$2
shift 2
missing=0
for c in "$@"; do
  command -v "$c" >/dev/null 2>&1 || missing=1
done
if [ "$missing" -eq 0 ]; then
  echo "$PACKAGE present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "$PACKAGE is missing and this user cannot install packages (no root, no sudo)" >&2
    exit 1
  fi
fi

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
LOG=$(mktemp)
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "$PACKAGE"; } >"$LOG" 2>&1; then
  cat "$LOG" >&2
  rm -f "$LOG"
  exit 1
fi
rm -f "$LOG"

if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now "$SERVICE" >/dev/null 2>&1 || true
fi
echo "installed: $PACKAGE"
