#!/usr/bin/env bash
# scopegate vs nginx, like for like: what a proxied request costs, as interleaved paired ratios.
#
#   loadtest/run.sh [options]          the issue's table: about 11 minutes with the defaults
#
# Starts, on 127.0.0.1 only: the IdP simulator; one scopegate per (JVM CPU count x access log)
# of the matrix, each with the shipped JVM flags (SG_JVM_OPTS below) plus -XX:ActiveProcessorCount;
# one nginx per access-log setting (on = `access_log ... buffer=64k flush=1s`, the counterpart of
# scopegate's buffered appender; off = `access_log off`), worker_processes 1, keep-alive upstream
# pool. Every proxy and the simulator are pinned to CPU 1, wrk to CPU 0. Then runs every case at
# every connection count in rounds whose target order alternates (A B, B A, ...), reading each
# proxy's CPU ticks from /proc/PID/stat around each run, and prints the like-for-like table
# (per-round ratios, then median [min-max]) to loadtest/results/latest.md.
#
#   --cases LIST     default get,post,authz-hit; all: get,post,authz-hit,authz-unknown,authz-scope,dcr,metadata
#   --conns LIST     default 1,32
#   --cpus LIST      what the JVM is told (-XX:ActiveProcessorCount), default 1,2
#   --logs LIST      default on,off (off adds scopegate logging.access:false and nginx access_log off)
#   --nginx-unbuffered   an extra nginx row with its access log unbuffered (one write per request)
#   --rounds N       rounds (default 5)            --duration S   seconds per run (default 3)
#   --quick          smoke test, about 2 minutes: 2 rounds of 1 s, 1 CPU, short warm-up
#   --full           also every case, the simulator alone, a JFR profile, the registration
#                    footprint and the JMH benchmarks (the old default report; about 35 minutes)
#   --syscalls       instead of timed rounds: syscalls and context switches per request of each
#                    proxy (perf trace -s, or strace -c -f), counted, so valid on a loaded machine
#   --wait-calm MIN  first wait up to MIN minutes for a 1-minute load average below 1.5
#   --no-jmh, --no-profile   skip those phases of --full
#
# SG_JVM_OPTS overrides the shipped JVM flags (e.g. SG_JVM_OPTS="-Xmx128m -XX:+UseG1GC" to try a GC).
# LT_BASELINE_JAR=path/to/other/scopegate.jar adds a target "baseline" running that build (1 CPU,
# access log on, same flags), interleaved with this one: the report adds "this build / baseline".
#
# Needs: Java 17, Maven (to build when the jars are missing), root or sudo to install nginx-light
# and wrk from Debian packages when they are missing. Ports 18080-18099 must be free (LT_PORT_BASE
# moves them). Stops everything it started on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LT=$ROOT/loadtest
ROUNDS=5
DURATION=3
WARMUP=5
QUICK=0
FULL=0
SYSCALLS=0
RUN_JMH=1
RUN_PROFILE=1
PROFILE_SECONDS=15
WAIT_CALM=0
FOOTPRINT_COUNT=1000000
CASE_LIST=get,post,authz-hit
CONN_LIST=1,32
CPU_LIST=1,2
LOG_LIST=on,off
NGINX_UNBUF=0
ARGS="$*"

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; ROUNDS=2; DURATION=1; WARMUP=2; CPU_LIST=1; PROFILE_SECONDS=3; FOOTPRINT_COUNT=100000 ;;
    --full) FULL=1; DURATION=4; CASE_LIST=get,post,authz-hit,authz-unknown,authz-scope,dcr,metadata ;;
    --syscalls) SYSCALLS=1 ;;
    --cases) CASE_LIST=$2; shift ;;
    --conns) CONN_LIST=$2; shift ;;
    --cpus) CPU_LIST=$2; shift ;;
    --logs) LOG_LIST=$2; shift ;;
    --nginx-unbuffered) NGINX_UNBUF=1 ;;
    --rounds) ROUNDS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --wait-calm) WAIT_CALM=$2; shift ;;
    --no-jmh) RUN_JMH=0 ;;
    --no-profile) RUN_PROFILE=0 ;;
    -h|--help) sed -n '2,36p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 64 ;;
  esac
  shift
done
[ "$FULL" -eq 1 ] || { RUN_JMH=0; RUN_PROFILE=0; }

# The shipped JVM flags (README "Operations", docker/Dockerfile): a small heap, the serial
# collector, and the class-data archive built at package time when it is there (-Xshare:auto: an
# archive that does not match this JDK is ignored, never fatal).
JSA=$ROOT/gateway/target/scopegate.jsa
SHIPPED_JVM_OPTS="-Xmx128m -XX:+UseSerialGC -Xshare:auto"
[ -f "$JSA" ] && SHIPPED_JVM_OPTS="$SHIPPED_JVM_OPTS -XX:SharedArchiveFile=$JSA"
SG_JVM_OPTS=${SG_JVM_OPTS:-$SHIPPED_JVM_OPTS}

