#!/usr/bin/env bash
# Makes `prometheus` and `promtool` available for the alert-rule and dashboard tests
# (ops/PrometheusRulesTest, ops/PrometheusDashboardTest): each test runs its own `prometheus` on a
# free loopback port with a temporary config and storage directory.
set -euo pipefail
bash "$(dirname "$0")/apt-install.sh" prometheus prometheus prometheus promtool
prometheus --version 2>&1 | head -1
