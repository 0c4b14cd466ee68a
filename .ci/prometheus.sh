#!/usr/bin/env bash
# Makes `prometheus` and `promtool` available for the alert-rule and dashboard tests
# (gateway/src/test/java/dev/scopegate/ops/PrometheusRulesTest.java, PrometheusScrapeTest.java).
# Idempotent: installs Debian's package only when promtool is missing. Never starts the packaged
# service: each test runs its own `prometheus` on a free loopback port with a temporary config and
# storage directory, and stops it. The package's own service is kept from starting (policy-rc.d),
# and stopped and disabled if the init system started it anyway.
set -euo pipefail

if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then
  echo "prometheus present: $(prometheus --version 2>&1 | head -1)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "prometheus is missing and this user cannot install packages (no root, no sudo)" >&2
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
LOG=$(mktemp)
# Quiet unless it fails. Without recommends: the node exporter is not needed.
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends prometheus; } >"$LOG" 2>&1; then
  cat "$LOG" >&2
  rm -f "$LOG"
  exit 1
fi
rm -f "$LOG"

if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
fi

echo "installed: $(prometheus --version 2>&1 | head -1)"