BASE=${LT_PORT_BASE:-18080}
SIM_PORT=$((BASE + 1))
HZ=$(getconf CLK_TCK)
IFS=, read -r -a CASES <<<"$CASE_LIST"
IFS=, read -r -a CONNS <<<"$CONN_LIST"
IFS=, read -r -a JVM_CPUS <<<"$CPU_LIST"
IFS=, read -r -a LOGS <<<"$LOG_LIST"
MAXCONNS=${CONNS[${#CONNS[@]}-1]}

# The targets of the matrix and their ports: proxy at BASE+2+i, admin (scopegate) at BASE+12+i.
declare -A PORT ADMIN PID CLIENT SG_CPUS SG_ACCESS SG_JAR
SG_TARGETS=()
NGINX_TARGETS=()
add_scopegate() { # name cpus access(true|false) jar
  local i=$(( ${#SG_TARGETS[@]} + ${#NGINX_TARGETS[@]} ))
  SG_TARGETS+=("$1"); PORT[$1]=$((BASE + 2 + i)); ADMIN[$1]=$((BASE + 12 + i))
  SG_CPUS[$1]=$2; SG_ACCESS[$1]=$3; SG_JAR[$1]=$4
}
add_nginx() { # name access_log-directive
  local i=$(( ${#SG_TARGETS[@]} + ${#NGINX_TARGETS[@]} ))
  NGINX_TARGETS+=("$1"); PORT[$1]=$((BASE + 2 + i)); NGINX_LOG[$1]=$2
}
declare -A NGINX_LOG
for l in "${LOGS[@]}"; do
  case "$l" in on|off) ;; *) echo "--logs takes on,off" >&2; exit 64 ;; esac
  for n in "${JVM_CPUS[@]}"; do
    name=scopegate$([ "$l" = on ] || echo -nolog)$([ "$n" = 1 ] || echo "-${n}cpu")
    add_scopegate "$name" "$n" "$([ "$l" = on ] && echo true || echo false)" "$ROOT/gateway/target/scopegate.jar"
  done
done
[ -n "${PORT[scopegate]:-}" ] || add_scopegate scopegate 1 true "$ROOT/gateway/target/scopegate.jar"
if [ -n "${LT_BASELINE_JAR:-}" ]; then add_scopegate baseline 1 true "$LT_BASELINE_JAR"; fi
NGINX_ACCESS_DIR=""
for l in "${LOGS[@]}"; do
  if [ "$l" = on ]; then add_nginx nginx "buffered"; else add_nginx nginx-nolog "off"; fi
done
[ -n "${PORT[nginx]:-}" ] || add_nginx nginx "buffered"
if [ "$NGINX_UNBUF" -eq 1 ]; then add_nginx nginx-unbuf "unbuffered"; fi
SCOPE='worker:read time-off:read time-off:write contracts:read people:read'
SCOPE_ENC='worker%3Aread%20time-off%3Aread%20time-off%3Awrite%20contracts%3Aread%20people%3Aread'
DEFAULT_SCOPE_ENC='worker%3Aread'
REDIRECT='redirect_uri=https%3A%2F%2Fchatgpt.com%2Fconnector_platform_oauth_redirect'
TAIL="state=oauth_s_691b57560b648191a5a85lt8e30e0894&code_challenge=usJfT28XGmDtSalaQQgcvouUG95K5jDvwNiL21j8u5o&code_challenge_method=S256&resource=https%3A%2F%2Fmy-domain%2Fmcp"
UNKNOWN_ID=5c0ff7a1-0000-4000-8000-00000000beef

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
loadavg() { cut -d' ' -f1 /proc/loadavg; }

# ---- prerequisites ---------------------------------------------------------------------------

install_packages() {
  local need=()
  command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
  command -v wrk >/dev/null 2>&1 || need+=(wrk)
  [ ${#need[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  log "installing ${need[*]} (Debian packages)"
  # Keep the package's own nginx service from starting on port 80.
  local policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $sudo tee $policy >/dev/null && $sudo chmod +x $policy
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${need[@]}" >/dev/null \
    || { $sudo apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${need[@]}" >/dev/null; }
  [ -n "$policy" ] && $sudo rm -f "$policy"
  command -v nginx >/dev/null && command -v wrk >/dev/null || die "could not install ${need[*]}"
}

build() {
  if [ ! -f "$ROOT/gateway/target/scopegate.jar" ] || [ ! -f "$LT/target/benchmarks.jar" ]; then
    log "building (mvn -B -q package -DskipTests)"
    (cd "$ROOT" && mvn -B -q package -DskipTests) || die "build failed"
  fi
}

check_ports() {
  local p
  for p in $SIM_PORT "${PORT[@]}" "${ADMIN[@]}"; do
    if (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then
      die "port $p is in use (set LT_PORT_BASE to move the ports)"
    fi
  done
}

wait_calm() {
  [ "$WAIT_CALM" -gt 0 ] || return 0
  local deadline=$(( $(date +%s) + WAIT_CALM * 60 ))
  while awk -v l="$(loadavg)" 'BEGIN { exit !(l >= 1.5) }'; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      LOAD_NOTE="the load average did not fall below 1.5 within $WAIT_CALM minutes: ran anyway on a shared machine"
      log "$LOAD_NOTE"
      return 0
    fi
    log "load average $(loadavg) >= 1.5: waiting (up to $WAIT_CALM min)"
    sleep 20
  done
  LOAD_NOTE="started once the load average was below 1.5"
}

# ---- processes ---------------------------------------------------------------------------------

PIDS=()
WORK=""
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  [ -n "$WORK" ] && [ -z "${LT_KEEP:-}" ] && rm -rf "$WORK"
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

start_simulator() {
  taskset -c 1 java -Xmx256m -XX:+UseSerialGC -cp "$LT/target/benchmarks.jar" dev.scopegate.loadtest.IdpSimulator \
    --port "$SIM_PORT" >"$WORK/simulator.log" 2>&1 &
  SIM_PID=$!; PIDS+=("$SIM_PID")
  wait_http "http://127.0.0.1:$SIM_PORT/.well-known/oauth-authorization-server" "simulator"
}

scopegate_config() { # file port admin access(true|false) store
  cat >"$1" <<EOF
# generated by loadtest/run.sh
listen: {host: 127.0.0.1, port: $2}
admin: {host: 127.0.0.1, port: $3}
upstream: {url: "http://127.0.0.1:$SIM_PORT"}
scope:
  default: "worker:read"
store: {type: embedded, path: "$5"}
logging: {access: $4}
EOF
}

start_scopegate() { # target
  local t=$1 dir=$WORK/$1
  # The config in a directory of its own: the config watcher's inotify watch would otherwise wake
  # two threads on every write of the access log next to it.
  mkdir -p "$dir/conf"
  scopegate_config "$dir/conf/scopegate.yaml" "${PORT[$t]}" "${ADMIN[$t]}" "${SG_ACCESS[$t]}" "$dir/data"
  local opts=$SG_JVM_OPTS jar=${SG_JAR[$t]}
  if [ "$jar" != "$ROOT/gateway/target/scopegate.jar" ]; then # another build: its own archive, if any
    opts=${opts//-XX:SharedArchiveFile=$JSA/}
    if [ -f "${jar%.jar}.jsa" ]; then opts="$opts -XX:SharedArchiveFile=${jar%.jar}.jsa"; fi
  fi
  # shellcheck disable=SC2086
  (cd "$dir" && exec taskset -c 1 java $opts -XX:ActiveProcessorCount="${SG_CPUS[$t]}" -jar "$jar" \
    --config "$dir/conf/scopegate.yaml" >"$dir/stdout.log" 2>"$dir/stderr.log") &
  PID[$t]=$!
  PIDS+=("$!")
  wait_http "http://127.0.0.1:${ADMIN[$t]}/readyz" "$t"
}

start_nginx() { # target
  local t=$1 dir=$WORK/$1 access
  case "${NGINX_LOG[$t]}" in
    buffered) access="access_log $dir/access.log combined buffer=64k flush=1s;" ;;
    unbuffered) access="access_log $dir/access.log;" ;;
    off) access="access_log off;" ;;
  esac
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<EOF
# generated by loadtest/run.sh: nginx as the operator's reference, with a static scope rewrite
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  $access
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  upstream idp {
    server 127.0.0.1:$SIM_PORT;
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${PORT[$t]};
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host \$host;
    location / {
      proxy_pass http://idp;
    }
    location = /oauth/authorize {
      # The static rewrite: no (or an empty) scope gets one fixed scope for every client.
      if (\$arg_scope = "") {
        rewrite ^ \$uri?\$args&scope=$SCOPE_ENC? break;
      }
      proxy_pass http://idp;
    }
  }
}
EOF
  taskset -c 1 nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' 2>"$dir/stderr.log" &
  PID[$t]=$!; PIDS+=("$!")
  wait_http "http://127.0.0.1:${PORT[$t]}/api/ping" "$t"
}

register() { # port -> client_id registered through that scopegate
  curl -fsS -X POST "http://127.0.0.1:$1/oauth/register" -H 'Content-Type: application/json' \
    -d "{\"client_name\":\"ChatGPT\",\"redirect_uris\":[\"https://chatgpt.com/connector_platform_oauth_redirect\"],\"scope\":\"$SCOPE\"}" \
    | sed -n 's/.*"client_id":"\([^"]*\)".*/\1/p'
}

# ---- measurements ----------------------------------------------------------------------------

pids_of() { # target -> PIDs whose CPU counts
  case "$1" in
    direct) echo "$SIM_PID" ;;
    nginx*) echo "${PID[$1]} $(pgrep -P "${PID[$1]}" | tr '\n' ' ')" ;;
    *) echo "${PID[$1]}" ;;
  esac
}

cpu_ticks() { # pids... -> utime+stime summed (fields 14 and 15, counted after the command name)
  local p total=0 t
  for p in "$@"; do
    t=$(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')
    total=$((total + t))
  done
  echo "$total"
}

port_of() {
  if [ "$1" = direct ]; then echo "$SIM_PORT"; else echo "${PORT[$1]}"; fi
}

client_of() {
  echo "${CLIENT[$1]:-${CLIENT[scopegate]}}"
}

# Sets WRK_URL_PATH, WRK_SCRIPT and WRK_ARG for a case and target.
case_spec() { # case target
  local q
  WRK_ARG=""
  case "$1" in
    get) WRK_URL_PATH="/api/resource"; WRK_SCRIPT=get.lua ;;
    post) WRK_URL_PATH="/api/tools"; WRK_SCRIPT=post-json.lua ;;
    authz-hit)
      q="response_type=code&client_id=$(client_of "$2")&$REDIRECT&$TAIL"
      WRK_URL_PATH="/oauth/authorize?$q"; WRK_SCRIPT=authorize.lua; WRK_ARG="$q&scope=$SCOPE_ENC" ;;
    authz-unknown)
      q="response_type=code&client_id=$UNKNOWN_ID&$REDIRECT&$TAIL"
      WRK_URL_PATH="/oauth/authorize?$q"; WRK_SCRIPT=authorize.lua
      if [ "$2" = nginx ]; then WRK_ARG="$q&scope=$SCOPE_ENC"; else WRK_ARG="$q&scope=$DEFAULT_SCOPE_ENC"; fi ;;
    authz-scope)
      q="response_type=code&client_id=$(client_of "$2")&$REDIRECT&$TAIL&scope=worker%3Aread+time-off%3Aread+time-off%3Awrite+contracts%3Aread+people%3Aread"
      WRK_URL_PATH="/oauth/authorize?$q"; WRK_SCRIPT=authorize.lua; WRK_ARG="$q" ;;
    dcr) WRK_URL_PATH="/oauth/register"; WRK_SCRIPT=dcr.lua ;;
    metadata) WRK_URL_PATH="/.well-known/oauth-authorization-server"; WRK_SCRIPT=metadata.lua ;;
  esac
}

