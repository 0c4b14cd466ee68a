#!/usr/bin/env bash
# Startup of a sidecar: time from exec to the first proxied 200, with and without the class-data
# sharing archive built at package time, and the first thousand requests' latency against a
# steady-state sample of the same size.
#
#   loadtest/startup.sh [--runs N] [--requests N] [--jar PATH]
#
# Starts the IdP simulator (loopback, CPU 1), then N times per variant: exec scopegate (CPU 1,
# the shipped JVM flags, access log on) and poll GET /api/ping through it every 10 ms until it
# answers 200; the time from exec to that answer is the startup. On the first run of each variant,
# wrk (CPU 0, 1 connection) then sends the first N requests (wrk/first-n.lua) and, after 5 s of
# load, N more as the steady state. Prints median and max per variant, the p99 ratio, and the
# gateway's RSS after the load; writes loadtest/results/startup.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LT=$ROOT/loadtest
RUNS=10
REQUESTS=1000
JAR=$ROOT/gateway/target/scopegate.jar
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift ;;
    --requests) REQUESTS=$2; shift ;;
    --jar) JAR=$2; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 64 ;;
  esac
  shift
done
JSA=${JAR%.jar}.jsa
BASE=${LT_PORT_BASE:-18180}
SIM_PORT=$((BASE + 1)) SG_PORT=$BASE SG_ADMIN=$((BASE + 10))
FLAGS="-Xmx128m -XX:+UseSerialGC -Xshare:auto"
[ -f "$LT/target/benchmarks.jar" ] || { echo "build first: mvn -B -q package -DskipTests" >&2; exit 1; }
[ -f "$JSA" ] || echo "no $JSA: the CDS rows will be missing (mvn package builds it)" >&2

WORK=$(mktemp -d /tmp/scopegate-startup.XXXXXX)
PIDS=()
cleanup() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

taskset -c 1 java -Xmx256m -XX:+UseSerialGC -cp "$LT/target/benchmarks.jar" dev.scopegate.loadtest.IdpSimulator \
  --port "$SIM_PORT" >"$WORK/simulator.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$SIM_PORT/api/ping" 2>/dev/null && break; sleep 0.1; done

mkdir -p "$WORK/conf"
cat >"$WORK/conf/scopegate.yaml" <<YAML
listen: {host: 127.0.0.1, port: $SG_PORT}
admin: {host: 127.0.0.1, port: $SG_ADMIN}
upstream: {url: "http://127.0.0.1:$SIM_PORT"}
scope:
  default: "worker:read"
store: {type: embedded, path: "$WORK/data"}
logging: {access: true}
YAML

wrk_first() { # -> "p50 p99 p999"
  taskset -c 0 wrk -t1 -c1 -d5s --timeout 5s -s "$LT/wrk/first-n.lua" "http://127.0.0.1:$SG_PORT/api/resource" -- "$REQUESTS" 2>&1 \
    | sed -n 's/^RESULT.* p50=\([0-9]*\) p90=[0-9]* p99=\([0-9]*\) p999=\([0-9]*\).*/\1 \2 \3/p'
}

declare -A STARTS FIRST STEADY RSS
for variant in cds nocds; do
  opts=$FLAGS
  if [ "$variant" = cds ]; then
    [ -f "$JSA" ] || continue
    opts="$opts -XX:SharedArchiveFile=$JSA"
  fi
  times=()
  for run in $(seq 1 "$RUNS"); do
    rm -rf "$WORK/data"
    t0=$(date +%s%N)
    # shellcheck disable=SC2086
    taskset -c 1 java $opts -jar "$JAR" --config "$WORK/conf/scopegate.yaml" >"$WORK/$variant-$run.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    until curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$SG_PORT/api/ping" 2>/dev/null; do
      kill -0 "$pid" 2>/dev/null || { echo "scopegate exited; see $WORK/$variant-$run.log" >&2; exit 1; }
      sleep 0.01
    done
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000000 )))
    if [ "$run" -eq 1 ]; then
      FIRST[$variant]=$(wrk_first)
      taskset -c 0 wrk -t1 -c32 -d5s "http://127.0.0.1:$SG_PORT/api/resource" >/dev/null 2>&1
      STEADY[$variant]=$(wrk_first)
      RSS[$variant]=$(awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")
    fi
    kill "$pid"; wait "$pid" 2>/dev/null || true
    log "$variant run $run: ${times[-1]} ms"
  done
  STARTS[$variant]=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR] = $1} END {m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.0f %d", m, a[NR]}')
done

{
  echo "# Startup: exec → first proxied 200"
  echo
  echo "\`loadtest/startup.sh --runs $RUNS --requests $REQUESTS\` ($(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1 /proc/loadavg), $(java -version 2>&1 | head -n 1)): scopegate \`java $FLAGS [-XX:SharedArchiveFile=…jsa] -jar\` on CPU 1 with the simulator, GET /api/ping polled every 10 ms. Latencies in µs (wrk, 1 connection, the first $REQUESTS requests after the first 200, then $REQUESTS after 5 s of load)."
  echo
  echo "| variant | exec → first 200, median / max of $RUNS (ms) | first $REQUESTS p50 / p99 / p99.9 | steady $REQUESTS p50 / p99 / p99.9 | p99 first ÷ steady | RSS after (MiB) |"
  echo "|---|---:|---:|---:|---:|---:|"
  for variant in cds nocds; do
    [ -n "${STARTS[$variant]:-}" ] || continue
    read -r med max <<<"${STARTS[$variant]}"
    read -r f50 f99 f999 <<<"${FIRST[$variant]:-0 0 0}"
    read -r s50 s99 s999 <<<"${STEADY[$variant]:-0 0 0}"
    printf '| %s | %s / %s | %s / %s / %s | %s / %s / %s | %s | %s |\n' \
      "$([ $variant = cds ] && echo "with the CDS archive" || echo "without (-Xshare:auto, JDK base archive only)")" \
      "$med" "$max" "$f50" "$f99" "$f999" "$s50" "$s99" "$s999" \
      "$(awk -v a="$f99" -v b="$s99" 'BEGIN { printf (b > 0 ? "%.2f" : "–"), a / b }')" "${RSS[$variant]}"
  done
} >"$WORK/startup.md"
mkdir -p "$LT/results"
cp "$WORK/startup.md" "$LT/results/startup.md"
cat "$WORK/startup.md"
