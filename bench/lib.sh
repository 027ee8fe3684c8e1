# Shared helpers for the bench/ scenarios: start nginx / the gateway pinned to a CPU, run wrk,
# report medians. Everything listens on 127.0.0.1 and is stopped by PID on exit.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
WORK=$(mktemp -d /tmp/gw-bench.XXXXXX)
PIDS=()
DURATION=${DURATION:-10}
RUNS=${RUNS:-3}
CONNECTIONS=${CONNECTIONS:-"50 200"}
CLIENT_CPU=${CLIENT_CPU:-0}
SERVER_CPU=${SERVER_CPU:-1}

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -n "${KEEP_WORK:-}" ]] || rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

wait_port() {
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "port $1 never opened" >&2
  return 1
}

gateway_bin() {
  local bin="$ROOT/build-release/bin/api-gateway"
  if [[ ! -x "$bin" || -n "${REBUILD:-}" ]]; then
    cmake -S "$ROOT" -B "$ROOT/build-release" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$ROOT/build-release" --target api-gateway -j"$(nproc)" >/dev/null
  fi
  echo "$bin"
}

# start_nginx NAME CONF_BODY: runs nginx with one worker pinned to SERVER_CPU.
start_nginx() {
  local name=$1 body=$2 dir="$WORK/nginx-$1"
  mkdir -p "$dir/logs"
  cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
worker_cpu_affinity auto;
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
  taskset -c "$SERVER_CPU" nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' &
  PIDS+=($!)
}

# start_gateway CONFIG_FILE PORT [ENV...]
start_gateway() {
  local cfg=$1 port=$2
  shift 2
  env GATEWAY_WORKERS=1 "$@" taskset -c "$SERVER_CPU" "$(gateway_bin)" run -c "$cfg" -p "$port" >"$WORK/gateway-$port.log" 2>&1 &
  PIDS+=($!)
  wait_port "$port"
}

# run_wrk URL CONNECTIONS -> "rps p50_ms p99_ms"
run_wrk() {
  local out
  out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$2" -d"${DURATION}s" --latency "$1")
  echo "$out" | awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /Requests\/sec/ { rps=$2 }
    /^ +50%/ { p50=ms($2) }
    /^ +99%/ { p99=ms($2) }
    /Non-2xx|Socket errors/ { err=err" "$0 }
    END { printf "%s %s %s\n", rps, p50, p99; if (err != "") print "WARN" err > "/dev/stderr" }'
}

median() { sort -n | awk '{a[NR]=$1} END { print a[int((NR+1)/2)] }'; }

# compare LABEL_A URL_A LABEL_B URL_B: RUNS alternating runs per connection count, medians, ratio A/B.
compare() {
  local la=$1 ua=$2 lb=$3 ub=$4
  printf "%-6s %-22s %12s %10s %10s\n" conns target "req/s" "p50 ms" "p99 ms"
  for c in $CONNECTIONS; do
    : >"$WORK/a" ; : >"$WORK/b"
    run_wrk "$ua" "$c" >/dev/null  # warm-up: pools, caches
    run_wrk "$ub" "$c" >/dev/null
    for _ in $(seq 1 "$RUNS"); do
      run_wrk "$ua" "$c" >>"$WORK/a"
      run_wrk "$ub" "$c" >>"$WORK/b"
    done
    local ar ap50 ap99 br bp50 bp99
    ar=$(cut -d' ' -f1 "$WORK/a" | median); ap50=$(cut -d' ' -f2 "$WORK/a" | median); ap99=$(cut -d' ' -f3 "$WORK/a" | median)
    br=$(cut -d' ' -f1 "$WORK/b" | median); bp50=$(cut -d' ' -f2 "$WORK/b" | median); bp99=$(cut -d' ' -f3 "$WORK/b" | median)
    printf "%-6s %-22s %12s %10s %10s\n" "$c" "$la" "$ar" "$ap50" "$ap99"
    printf "%-6s %-22s %12s %10s %10s\n" "$c" "$lb" "$br" "$bp50" "$bp99"
    awk -v a="$ar" -v b="$br" -v pa="$ap99" -v pb="$bp99" -v c="$c" -v la="$la" -v lb="$lb" \
      'BEGIN { printf "%-6s ratio %s/%s: req/s %.2fx, p99 %.2fx\n\n", c, la, lb, a/b, pa/pb }'
  done
}