store_loads() { # admin port -> store reads so far (cache loads, success + failure)
  curl -fsS "http://127.0.0.1:$1/metrics" | awk '/^scopegate_cache_load_total\{.*cache="registrations"/ {s += $NF} END {printf "%d", s}'
}

metric_sum() { # admin port, regex of the series -> sum
  curl -fsS "http://127.0.0.1:$1/metrics" | awk -v re="$2" '$0 ~ re && $0 !~ /^#/ {s += $NF} END {printf "%.0f", s}'
}

UNKNOWN_REQUESTS=0
UNKNOWN_LOADS=0

# Runs one case against one target; appends a row to results.tsv unless round is "warmup".
run_one() { # round case conns target seconds
  local round=$1 c=$2 conns=$3 target=$4 secs=$5
  case_spec "$c" "$target"
  local pids t0 t1 out loads0=0 loads1=0
  pids=$(pids_of "$target")
  [ "$target" = scopegate ] && [ "$c" = authz-unknown ] && loads0=$(store_loads "${ADMIN[scopegate]}")
  # shellcheck disable=SC2086
  t0=$(cpu_ticks $pids)
  out=$(taskset -c 0 wrk -t1 -c"$conns" -d"${secs}s" --timeout 5s -s "$LT/wrk/$WRK_SCRIPT" \
        "http://127.0.0.1:$(port_of "$target")$WRK_URL_PATH" -- "$WRK_ARG" 2>&1 || true)
  # shellcheck disable=SC2086
  t1=$(cpu_ticks $pids)
  local line
  line=$(grep '^RESULT ' <<<"$out" || true)
  if [ -z "$line" ]; then
    log "wrk failed for $c/$conns/$target: $(tail -n 3 <<<"$out" | tr '\n' ' ')"
    line="RESULT requests=0 duration_us=1 connect=1 read=0 write=0 status=0 timeout=0 p50=0 p90=0 p99=0 p999=0 max=0 checked=0 mismatches=0"
  fi
  local -A r=()
  local kv
  for kv in ${line#RESULT }; do r[${kv%%=*}]=${kv#*=}; done
  if [ "$target" = scopegate ] && [ "$c" = authz-unknown ] && [ "$round" != warmup ]; then
    loads1=$(store_loads "${ADMIN[scopegate]}")
    UNKNOWN_REQUESTS=$((UNKNOWN_REQUESTS + r[requests]))
    UNKNOWN_LOADS=$((UNKNOWN_LOADS + loads1 - loads0))
  fi
  [ "$round" = warmup ] && return 0
  local errors=$((r[connect] + r[read] + r[write] + r[status] + r[timeout] + r[mismatches]))
  [ "${r[requests]}" -gt 0 ] || errors=$((errors + 1)) # no response at all within the run counts as a failure
  local rps cpu
  rps=$(awk -v n="${r[requests]}" -v d="${r[duration_us]}" 'BEGIN { printf "%.1f", n / (d / 1e6) }')
  cpu=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="${r[requests]}" 'BEGIN { printf "%.2f", (n > 0 ? t * 1e6 / hz / n : 0) }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$c" "$conns" "$target" "$rps" "${r[requests]}" \
    "${r[p50]}" "${r[p99]}" "${r[p999]}" "$errors" "$cpu" >>"$WORK/results.tsv"
  printf '  round %-2s %-13s c=%-3s %-16s %9s req/s  cpu %6s us/req  p99 %7s us  errors %s\n' \
    "$round" "$c" "$conns" "$target" "$rps" "$cpu" "${r[p99]}" "$errors" >&2
}

targets_for() { # case conns round -> ordered targets
  local list=("${NGINX_TARGETS[@]}" "${SG_TARGETS[@]}")
  # The simulator alone rejects an authorization request without scope, like the legacy IdP.
  if [ "$FULL" -eq 1 ] && [ "$2" -eq "$MAXCONNS" ] && [ "$1" != authz-hit ] && [ "$1" != authz-unknown ]; then
    list+=(direct)
  fi
  if [ $(($3 % 2)) -eq 0 ]; then
    local rev=() i
    for ((i = ${#list[@]} - 1; i >= 0; i--)); do rev+=("${list[$i]}"); done
    list=("${rev[@]}")
  fi
  echo "${list[@]}"
}

profile() { # JFR on the default gateway: GET, POST and authorize together, then DCR alone
  # JDK 17's profile settings, with Java samples every 2 ms instead of 10 (more samples per run).
  sed '/<event name="jdk.ExecutionSample">/,/<\/event>/ s/\(<setting name="period"[^>]*>\)[^<]*</\12 ms</' \
    "$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")/lib/jfr/profile.jfc" >"$WORK/profile.jfc"
  local set title jfr total c out n
  : >"$WORK/jfr.md"
  for set in "get post authz-hit" "dcr"; do
    jfr=$WORK/scopegate-${set// /-}.jfr
    total=0
    jcmd "${PID[scopegate]}" JFR.start name=loadtest settings="$WORK/profile.jfc" >/dev/null
    for c in $set; do
      case_spec "$c" scopegate
      out=$(taskset -c 0 wrk -t1 -c"$MAXCONNS" -d"${PROFILE_SECONDS}s" --timeout 5s -s "$LT/wrk/$WRK_SCRIPT" \
            "http://127.0.0.1:${PORT[scopegate]}$WRK_URL_PATH" -- "$WRK_ARG" 2>&1 || true)
      n=$(sed -n 's/^RESULT requests=\([0-9]*\).*/\1/p' <<<"$out")
      total=$((total + ${n:-0}))
    done
    jcmd "${PID[scopegate]}" JFR.stop name=loadtest filename="$jfr" >/dev/null
    [ "$set" = dcr ] && title="DCR POST alone" || title="GET, POST and authorize with rewrite"
    {
      echo "### $title ($PROFILE_SECONDS s per case at $MAXCONNS connections, $total requests)"
      echo
      java -cp "$LT/target/benchmarks.jar" dev.scopegate.loadtest.JfrReport "$jfr" "$total" 12 || echo "(JFR report failed)"
      echo
    } >>"$WORK/jfr.md"
  done
  echo "jfr.setup=JFR (JDK profile settings, Java samples every 2 ms) attached with jcmd to the default gateway while wrk ran the cases below; these runs are not in the tables above. Shares are of samples (CPU) or of sampled allocation weight." >>"$WORK/facts.properties"
}

footprint() {
  # Bytes per registration from a count that fits, then whether a million fit in a 300 MB heap.
  local per_count=$((FOOTPRINT_COUNT < 200000 ? FOOTPRINT_COUNT : 200000)) out line per proj
  out=$(java -Xmx1g -cp "$LT/target/benchmarks.jar" dev.scopegate.loadtest.RegistrationFootprint "$per_count" 2>&1) \
    || { log "footprint failed: $(tail -n 1 <<<"$out")"; return 0; }
  line=$(grep '^FOOTPRINT' <<<"$out")
  per=$(sed -n 's/.*bytes_per_registration=\([0-9]*\).*/\1/p' <<<"$line")
  proj=$(sed -n 's/.*projected_1m_mib=\([0-9.]*\).*/\1/p' <<<"$line")
  local fit="not tried (--quick)" verdict
  verdict=$(awk -v m="$proj" 'BEGIN { print (m <= 300 ? "met (projected)" : "**not met** (projected)") }')
  if [ "$FOOTPRINT_COUNT" -ge 1000000 ]; then
    if out=$(timeout 300 java -Xmx300m -XX:+ExitOnOutOfMemoryError -cp "$LT/target/benchmarks.jar" \
        dev.scopegate.loadtest.RegistrationFootprint 1000000 2>&1); then
      fit="1,000,000 registrations fit in -Xmx300m: \`$(grep '^FOOTPRINT' <<<"$out" | sed 's/^FOOTPRINT //')\`"
      verdict=met
    else
      fit="1,000,000 registrations do not fit in -Xmx300m (the JVM ran out of heap)"
      verdict="**not met**"
    fi
  fi
  {
    echo "footprint=$per bytes per cached registration (live heap after a full GC, $per_count ChatGPT-like registrations captured from DCR answers; cache entry, key, registration and its strings) ⇒ $proj MiB per million. $fit. \`${line#FOOTPRINT }\`"
    echo "footprint.short=$per B/registration ⇒ $proj MiB per 1M; $(sed 's/:.*//' <<<"$fit")"
    echo "footprint.verdict=$verdict"
  } >>"$WORK/facts.properties"
}

jmh() {
  local extra=()
  [ "$QUICK" -eq 1 ] && extra=(-wi 1 -w 200ms -i 2 -r 300ms)
  if taskset -c 1 java -jar "$LT/target/benchmarks.jar" -prof gc -rf json -rff "$WORK/jmh.json" "${extra[@]}" \
      'dev.scopegate.loadtest.jmh' >"$WORK/jmh.log" 2>&1; then
    echo "jmh.setup=\`taskset -c 1 java -jar loadtest/target/benchmarks.jar -prof gc${extra[*]:+ ${extra[*]}}\` $([ "$QUICK" -eq 1 ] && echo '(shortened: smoke test only)' || echo '(1 fork, 5×1 s warm-up, 5×1 s measurement)'); alone on CPU 1, wrk idle." >>"$WORK/facts.properties"
  else
    log "JMH failed; see $WORK/jmh.log"
    rm -f "$WORK/jmh.json"
  fi
}

# ---- syscalls and wake-ups per request (--syscalls) -------------------------------------------

ctx_switches() { # pids... -> voluntary + involuntary context switches of all their threads
  local p
  for p in "$@"; do cat /proc/"$p"/task/*/status 2>/dev/null; done | awk '/ctxt_switches/ {s += $2} END {printf "%d", s}'
}

# Counts, not times: valid on a loaded machine. perf trace -s (in-kernel counting, little
# perturbation) when perf can trace, else strace -c -f. Writes loadtest/results/syscalls.md.
syscalls() {
  local tool=strace
  perf trace -s -p "$SIM_PID" -- sleep 0.1 >/dev/null 2>&1 && tool=perf
  command -v "$tool" >/dev/null || die "--syscalls needs perf or strace"
  local out=$WORK/syscalls.md c conns t pids n cs0 cs1 trace
  {
    echo "# Syscalls and context switches per request"
    echo
    echo "\`loadtest/run.sh${ARGS:+ $ARGS}\` ($(date -u +%Y-%m-%dT%H:%MZ), $tool): counts while wrk ran ${DURATION}s per row; all threads of the proxy (nginx: master + worker). Context switches from /proc/PID/task/*/status (voluntary + involuntary). Scopegate JVM: \`$SG_JVM_OPTS -XX:ActiveProcessorCount=N\`."
    echo
    echo "| case | conns | target | requests | syscalls/req | context switches/req | per request, most frequent |"
    echo "|---|---:|---|---:|---:|---:|---|"
  } >"$out"
  for c in "${CASES[@]}"; do
    for conns in "${CONNS[@]}"; do
      for t in "${NGINX_TARGETS[@]}" "${SG_TARGETS[@]}"; do
        case_spec "$c" "$t"
        pids=$(pids_of "$t")
        trace=$WORK/trace-$c-$conns-$t.txt
        # shellcheck disable=SC2086
        cs0=$(ctx_switches $pids)
        if [ "$tool" = perf ]; then
          perf trace -s -p "${pids// /,}" -o "$trace" -- sleep $((DURATION + 2)) >/dev/null 2>&1 &
        else
          local sp=() p; for p in $pids; do sp+=(-p "$p"); done
          strace -c -f "${sp[@]}" -o "$trace" >/dev/null 2>&1 &
        fi
        local tracer=$!
        sleep 1
        n=$(taskset -c 0 wrk -t1 -c"$conns" -d"${DURATION}s" --timeout 5s -s "$LT/wrk/$WRK_SCRIPT" \
            "http://127.0.0.1:$(port_of "$t")$WRK_URL_PATH" -- "$WRK_ARG" 2>&1 | sed -n 's/^RESULT requests=\([0-9]*\).*/\1/p')
        # shellcheck disable=SC2086
        cs1=$(ctx_switches $pids)
        if [ "$tool" = perf ]; then wait "$tracer" 2>/dev/null || true; else kill -INT "$tracer"; wait "$tracer" 2>/dev/null || true; fi
        n=${n:-0}
        # perf: per-thread tables "name calls errors ..."; strace -c: "% time seconds usecs/call calls errors syscall"
        awk -v n="$n" -v tool="$tool" -v cs=$((cs1 - cs0)) -v row="| $c | $conns | $t | $n" '
          tool == "perf" && NF >= 7 && $2 ~ /^[0-9]+$/ && $1 !~ /^-/ { calls[$1] += $2 }
          tool == "strace" && NF >= 5 && $4 ~ /^[0-9]+$/ && $NF != "total" { calls[$NF] += $4 }
          END {
            total = 0; for (k in calls) total += calls[k]
            top = ""
            for (i = 0; i < 5; i++) { best = ""; for (k in calls) if (!(k in used) && (best == "" || calls[k] > calls[best])) best = k
              if (best == "" || n == 0) break; used[best] = 1; top = top (top == "" ? "" : ", ") sprintf("%s %.2f", best, calls[best] / n) }
            if (n == 0) printf "%s | – | – | (no requests) |\n", row
            else printf "%s | %.2f | %.2f | %s |\n", row, total / n, cs / n, top
          }' "$trace" >>"$out"
        tail -n 1 "$out" >&2
      done
    done
  done
  mkdir -p "$LT/results"
  cp "$out" "$LT/results/syscalls.md"
  cat "$out"
  log "written to loadtest/results/syscalls.md"
}

# ---- main ----------------------------------------------------------------------------------------

main() {
  build
  install_packages
  check_ports
  wait_calm
  WORK=$(mktemp -d /tmp/scopegate-loadtest.XXXXXX)
  : >"$WORK/results.tsv"
  local started_load; started_load=$(loadavg)
  log "work dir $WORK; load average $started_load"

  start_simulator
  local t
  for t in "${SG_TARGETS[@]}"; do start_scopegate "$t"; done
  for t in "${NGINX_TARGETS[@]}"; do start_nginx "$t"; done
  for t in "${SG_TARGETS[@]}"; do
    CLIENT[$t]=$(register "${PORT[$t]}")
    [ -n "${CLIENT[$t]}" ] || die "registration through $t failed"
  done
  log "targets: ${NGINX_TARGETS[*]} ${SG_TARGETS[*]}; scopegate JVM: $SG_JVM_OPTS -XX:ActiveProcessorCount=N"

  # Two passes: the JIT (on the same core) recompiles what the first pass's switch between
  # cases deoptimized; without the second pass that compile time lands in the measured rounds.
  log "warm-up: every case at $MAXCONNS connections, twice (scopegate ${WARMUP}s then $((WARMUP / 2 > 0 ? WARMUP / 2 : 1))s each, nginx 1s; JIT on one core)"
  local c conns round pass
  for pass in 1 2; do
    for c in "${CASES[@]}"; do
      for t in "${SG_TARGETS[@]}" "${NGINX_TARGETS[@]}"; do
        run_one warmup "$c" "$MAXCONNS" "$t" "$([[ $t = nginx* ]] && echo 1 || { [ $pass = 1 ] && echo "$WARMUP" || echo $((WARMUP / 2 > 0 ? WARMUP / 2 : 1)); })"
      done
    done
  done

  if [ "$SYSCALLS" -eq 1 ]; then
    syscalls
    return 0
  fi

  for round in $(seq 1 "$ROUNDS"); do
    log "round $round of $ROUNDS (load average $(loadavg))"
    for c in "${CASES[@]}"; do
      for conns in "${CONNS[@]}"; do
        for t in $(targets_for "$c" "$conns" "$round"); do
          run_one "$round" "$c" "$conns" "$t" "$DURATION"
        done
      done
    done
  done
  local ended_load; ended_load=$(loadavg)

  local rss hwm heap cache
  rss=$(awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/${PID[scopegate]}/status")
  hwm=$(awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/${PID[scopegate]}/status")
  heap=$(metric_sum "${ADMIN[scopegate]}" '^jvm_memory_used_bytes\{.*area="heap"')
  cache=$(metric_sum "${ADMIN[scopegate]}" '^scopegate_cache_size\{.*cache="registrations"')
  local per_million
  per_million=$(awk -v l="$UNKNOWN_LOADS" -v n="$UNKNOWN_REQUESTS" 'BEGIN { printf "%.1f", (n > 0 ? l * 1e6 / n : 0) }')
  {
    echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
    echo "command=loadtest/run.sh${ARGS:+ $ARGS}"
    echo "machine=$(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), Linux $(uname -r), Debian $(cat /etc/debian_version 2>/dev/null || echo '?'); shared with other workloads"
    echo "software=$(nginx -v 2>&1 | sed 's/nginx version: //'), $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2), $(java -version 2>&1 | head -n 1)"
    echo "setup=wrk -t1 pinned to CPU 0; every proxy and the IdP simulator (Netty, 1 event loop) share CPU 1; scopegate \`java $SG_JVM_OPTS -XX:ActiveProcessorCount=N -jar gateway/target/scopegate.jar\` (N = ${CPU_LIST}), access log to a file or off; nginx worker_processes 1, keepalive upstream pool, access log to a file with buffer=64k flush=1s or off$([ "$NGINX_UNBUF" -eq 0 ] || echo " (nginx-unbuf: unbuffered)"); targets ${NGINX_TARGETS[*]} ${SG_TARGETS[*]}; loopback only"
    echo "load.start=$started_load"
    echo "load.end=$ended_load"
    echo "load.note=${LOAD_NOTE:-}"
    echo "duration=$DURATION"
    echo "rss.scopegate=${rss} MiB"
    echo "hwm.scopegate=${hwm} MiB"
    echo "heap.scopegate=$(awk -v b="$heap" 'BEGIN { printf "%.0f MiB", b / 1048576 }')"
    echo "rss.verdict=$([ "$rss" -le 256 ] && echo met || echo '**not met**')"
    echo "cache.size=$cache (DCR runs add one per request)"
    echo "negative=$UNKNOWN_REQUESTS authorization requests for one unknown client_id over all rounds cost $UNKNOWN_LOADS store reads (cache loads from /metrics) = $per_million per million requests; the negative entry lives 1 min, so about one read per minute of traffic is expected"
    echo "negative.short=$UNKNOWN_LOADS store reads for $UNKNOWN_REQUESTS requests"
    if [ "$UNKNOWN_REQUESTS" -eq 0 ]; then
      echo "negative.verdict=not run (the unknown-client case is in --full)"
    else
      echo "negative.verdict=$([ $((UNKNOWN_LOADS * 1000)) -lt "$UNKNOWN_REQUESTS" ] && echo met || echo '**not met**')"
    fi
    echo "uri.bytes=$(java -cp "$LT/target/benchmarks.jar" dev.scopegate.loadtest.jmh.Fixture)"
  } >>"$WORK/facts.properties"

  if [ "$RUN_PROFILE" -eq 1 ]; then
    log "JFR profile under load"
    profile
  fi
  # The load phase is over: stop the servers before the JVM-only phases.
  cleanup_servers
  if [ "$FULL" -eq 1 ]; then
    log "registration footprint ($FOOTPRINT_COUNT registrations)"
    footprint
  fi
  if [ "$RUN_JMH" -eq 1 ]; then
    log "JMH benchmarks"
    jmh
  fi

  mkdir -p "$LT/results"
  java -cp "$LT/target/benchmarks.jar" dev.scopegate.loadtest.Report "$WORK/results.tsv" "$WORK/facts.properties" \
    "$([ -f "$WORK/jmh.json" ] && echo "$WORK/jmh.json" || echo -)" \
    "$([ -f "$WORK/jfr.md" ] && echo "$WORK/jfr.md" || echo -)" >"$WORK/report.md"
  cp "$WORK/report.md" "$LT/results/latest.md"
  cp "$WORK/results.tsv" "$LT/results/latest.tsv"
  cat "$WORK/report.md"
  log "written to loadtest/results/latest.md"
}

cleanup_servers() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  PIDS=()
}

main
