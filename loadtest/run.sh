#!/usr/bin/env bash
# scopegate vs nginx: what a proxied request costs, measured as interleaved paired ratios.
#
#   loadtest/run.sh [--quick] [--rounds N] [--duration S] [--wait-calm MIN] [--no-jmh] [--no-profile]
#
# Starts, on 127.0.0.1 only: the IdP simulator; scopegate (-Xmx128m, access log on, as shipped);
# a second scopegate with `logging.access: false` (the access log's cost); nginx as a reverse proxy
# with the static scope rewrite an operator could write; all pinned to CPU 1, wrk pinned to CPU 0.
# Then runs every case at 1 and 32 connections in rounds whose target order alternates
# (A B, B A, ...), reading each proxy's CPU ticks from /proc/PID/stat around each run. Afterwards:
# gateway RSS, negative-caching store reads, a JFR profile under load, the registration footprint
# and the JMH benchmarks. Prints the report and writes loadtest/results/latest.md.
#
#   --quick          smoke test, about 3 minutes: 2 rounds of 1 s, short warm-up, JMH and JFR shortened
#   --rounds N       rounds (default 5)            --duration S   seconds per run (default 4)
#   --wait-calm MIN  first wait up to MIN minutes for a 1-minute load average below 1.5
#   --no-jmh, --no-profile   skip those phases
#
# LT_BASELINE_JAR=path/to/other/scopegate.jar runs that build in place of the no-log instance (access
# log on), interleaved with this one: a paired comparison of two builds (its rows keep the nolog label).
#
# Needs: Java 17, Maven (to build when the jars are missing), root or sudo to install nginx-light
# and wrk from Debian packages when they are missing. Ports 18080-18093 must be free (LT_PORT_BASE
# moves them). Stops everything it started on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LT=$ROOT/loadtest
ROUNDS=5
DURATION=4
WARMUP=6
QUICK=0
RUN_JMH=1
RUN_PROFILE=1
PROFILE_SECONDS=15
WAIT_CALM=0
FOOTPRINT_COUNT=1000000
ARGS="$*"

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; ROUNDS=2; DURATION=1; WARMUP=2; PROFILE_SECONDS=3; FOOTPRINT_COUNT=100000 ;;
    --rounds) ROUNDS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --wait-calm) WAIT_CALM=$2; shift ;;
    --no-jmh) RUN_JMH=0 ;;
    --no-profile) RUN_PROFILE=0 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 64 ;;
  esac
  shift
done

BASE=${LT_PORT_BASE:-18080}
SG_PORT=$BASE            SG_ADMIN=$((BASE + 10))
SIM_PORT=$((BASE + 1))
NGINX_PORT=$((BASE + 2))
NOLOG_PORT=$((BASE + 3)) NOLOG_ADMIN=$((BASE + 13))
HZ=$(getconf CLK_TCK)
CONNS=(1 32)
MAXCONNS=32
CASES=(get post authz-hit authz-unknown authz-scope dcr metadata)
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
  for p in $SG_PORT $SG_ADMIN $SIM_PORT $NGINX_PORT $NOLOG_PORT $NOLOG_ADMIN; do
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

start_scopegate() { # name port admin access pid-variable [jar]
  local dir=$WORK/$1 jar=${6:-$ROOT/gateway/target/scopegate.jar}
  mkdir -p "$dir"
  scopegate_config "$dir/scopegate.yaml" "$2" "$3" "$4" "$dir/data"
  (cd "$dir" && exec taskset -c 1 java -Xmx128m -jar "$jar" --config "$dir/scopegate.yaml" \
    >"$dir/stdout.log" 2>"$dir/stderr.log") &
  printf -v "$5" '%s' "$!"
  PIDS+=("$!")
  wait_http "http://127.0.0.1:$3/readyz" "$1"
}

