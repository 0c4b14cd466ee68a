#!/usr/bin/env bash
# An unknown-client flood against a running scopegate, with known clients' latency measured meanwhile.
#
#   loadtest/flood.sh [--jar PATH] [--requests N] [--seconds S] [--known K] [--heap SIZE] [--label NAME]
#
# Starts, on 127.0.0.1 only: the IdP simulator and scopegate (`java -Xmx128m -jar JAR`, access log
# off, GC log on). scopegate has CPU 1 to itself (one CPU visible: one event loop and SerialGC, as
# in loadtest/run.sh); the simulator and wrk share CPU 0, so the flood is not slowed down by the
# simulator on the gateway's CPU. Registers K clients
# through scopegate (DCR) and reads each once, so they are cached. Then, at the same time:
#   * the flood: authorization requests without scope, each for a new made-up client_id
#     (wrk/flood.lua, 2 threads x 8 connections), N requests at most, stopped after S seconds at most;
#   * the probe: authorization requests for the K known clients (wrk/known.lua, 4 connections,
#     5 ms pause before each request), p50/p99 as wrk measures them, until the flood is over.
# Afterwards it reads every known client once more (the store reads that costs say whether the
# flood evicted them) and prints key=value lines: requests, store reads (scopegate_cache_load_total
# of cache="registrations"), cache sizes and evictions, GC pauses during the flood (count, full,
# max, total from -Xlog:gc), heap after the flood, RSS (VmRSS at the end, VmHWM peak), the probe's
# p50/p99. A flood saturates the gateway's CPU: the probe's p50 is mostly queueing behind the
# flood's 16 requests in flight; compare builds by running this script against each in turn.
#
#   --jar PATH     gateway jar (default gateway/target/scopegate.jar; point it at another build to compare)
#   --requests N   flood requests, at most 1000000 (default 1000000)
#   --seconds S    flood duration cap, at most 180 (default 180)
#   --known K      registered clients the probe cycles through (default 100)
#   --heap SIZE    gateway -Xmx (default 128m, as loadtest/run.sh runs it)
#   --label NAME   prefix of the printed lines (default flood)
#
# Needs Java 17, wrk, curl, and loadtest/target/benchmarks.jar (mvn -B -q package -DskipTests).
# Ports 18380-18391 must be free (LT_FLOOD_PORT_BASE moves them). Stops what it started on exit;
# LT_KEEP=1 keeps the work directory (gateway log, GC log, wrk output).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LT=$ROOT/loadtest
JAR=$ROOT/gateway/target/scopegate.jar
REQUESTS=1000000
SECONDS_MAX=180
KNOWN=100
HEAP=128m
LABEL=flood

while [ $# -gt 0 ]; do
  case "$1" in
    --jar) JAR=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift ;;
    --requests) REQUESTS=$2; shift ;;
    --seconds) SECONDS_MAX=$2; shift ;;
    --known) KNOWN=$2; shift ;;
    --heap) HEAP=$2; shift ;;
    --label) LABEL=$2; shift ;;
    -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 64 ;;
  esac
  shift
done

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$REQUESTS" -ge 1 ] && [ "$REQUESTS" -le 1000000 ] || die "--requests must be 1..1000000"
[ "$SECONDS_MAX" -ge 1 ] && [ "$SECONDS_MAX" -le 180 ] || die "--seconds must be 1..180"
[ "$KNOWN" -ge 1 ] && [ "$KNOWN" -le 1000 ] || die "--known must be 1..1000"
[ -f "$JAR" ] || die "no gateway jar at $JAR (mvn -B -q package -DskipTests)"
[ -f "$LT/target/benchmarks.jar" ] || die "no $LT/target/benchmarks.jar (mvn -B -q package -DskipTests)"
command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"

