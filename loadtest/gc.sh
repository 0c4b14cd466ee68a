#!/usr/bin/env bash
# GC and heap shape for the sidecar: per collector, the pauses (-Xlog:gc) during a fixed POST load
# after a warm-up, counted per 100,000 requests, their mean and max, and the RSS afterwards.
# Counts are valid on a loaded machine; durations only on a quiet one.
#
#   loadtest/gc.sh [--gcs SerialGC,ParallelGC,G1GC] [--heap 128m] [--cpus 2] [--seconds 10]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LT=$ROOT/loadtest
GCS=SerialGC,ParallelGC,G1GC HEAP=128m CPUS=2 SECONDS_=10
while [ $# -gt 0 ]; do
  case "$1" in
    --gcs) GCS=$2; shift ;; --heap) HEAP=$2; shift ;; --cpus) CPUS=$2; shift ;; --seconds) SECONDS_=$2; shift ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 64 ;;
  esac
  shift
done
BASE=${LT_PORT_BASE:-18280}
SIM_PORT=$((BASE + 1)) SG_PORT=$BASE SG_ADMIN=$((BASE + 10))
JAR=$ROOT/gateway/target/scopegate.jar JSA=$ROOT/gateway/target/scopegate.jsa
WORK=$(mktemp -d /tmp/scopegate-gc.XXXXXX)
PIDS=()
cleanup() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

taskset -c 1 java -Xmx256m -XX:+UseSerialGC -cp "$LT/target/benchmarks.jar" dev.scopegate.loadtest.IdpSimulator \
  --port "$SIM_PORT" >"$WORK/simulator.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$SIM_PORT/api/ping" 2>/dev/null && break; sleep 0.1; done
mkdir -p "$WORK/conf"
cat >"$WORK/conf/scopegate.yaml" <<YAML
listen: {host: 127.0.0.1, port: $SG_PORT}
admin: {host: 127.0.0.1, port: $SG_ADMIN}
upstream: {url: "http://127.0.0.1:$SIM_PORT"}
store: {type: embedded, path: "$WORK/data"}
logging: {access: true}
YAML

echo "| collector (-Xmx$HEAP, $CPUS CPUs seen) | requests | pauses | per 100k requests | mean pause ms | max pause ms | RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|"
IFS=, read -r -a list <<<"$GCS"
for gc in "${list[@]}"; do
  rm -rf "$WORK/data"
  cds=""; [ -f "$JSA" ] && cds="-XX:SharedArchiveFile=$JSA"
  # shellcheck disable=SC2086
  taskset -c 1 java -Xmx"$HEAP" -XX:+Use"$gc" -XX:ActiveProcessorCount="$CPUS" -Xshare:auto $cds \
    -Xlog:gc:file="$WORK/gc-$gc.log" -jar "$JAR" --config "$WORK/conf/scopegate.yaml" >"$WORK/$gc.out" 2>&1 &
  pid=$!; PIDS+=("$pid")
  until curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$SG_PORT/api/ping" 2>/dev/null; do sleep 0.1; done
  taskset -c 0 wrk -t1 -c32 -d5s -s "$LT/wrk/post-json.lua" "http://127.0.0.1:$SG_PORT/api/tools" >/dev/null
  before=$(grep -c Pause "$WORK/gc-$gc.log" || true)
  req=$(taskset -c 0 wrk -t1 -c32 -d"${SECONDS_}s" -s "$LT/wrk/post-json.lua" "http://127.0.0.1:$SG_PORT/api/tools" \
        | sed -n 's/^RESULT requests=\([0-9]*\).*/\1/p')
  rss=$(awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  grep Pause "$WORK/gc-$gc.log" | tail -n +$((before + 1)) | awk -v gc="$gc" -v req="${req:-0}" -v rss="$rss" '
    { ms = $NF; sub("ms", "", ms); ms += 0; n++; s += ms; if (ms > m) m = ms }
    END { printf "| %s | %d | %d | %.1f | %.2f | %.2f | %s |\n", gc, req, n, (req > 0 ? n * 1e5 / req : 0), (n ? s / n : 0), m, rss }'
done