start_nginx() {
  mkdir -p "$WORK/nginx"
  cat >"$WORK/nginx/nginx.conf" <<EOF
# generated by loadtest/run.sh: nginx as the operator's reference, with a static scope rewrite
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log $WORK/nginx/access.log;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  upstream idp {
    server 127.0.0.1:$SIM_PORT;
    keepalive 64;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
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
  taskset -c 1 nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' 2>"$WORK/nginx/stderr.log" &
  NGINX_PID=$!; PIDS+=("$NGINX_PID")
  wait_http "http://127.0.0.1:$NGINX_PORT/api/ping" "nginx"
}

register() { # port -> client_id registered through that scopegate
  curl -fsS -X POST "http://127.0.0.1:$1/oauth/register" -H 'Content-Type: application/json' \
    -d "{\"client_name\":\"ChatGPT\",\"redirect_uris\":[\"https://chatgpt.com/connector_platform_oauth_redirect\"],\"scope\":\"$SCOPE\"}" \
    | sed -n 's/.*"client_id":"\([^"]*\)".*/\1/p'
}

# ---- measurements ----------------------------------------------------------------------------

pids_of() { # target -> PIDs whose CPU counts
  case "$1" in
    scopegate) echo "$SG_PID" ;;
    scopegate-nolog) echo "$NOLOG_PID" ;;
    nginx) echo "$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')" ;;
    direct) echo "$SIM_PID" ;;
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
  case "$1" in
    scopegate) echo "$SG_PORT" ;; scopegate-nolog) echo "$NOLOG_PORT" ;; nginx) echo "$NGINX_PORT" ;; direct) echo "$SIM_PORT" ;;
  esac
}