BASE=${LT_FLOOD_PORT_BASE:-18380}
SG_PORT=$BASE SIM_PORT=$((BASE + 1)) SG_ADMIN=$((BASE + 11))
FLOOD_THREADS=2
FLOOD_CONNS=16
PROBE_CONNS=4
PROBE_DELAY_MS=5
REDIRECT='redirect_uri=https%3A%2F%2Fchatgpt.com%2Fconnector_platform_oauth_redirect'
TAIL="$REDIRECT&state=oauth_s_691b57560b648191a5a85lt8e30e0894&code_challenge=usJfT28XGmDtSalaQQgcvouUG95K5jDvwNiL21j8u5o&code_challenge_method=S256"

# CPU 1 for the servers and CPU 0 for wrk, as loadtest/run.sh; no pinning on a single CPU.
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  ON_SERVER_CPU=(taskset -c 1) ON_CLIENT_CPU=(taskset -c 0)
else
  ON_SERVER_CPU=() ON_CLIENT_CPU=()
fi

for p in $SG_PORT $SIM_PORT $SG_ADMIN; do
  if (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then
    die "port $p is in use (set LT_FLOOD_PORT_BASE to move the ports)"
  fi
done

PIDS=()
WORK=$(mktemp -d /tmp/scopegate-flood.XXXXXX)
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  [ -z "${LT_KEEP:-}" ] && rm -rf "$WORK"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_http() { # url, what
  local i
  for i in $(seq 1 150); do
    curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  die "$2 did not come up ($1); see $WORK"
}

metrics() { curl -fsS --max-time 10 "http://127.0.0.1:$SG_ADMIN/metrics"; }

metric_sum() { # metrics text, regex of the series -> sum of their values
  awk -v re="$2" '$0 ~ re && $0 !~ /^#/ {s += $NF} END {printf "%.0f", s}' <<<"$1"
}

result_field() { # RESULT line, key -> value
  tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"
}

log "work dir $WORK; jar $JAR; load average $(cut -d' ' -f1 /proc/loadavg)"

"${ON_CLIENT_CPU[@]}" java -Xmx256m -XX:+UseSerialGC -cp "$LT/target/benchmarks.jar" dev.scopegate.loadtest.IdpSimulator \
  --port "$SIM_PORT" >"$WORK/simulator.log" 2>&1 &
PIDS+=("$!")
wait_http "http://127.0.0.1:$SIM_PORT/.well-known/oauth-authorization-server" "simulator"

cat >"$WORK/scopegate.yaml" <<EOF
# generated by loadtest/flood.sh
listen: {host: 127.0.0.1, port: $SG_PORT}
admin: {host: 127.0.0.1, port: $SG_ADMIN}
upstream: {url: "http://127.0.0.1:$SIM_PORT"}
scope:
  default: "worker:read"
store: {type: embedded, path: "$WORK/data"}
logging: {access: false}
EOF
# The audit log still writes one line per rewrite (every flood request gets the default scope).
(cd "$WORK" && exec "${ON_SERVER_CPU[@]}" java -Xmx"$HEAP" -Xlog:gc:file="$WORK/gc.log" -jar "$JAR" \
  --config "$WORK/scopegate.yaml" >"$WORK/scopegate.log" 2>&1) &
SG_PID=$!
PIDS+=("$SG_PID")
wait_http "http://127.0.0.1:$SG_ADMIN/readyz" "scopegate"

log "registering $KNOWN clients through scopegate"
IDS=()
for i in $(seq 1 "$KNOWN"); do
  id=$(curl -fsS -X POST "http://127.0.0.1:$SG_PORT/oauth/register" -H 'Content-Type: application/json' \
    -d '{"client_name":"ChatGPT","redirect_uris":["https://chatgpt.com/connector_platform_oauth_redirect"],"scope":"worker:read people:read"}' \
    | sed -n 's/.*"client_id":"\([^"]*\)".*/\1/p')
  [ -n "$id" ] || die "registration $i failed"
  IDS+=("$id")
done
read_known() { # reads every known client once; fails unless each gets its scope added
  local id q
  for id in "${IDS[@]}"; do
    q=$(curl -fsS -o /dev/null -D - --max-time 5 "http://127.0.0.1:$SG_PORT/oauth/authorize?response_type=code&client_id=$id&$TAIL" \
      | tr -d '\r' | sed -n 's/^x-idp-query: //Ip')
    [[ "$q" == *"&scope=worker%3Aread%20people%3Aread"* ]] || die "known client $id was not rewritten: $q"
  done
}
read_known

M0=$(metrics)
LOADS0=$(metric_sum "$M0" '^scopegate_cache_load_total\{.*cache="registrations"')
REQ0=$(metric_sum "$M0" '^scopegate_requests_total\{.*route="authorize"')
CPU0=$(sed 's/.*) //' "/proc/$SG_PID/stat" | awk '{print $12 + $13}')
GC_LINES0=$(wc -l <"$WORK/gc.log")
PER_THREAD=$(( REQUESTS / FLOOD_THREADS - FLOOD_CONNS / FLOOD_THREADS ))
[ "$PER_THREAD" -ge 1 ] || PER_THREAD=1

log "probe: $PROBE_CONNS connections over $KNOWN known clients; flood: $((PER_THREAD * FLOOD_THREADS)) unknown client_ids (at most $REQUESTS requests, $SECONDS_MAX s)"
"${ON_CLIENT_CPU[@]}" wrk -t1 -c"$PROBE_CONNS" -d"$((SECONDS_MAX + 30))s" --timeout 5s -s "$LT/wrk/known.lua" \
  "http://127.0.0.1:$SG_PORT" -- "$PROBE_DELAY_MS" "$TAIL" "${IDS[@]}" >"$WORK/probe.out" 2>&1 &
PROBE_PID=$!
PIDS+=("$PROBE_PID")
STARTED=$(date +%s.%N)
"${ON_CLIENT_CPU[@]}" wrk -t"$FLOOD_THREADS" -c"$FLOOD_CONNS" -d"${SECONDS_MAX}s" --timeout 5s -s "$LT/wrk/flood.lua" \
  "http://127.0.0.1:$SG_PORT" -- "$PER_THREAD" "$WORK/flood.done" "$TAIL" >"$WORK/flood.out" 2>&1 &
FLOOD_PID=$!
PIDS+=("$FLOOD_PID")

# wrk runs until -d even when its threads stopped early: end it (SIGINT: it still reports) once
# every thread is done or the gateway is gone.
while kill -0 "$FLOOD_PID" 2>/dev/null; do
  done_threads=$(find "$WORK" -maxdepth 1 -name 'flood.done.*' | wc -l)
  if [ "$done_threads" -ge "$FLOOD_THREADS" ]; then sleep 1; kill -INT "$FLOOD_PID" 2>/dev/null || true; break; fi
  kill -0 "$SG_PID" 2>/dev/null || { log "the gateway exited during the flood"; kill -INT "$FLOOD_PID" 2>/dev/null || true; break; }
  sleep 0.5
done
wait "$FLOOD_PID" 2>/dev/null || true
ENDED=$(date +%s.%N)
kill -INT "$PROBE_PID" 2>/dev/null || true
wait "$PROBE_PID" 2>/dev/null || true

FLOOD=$(grep '^RESULT ' "$WORK/flood.out" || true)
PROBE=$(grep '^RESULT ' "$WORK/probe.out" || true)
[ -n "$FLOOD" ] || die "the flood's wrk reported nothing: $(tail -n 3 "$WORK/flood.out")"
[ -n "$PROBE" ] || die "the probe's wrk reported nothing: $(tail -n 3 "$WORK/probe.out")"
kill -0 "$SG_PID" 2>/dev/null || die "the gateway exited; see $WORK/scopegate.log"

CPU1=$(sed 's/.*) //' "/proc/$SG_PID/stat" | awk '{print $12 + $13}')
tail -n +"$((GC_LINES0 + 1))" "$WORK/gc.log" >"$WORK/gc-flood.log"
M1=$(metrics)
LOADS1=$(metric_sum "$M1" '^scopegate_cache_load_total\{.*cache="registrations"')
REQ1=$(metric_sum "$M1" '^scopegate_requests_total\{.*route="authorize"')
read_known
M2=$(metrics)
LOADS2=$(metric_sum "$M2" '^scopegate_cache_load_total\{.*cache="registrations"')
RSS=$(awk '/^VmRSS/ {print $2}' "/proc/$SG_PID/status")
HWM=$(awk '/^VmHWM/ {print $2}' "/proc/$SG_PID/status")

# -Xlog:gc lines: "[1.234s][info][gc] GC(7) Pause Young (Allocation Failure) 40M->9M(123M) 3.456ms"
GC=$(awk '/Pause/ && / [0-9.]+ms$/ {
        ms = $NF; sub(/ms$/, "", ms); ms += 0; n++; t += ms; if (ms > max) max = ms; if (/Pause Full/) full++
        if (/Pause Young/) young++ }
      END { printf "%d pauses (young %d, full %d), max %.1f ms, total %.0f ms", n, young, full, max, t }' \
      "$WORK/gc-flood.log")
GC_NAME=$(sed -n 's/.*Using \(.*\)$/\1/p' "$WORK/gc.log" | head -n 1)

{
  echo "$LABEL.jar=$JAR"
  echo "$LABEL.gc=$GC_NAME -Xmx$HEAP; load average at the end $(cut -d' ' -f1 /proc/loadavg)"
  echo "$LABEL.flood_requests=$(result_field "$FLOOD" requests) in $(awk -v a="$STARTED" -v b="$ENDED" 'BEGIN {printf "%.1f", b - a}') s; authorize requests counted by scopegate $((REQ1 - REQ0)) (flood + probe)"
  echo "$LABEL.flood_errors=connect $(result_field "$FLOOD" connect) read $(result_field "$FLOOD" read) timeout $(result_field "$FLOOD" timeout) status $(result_field "$FLOOD" status) not-302 $(result_field "$FLOOD" mismatches)"
  echo "$LABEL.store_reads=$((LOADS1 - LOADS0)) during the flood; $((LOADS2 - LOADS1)) to serve the $KNOWN known clients once more afterwards"
  echo "$LABEL.gateway_cpu_s=$(awk -v t=$((CPU1 - CPU0)) -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", t / hz}')"
  echo "$LABEL.cache_registrations=size $(metric_sum "$M1" '^scopegate_cache_size\{.*cache="registrations"') evictions $(metric_sum "$M1" '^scopegate_cache_evictions_total\{.*cache="registrations"')"
  echo "$LABEL.cache_unknown_clients=size $(metric_sum "$M1" '^scopegate_cache_size\{.*cache="unknown-clients"') evictions $(metric_sum "$M1" '^scopegate_cache_evictions_total\{.*cache="unknown-clients"') (absent before the unknown-clients cache existed)"
  echo "$LABEL.gc_during_flood=$GC"
  echo "$LABEL.heap_after_mib=used $(metric_sum "$M1" '^jvm_memory_used_bytes\{.*area="heap"' | awk '{printf "%.1f", $1 / 1048576}'), live after the last full GC $(metric_sum "$M1" '^jvm_gc_live_data_size_bytes' | awk '{printf "%.1f", $1 / 1048576}')"
  echo "$LABEL.rss_mib=end $(awk -v k="$RSS" 'BEGIN {printf "%.0f", k / 1024}'), peak $(awk -v k="$HWM" 'BEGIN {printf "%.0f", k / 1024}')"
  echo "$LABEL.probe=requests $(result_field "$PROBE" requests) p50 $(result_field "$PROBE" p50) us p99 $(result_field "$PROBE" p99) us p99.9 $(result_field "$PROBE" p999) us max $(result_field "$PROBE" max) us; errors connect $(result_field "$PROBE" connect) read $(result_field "$PROBE" read) timeout $(result_field "$PROBE" timeout) mismatches $(result_field "$PROBE" mismatches)"
} | tee "$WORK/summary.txt"
