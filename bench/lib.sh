# Shared helpers for the bench/ scenarios: start nginx / the gateway pinned to a CPU, run wrk,
# report medians. Everything listens on 127.0.0.1 and is stopped by PID on exit.
#
# Knobs (environment): DURATION (s per wrk run, 10), RUNS (measured runs per side, median; 3),
# WARMUP (s of the warm-up run per side and connection count, 3), CONNECTIONS ("50 200"),
# CLIENT_CPU (wrk, 0), SERVER_CPU (servers, 1), ALLOW_NON2XX=1 (only warn on non-2xx / socket errors),
# KEEP_WORK=1 (keep the temp dir: configs, logs), REBUILD=1 (rebuild build-release first),
# GATEWAY_BIN=path (use that gateway binary instead of build-release's), PERF_TOP (profile rows, 40).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
WORK=$(mktemp -d /tmp/gw-bench.XXXXXX)
PIDS=()
DURATION=${DURATION:-10}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-3}
CONNECTIONS=${CONNECTIONS:-"50 200"}
CLIENT_CPU=${CLIENT_CPU:-0}
SERVER_CPU=${SERVER_CPU:-1}
RESULTS="$WORK/results"  # one line per compare() row: "conns label rps p50_ms p99_ms"
: >"$RESULTS"

die() { echo "FATAL: $*" >&2; exit 1; }

cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ $rc -ne 0 ]]; then
    echo "bench failed (exit $rc); logs:" >&2
    for f in "$WORK"/gateway-*.log "$WORK"/nginx-*/logs/error.log "$WORK"/*.err; do
      [[ -s "$f" ]] && { echo "--- $f (last 20 lines)" >&2; tail -n 20 "$f" >&2; }
    done
  fi
  [[ -n "${KEEP_WORK:-}" ]] || rm -rf "$WORK"
  [[ -z "${KEEP_WORK:-}" ]] || echo "work dir kept: $WORK" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

wait_port() {
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "port $1 never opened" >&2
  return 1
}

# expect_2xx URL [LABEL]: one GET; dies unless the status is 2xx; prints the status line,
# content type and body (indented) on stdout.
expect_2xx() {
  local url=$1 label=${2:-$1} out status ctype body
  out=$(curl -sS -o "$WORK/probe.body" -w '%{http_code} %{content_type}' --max-time 5 "$url") ||
    die "$label: request to $url failed"
  status=${out%% *}; ctype=${out#* }
  body=$(cat "$WORK/probe.body")
  [[ $status == 2?? ]] || die "$label: $url answered $status: $body"
  printf '%-10s %s  [%s]\n  %s\n' "$label" "$status" "$ctype" "$body"
}

gateway_bin() {
  if [[ -n "${GATEWAY_BIN:-}" ]]; then  # a binary built elsewhere: used as is
    [[ -x "$GATEWAY_BIN" ]] || die "GATEWAY_BIN=$GATEWAY_BIN is not executable"
    echo "$GATEWAY_BIN"; return
  fi
  local bin="$ROOT/build-release/bin/api-gateway"
  if [[ ! -x "$bin" || -n "${REBUILD:-}" ]]; then
    cmake -S "$ROOT" -B "$ROOT/build-release" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$ROOT/build-release" --target api-gateway -j"$(nproc)" >/dev/null
  fi
  echo "$bin"
}

# start_nginx NAME CONF_BODY: runs nginx with one worker pinned to SERVER_CPU (by taskset, which the
# worker inherits; "worker_cpu_affinity auto" would move it to cpu 0, onto the client's core).
start_nginx() {
  local name=$1 body=$2 dir="$WORK/nginx-$1"
  mkdir -p "$dir/logs"
  cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/body; proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fcgi; uwsgi_temp_path $dir/uwsgi; scgi_temp_path $dir/scgi;
  keepalive_requests 1000000;
  $body
}
CONF
  nginx -t -q -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' 2>"$WORK/nginx-$name.err" ||
    die "nginx $name: invalid config: $(cat "$WORK/nginx-$name.err")"
  taskset -c "$SERVER_CPU" nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' &
  PIDS+=($!)
}

# The telemetry scenarios' common parts: an nginx backend answering a ~100-byte JSON on every path
# (port in $backend), the stand-in Datadog agent on CPU $1 (port in $agent, pid in $agent_pid), and the
# no-op /item endpoint onto that backend as a krakend.json "endpoints" member (in $endpoints).
start_item_backend_and_agent() {
  backend=$(free_port); agent=$(free_port)
  start_nginx backend "server { listen 127.0.0.1:$backend; location / { default_type application/json;
    return 200 '{\"id\":42,\"name\":\"widget\",\"tags\":[\"a\",\"b\"],\"price\":12.5,\"stock\":true,\"owner\":\"bench\"}'; } }"
  taskset -c "$1" python3 "$BENCH_DIR/fake_agent.py" "$agent" 2>"$WORK/agent.err" &
  agent_pid=$!
  PIDS+=($agent_pid)
  endpoints="\"endpoints\": [{\"endpoint\": \"/item\", \"output_encoding\": \"no-op\",
    \"backend\": [{\"host\": [\"http://127.0.0.1:$backend\"], \"url_pattern\": \"/item\"}]}]"
  wait_port "$backend"
  wait_port "$agent" || die "fake agent did not start: $(cat "$WORK/agent.err")"
}

# The aggregation scenario's backends: one nginx serving three distinct ~100-byte JSON objects (BODY_A,
# BODY_B, BODY_C on ports $be_a /a, $be_b /b, $be_c /c), and the gateway config merging them on /agg
# (default json encoding, one group per backend) in $WORK/gw-agg.json. The objects are compact with
# sorted keys: the gateway's encoder (sorted keys, literal numbers, no whitespace) then produces the
# same bytes as a verbatim concatenation.
start_aggregation_backends() {
  BODY_A='{"active":true,"email":"ada@example.com","id":1001,"name":"Ada Lovelace","roles":["admin","dev"],"score":98.5}'
  BODY_B='{"currency":"EUR","items":[{"qty":2,"sku":"A-17"},{"qty":1,"sku":"B-42"}],"order_id":"o-7731","total":129.90}'
  BODY_C='{"city":"Lisbon","country":"PT","geo":{"lat":38.7223,"lon":-9.1393},"updated":"2024-05-01T12:00:00Z","zip":"1100-148"}'
  be_a=$(free_port); be_b=$(free_port); be_c=$(free_port)
  local server='server { listen 127.0.0.1:%s; location = %s { default_type application/json; return 200 %s; } }\n'
  # shellcheck disable=SC2059  # the format is ours
  start_nginx backends "$(printf "$server" "$be_a" /a "'$BODY_A'" "$be_b" /b "'$BODY_B'" "$be_c" /c "'$BODY_C'")"
  cat >"$WORK/gw-agg.json" <<JSON
{"version": 3, "timeout": "2s", "extra_config": {"router": {"disable_access_log": true}},
 "endpoints": [{"endpoint": "/agg", "backend": [
  {"host": ["http://127.0.0.1:$be_a"], "url_pattern": "/a", "group": "a"},
  {"host": ["http://127.0.0.1:$be_b"], "url_pattern": "/b", "group": "b"},
  {"host": ["http://127.0.0.1:$be_c"], "url_pattern": "/c", "group": "c"}]}]}
JSON
  wait_port "$be_a"; wait_port "$be_b"; wait_port "$be_c"
}

# start_gateway CONFIG_FILE PORT [ENV...]: stdout+stderr go to $WORK/gateway-PORT.log (or to
# $GATEWAY_STDOUT when set: a FIFO, say); the PID is left in GATEWAY_PID (when called directly, not in
# a subshell).
start_gateway() {
  local cfg=$1 port=$2 bin
  shift 2
  bin=$(gateway_bin)  # build first: the command below runs in the background
  "$bin" check -c "$cfg" >"$WORK/gateway-check.err" 2>&1 || die "gateway refused $cfg: $(cat "$WORK/gateway-check.err")"
  env GATEWAY_WORKERS=1 "$@" taskset -c "$SERVER_CPU" "$bin" run -c "$cfg" -p "$port" >"${GATEWAY_STDOUT:-$WORK/gateway-$port.log}" 2>&1 &
  GATEWAY_PID=$!
  PIDS+=($GATEWAY_PID)
  wait_port "$port" || die "gateway on port $port did not start"
}

# run_wrk URL CONNECTIONS [SECONDS] -> "rps p50_ms p99_ms". Dies on non-2xx responses or socket errors
# (unless ALLOW_NON2XX=1, then it warns), and when wrk itself fails or completes no request.
run_wrk() {
  local out secs=${3:-$DURATION}
  # WRK_EXTRA (an array the scenario may set): more wrk arguments, e.g. -H 'User-Agent: ...'.
  out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$2" -d"${secs}s" --latency ${WRK_EXTRA[@]+"${WRK_EXTRA[@]}"} "$1" 2>&1) ||
    die "wrk failed on $1: $out"
  echo "$out" | awk -v strict="${ALLOW_NON2XX:-0}" -v url="$1" -v c="$2" '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /Requests\/sec/ { rps=$2 }
    /^ +50%/ { p50=ms($2) }
    /^ +99%/ { p99=ms($2) }
    /Non-2xx|Socket errors/ { err=err" ["$0"]" }
    END {
      if (rps == "" || rps + 0 == 0) { print "FATAL: wrk completed no request on " url > "/dev/stderr"; exit 1 }
      if (err != "") {
        print (strict == "1" ? "WARN" : "FATAL") " " url " c=" c ":" err > "/dev/stderr"
        if (strict != "1") exit 1
      }
      printf "%s %s %s\n", rps, p50, p99 }' || die "wrk run on $1 (c=$2) rejected"
}

median() { sort -n | awk '{a[NR]=$1} END { print a[int((NR+1)/2)] }'; }

# compare LABEL_A URL_A LABEL_B URL_B: per connection count a warm-up run of each side, then RUNS
# alternating runs, medians, ratio A/B. Rows are also appended to $RESULTS.
compare() {
  local la=$1 ua=$2 lb=$3 ub=$4
  printf "%-6s %-22s %12s %10s %10s\n" conns target "req/s" "p50 ms" "p99 ms"
  for c in $CONNECTIONS; do
    : >"$WORK/a" ; : >"$WORK/b"
    run_wrk "$ua" "$c" "$WARMUP" >/dev/null  # warm-up: pools, caches
    run_wrk "$ub" "$c" "$WARMUP" >/dev/null
    for _ in $(seq 1 "$RUNS"); do
      run_wrk "$ua" "$c" >>"$WORK/a"
      run_wrk "$ub" "$c" >>"$WORK/b"
    done
    local ar ap50 ap99 br bp50 bp99
    ar=$(cut -d' ' -f1 "$WORK/a" | median); ap50=$(cut -d' ' -f2 "$WORK/a" | median); ap99=$(cut -d' ' -f3 "$WORK/a" | median)
    br=$(cut -d' ' -f1 "$WORK/b" | median); bp50=$(cut -d' ' -f2 "$WORK/b" | median); bp99=$(cut -d' ' -f3 "$WORK/b" | median)
    printf "%-6s %-22s %12s %10s %10s\n" "$c" "$la" "$ar" "$ap50" "$ap99"
    printf "%-6s %-22s %12s %10s %10s\n" "$c" "$lb" "$br" "$bp50" "$bp99"
    echo "$c $la $ar $ap50 $ap99" >>"$RESULTS"
    echo "$c $lb $br $bp50 $bp99" >>"$RESULTS"
    awk -v a="$ar" -v b="$br" -v pa="$ap99" -v pb="$bp99" -v c="$c" -v la="$la" -v lb="$lb" \
      'BEGIN { printf "%-6s ratio %s/%s: req/s %.2fx, p99 %.2fx\n\n", c, la, lb, a/b, pa/pb }'
  done
}

# profile_gateway PID URL CONNECTIONS [SECONDS]: perf record (-g; PERF_CALLGRAPH=dwarf for usable
# stacks, the Release build has no frame pointers) on PID during one wrk run, then the user/kernel split
# and the top symbols by self time. Needs perf; skipped with a note otherwise. perf.data stays in $WORK.
profile_gateway() {
  local pid=$1 url=$2 c=$3 secs=${4:-$DURATION} data="$WORK/perf.data" cg=()
  command -v perf >/dev/null || { echo "perf not installed: profile skipped" >&2; return 0; }
  [[ -n "${PERF_CALLGRAPH:-}" ]] && cg=(--call-graph "$PERF_CALLGRAPH") || cg=(-g)
  perf record -q "${cg[@]}" -o "$data" -p "$pid" -- sleep "$secs" 2>"$WORK/perf.err" &
  local perf_pid=$!
  sleep 0.2
  run_wrk "$url" "$c" "$secs" >/dev/null
  wait "$perf_pid" || { echo "perf record failed: $(cat "$WORK/perf.err")" >&2; return 0; }
  perf report -i "$data" --no-children -g none --sort dso,symbol --percent-limit 0.01 --stdio 2>/dev/null |
    grep -E '^ +[0-9.]+%' | sed -E 's/[ -]+$//; s/  +/  /g' >"$WORK/perf.txt"
  echo "perf: gateway pid $pid, c=$c, ${secs}s, self time; [.] user space, [k] kernel"
  awk '/\[k\]/ { k += $1 } /\[\.\]/ { u += $1 } END { printf "  user space %.1f%%, kernel %.1f%%\n", u, k }' "$WORK/perf.txt"
  echo "  top user-space symbols:"
  awk -v n="${PERF_TOP:-30}" '/\[\.\]/ && ++i <= n { print "  " substr($0, 1, 160) }' "$WORK/perf.txt"
  echo "  top kernel symbols:"
  awk '/\[k\]/ && ++i <= 10 { print "  " substr($0, 1, 160) }' "$WORK/perf.txt"
}

# perf_report WHAT LABEL_A URL_A PIDS_A LABEL_B URL_B PIDS_B: with PERF=1, at the first connection count,
# a profile of side A's (first) pid, then CPU, syscalls and mallocs per request of both sides.
# PIDS_*: one quoted, space-separated list per side. Without PERF it does nothing.
perf_report() {
  [[ -n "${PERF:-}" ]] || return 0
  local what=$1 la=$2 ua=$3 pa=$4 lb=$5 ub=$6 pb=$7 c=${CONNECTIONS%% *}
  profile_gateway "${pa%% *}" "$ua" "$c"
  echo
  echo "cost per $what request, c=$c (the backends' nginx excluded):"
  # shellcheck disable=SC2086  # the pid lists are meant to split
  cost_per_request "$la" "$ua" "$c" $pa
  # shellcheck disable=SC2086
  cost_per_request "$lb" "$ub" "$c" $pb
}

# cpu_ticks PID...: "utime stime minflt" summed over PIDs (times in clock ticks), from /proc/PID/stat.
cpu_ticks() {
  local pid u=0 st=0 mf=0 f
  for pid in "$@"; do
    read -ra f < <(sed 's/.*) //' "/proc/$pid/stat")
    u=$((u + f[11])); st=$((st + f[12])); mf=$((mf + f[7]))
  done
  echo "$u $st $mf"
}

# cost_per_request LABEL URL CONNECTIONS PID...: during one wrk run of DURATION s, the CPU time (user,
# system), minor page faults (both from /proc) and syscalls (perf stat on tracepoints) of PIDs, per request.
cost_per_request() {
  local label=$1 url=$2 c=$3 secs=$DURATION events=() pids out rps before after n
  shift 3
  pids=$(IFS=,; echo "$*")
  command -v perf >/dev/null || { echo "perf not installed: cost per request skipped" >&2; return 0; }
  for sc in read readv recvfrom recvmsg write writev sendto sendmsg epoll_wait epoll_ctl accept4 \
            timerfd_settime futex; do events+=(-e "syscalls:sys_enter_$sc"); done
  # Allocations too when uprobes exist (as root: perf probe -x /lib/x86_64-linux-gnu/libc.so.6 malloc, or
  # for the tcmalloc build: perf probe -x .../libtcmalloc_minimal.so.4 --add tcnew=tc_new --add tc_malloc).
  local probe
  for probe in $(perf list 2>/dev/null | grep -oE 'probe_(libc:malloc|libtcmalloc_minimal:[a-z_]+)'); do
    events+=(-e "$probe")
  done
  perf stat -x, -o "$WORK/stat.txt" -e raw_syscalls:sys_enter "${events[@]}" -p "$pids" -- sleep "$secs" 2>"$WORK/perf.err" &
  local perf_pid=$!
  sleep 0.2
  before=$(cpu_ticks "$@")
  out=$(run_wrk "$url" "$c" "$secs")
  after=$(cpu_ticks "$@")
  wait "$perf_pid" || { echo "perf stat failed: $(cat "$WORK/perf.err")" >&2; return 0; }
  rps=${out%% *}
  n=$(awk -v r="$rps" -v s="$secs" 'BEGIN { print r * s }')
  awk -F, -v n="$n" -v label="$label" -v before="$before" -v after="$after" -v hz="$(getconf CLK_TCK)" '
    $3 ~ /sys_enter/ && $1 + 0 > 0 { name = $3; sub(/.*sys_enter_?/, "", name); if (name == "") name = "all"
      line = line sprintf(" %s %.2f", name, $1 / n) }
    $3 ~ /^probe_/ { allocs += $1; mallocs = sprintf(", allocations/request %.2f", allocs / n) }
    END { split(before, b, " "); split(after, a, " ")
      us = (a[1] - b[1]) * 1e6 / hz / n; sy = (a[2] - b[2]) * 1e6 / hz / n
      printf "  %-10s CPU/request %.1f us (user %.1f, sys %.1f), page faults/request %.2f%s; syscalls/request:%s\n",
        label, us + sy, us, sy, (a[3] - b[3]) / n, mallocs, line }' "$WORK/stat.txt"
}