client_of() {
  case "$1" in scopegate-nolog) echo "$NOLOG_CLIENT" ;; *) echo "$SG_CLIENT" ;; esac
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
  [ "$target" = scopegate ] && [ "$c" = authz-unknown ] && loads0=$(store_loads "$SG_ADMIN")
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
    loads1=$(store_loads "$SG_ADMIN")
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
  local list=(nginx scopegate)
  if [ "$2" -eq "$MAXCONNS" ]; then
    list+=(scopegate-nolog)
    # The simulator alone rejects an authorization request without scope, like the legacy IdP.
    if [ "$QUICK" -eq 0 ] && [ "$1" != authz-hit ] && [ "$1" != authz-unknown ]; then list+=(direct); fi
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
    jcmd "$SG_PID" JFR.start name=loadtest settings="$WORK/profile.jfc" >/dev/null
    for c in $set; do
      case_spec "$c" scopegate
      out=$(taskset -c 0 wrk -t1 -c"$MAXCONNS" -d"${PROFILE_SECONDS}s" --timeout 5s -s "$LT/wrk/$WRK_SCRIPT" \
            "http://127.0.0.1:$SG_PORT$WRK_URL_PATH" -- "$WRK_ARG" 2>&1 || true)
      n=$(sed -n 's/^RESULT requests=\([0-9]*\).*/\1/p' <<<"$out")
      total=$((total + ${n:-0}))
    done
    jcmd "$SG_PID" JFR.stop name=loadtest filename="$jfr" >/dev/null
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
  start_scopegate scopegate "$SG_PORT" "$SG_ADMIN" true SG_PID
  if [ -n "${LT_BASELINE_JAR:-}" ]; then
    # A paired old/new comparison: the second instance runs another build, access log on like the
    # first; its rows (labelled scopegate-nolog) are then that build's, not the log's cost.
    log "scopegate-nolog runs $LT_BASELINE_JAR with its access log on (LT_BASELINE_JAR): old/new pairs"
    start_scopegate scopegate-nolog "$NOLOG_PORT" "$NOLOG_ADMIN" true NOLOG_PID "$LT_BASELINE_JAR"
  else
    start_scopegate scopegate-nolog "$NOLOG_PORT" "$NOLOG_ADMIN" false NOLOG_PID
  fi
  start_nginx
  SG_CLIENT=$(register "$SG_PORT")
  NOLOG_CLIENT=$(register "$NOLOG_PORT")
  [ -n "$SG_CLIENT" ] && [ -n "$NOLOG_CLIENT" ] || die "registration through scopegate failed"
  log "registered $SG_CLIENT (scopegate) and $NOLOG_CLIENT (scopegate-nolog)"

  # Two passes: the JIT (on the same core) recompiles what the first pass's switch between
  # cases deoptimized; without the second pass that compile time lands in the measured rounds.
  log "warm-up: every case at $MAXCONNS connections, twice (scopegate ${WARMUP}s then $((WARMUP / 2 > 0 ? WARMUP / 2 : 1))s each, nginx 1s; JIT on one core)"
  local c t conns round pass
  for pass in 1 2; do
    for c in "${CASES[@]}"; do
      for t in scopegate scopegate-nolog nginx; do
        run_one warmup "$c" "$MAXCONNS" "$t" "$([ $t = nginx ] && echo 1 || { [ $pass = 1 ] && echo "$WARMUP" || echo $((WARMUP / 2 > 0 ? WARMUP / 2 : 1)); })"
      done
    done
  done

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
  rss=$(awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$SG_PID/status")
  hwm=$(awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$SG_PID/status")
  heap=$(metric_sum "$SG_ADMIN" '^jvm_memory_used_bytes\{.*area="heap"')
  cache=$(metric_sum "$SG_ADMIN" '^scopegate_cache_size\{.*cache="registrations"')
  local per_million
  per_million=$(awk -v l="$UNKNOWN_LOADS" -v n="$UNKNOWN_REQUESTS" 'BEGIN { printf "%.1f", (n > 0 ? l * 1e6 / n : 0) }')
  {
    echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
    echo "command=loadtest/run.sh${ARGS:+ $ARGS}"
    echo "machine=$(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), Linux $(uname -r), Debian $(cat /etc/debian_version 2>/dev/null || echo '?'); shared with other workloads"
    echo "software=$(nginx -v 2>&1 | sed 's/nginx version: //'), $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2), $(java -version 2>&1 | head -n 1)"
    echo "setup=wrk -t1 pinned to CPU 0; the proxy and the IdP simulator (Netty, 1 event loop) share CPU 1; scopegate \`java -Xmx128m -jar gateway/target/scopegate.jar\` (1 CPU visible ⇒ 1 event loop, SerialGC), access log to a file; nginx worker_processes 1, keepalive upstream pool, access log to a file; loopback only"
    echo "load.start=$started_load"
    echo "load.end=$ended_load"
    echo "load.note=${LOAD_NOTE:-}"
    echo "duration=$DURATION"
    echo "rss.scopegate=${rss} MiB"
    echo "hwm.scopegate=${hwm} MiB"
    echo "heap.scopegate=$(awk -v b="$heap" 'BEGIN { printf "%.0f MiB", b / 1048576 }')"
    echo "rss.verdict=$([ "$rss" -le 300 ] && echo met || echo '**not met**')"
    echo "cache.size=$cache (DCR runs add one per request)"
    echo "negative=$UNKNOWN_REQUESTS authorization requests for one unknown client_id over all rounds cost $UNKNOWN_LOADS store reads (cache loads from /metrics) = $per_million per million requests; the negative entry lives 1 min, so about one read per minute of traffic is expected"
    echo "negative.short=$UNKNOWN_LOADS store reads for $UNKNOWN_REQUESTS requests"
    echo "negative.verdict=$([ $((UNKNOWN_LOADS * 1000)) -lt "$UNKNOWN_REQUESTS" ] && echo met || echo '**not met**')"
    echo "uri.bytes=$(java -cp "$LT/target/benchmarks.jar" dev.scopegate.loadtest.jmh.Fixture)"
  } >>"$WORK/facts.properties"

  if [ "$RUN_PROFILE" -eq 1 ]; then
    log "JFR profile under load"
    profile
  fi
  # The load phase is over: stop the servers before the JVM-only phases.
  cleanup_servers
  log "registration footprint ($FOOTPRINT_COUNT registrations)"
  footprint
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
