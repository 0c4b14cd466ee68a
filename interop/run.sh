#!/usr/bin/env bash
# The interop suite: scopegate (the built jar) between oidc-provider and the MCP TypeScript SDK.
#
#   bash interop/run.sh            from anywhere; builds gateway/target/scopegate.jar if missing
#
# Environment: INTEROP_TIMEOUT (seconds for the test run, default 270), SCOPEGATE_JAR (another jar).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"

node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "interop: Node.js >= 20 required, found $(node --version)" >&2
  exit 1
fi
command -v java >/dev/null || { echo "interop: java not found" >&2; exit 1; }

jar="${SCOPEGATE_JAR:-$repo/gateway/target/scopegate.jar}"
if [ ! -f "$jar" ]; then
  echo "interop: $jar missing, building it"
  (cd "$repo" && timeout 600 mvn -B -q -o package -DskipTests)
fi

cd "$here"
timeout 180 npm ci --no-audit --no-fund --loglevel=error
version() { node -p "require('./node_modules/$1/package.json').version"; }
echo "interop: node $(node --version), oidc-provider $(version oidc-provider), @modelcontextprotocol/sdk $(version @modelcontextprotocol/sdk)"

# Two test files at a time: each has its own IdP, gateway JVMs, ports and temp dir. timeout
# signals its whole process group, gateways included.
exec timeout --kill-after=10 "${INTEROP_TIMEOUT:-270}" \
  node --test --test-concurrency=2 --test-reporter=spec test/
