#!/usr/bin/env bash
# Soak: DURATION seconds (default 600) of mixed load on one gateway — no-op proxy and aggregation
# against nginx, 404s, and faulty backends (tests/e2e/backend.py: resets, garbage, short bodies,
# hangs, refused) — printing the gateway's RSS, open fds and error counts at start and end, and a
# sample every SAMPLE seconds. RSS and fds must end flat; non-2xx only come from the faulty mix.
# Usage: DURATION=180 bash bench/soak.sh
DURATION=${DURATION:-600}
source "$(dirname "$0")/lib.sh"
SAMPLE=${SAMPLE:-30}

backend=$(free_port); faulty=$(free_port); gw=$(free_port); dead=$(free_port)
start_nginx backend "server { listen 127.0.0.1:$backend; default_type application/json;
  location /a { return 200 '{\"a\":1,\"list\":[1,2,3]}'; }
  location /b { return 200 '{\"b\":{\"c\":\"d\"}}'; }
  location / { return 200 '{\"id\":42,\"name\":\"widget\"}'; } }"
python3 "$ROOT/tests/e2e/backend.py" "$faulty" >"$WORK/faulty.log" 2>&1 &
PIDS+=($!)
cat >"$WORK/gw.json" <<JSON
{"version": 3, "timeout": "2s", "host": ["http://127.0.0.1:$backend"], "idle_connection_timeout": "5s",
 "endpoints": [
  {"endpoint": "/item", "output_encoding": "no-op", "backend": [{"url_pattern": "/item"}]},
  {"endpoint": "/agg", "backend": [{"url_pattern": "/a", "group": "a"}, {"url_pattern": "/b", "allow": ["b"]}]},
  {"endpoint": "/f/{mode}", "timeout": "300ms", "backend": [{"host": ["http://127.0.0.1:$faulty"], "url_pattern": "/{mode}"}]},
  {"endpoint": "/n/{mode}", "timeout": "300ms", "output_encoding": "no-op",
   "backend": [{"host": ["http://127.0.0.1:$faulty"], "url_pattern": "/{mode}"}]},
  {"endpoint": "/refused", "backend": [{"host": ["http://127.0.0.1:$dead"], "url_pattern": "/"}]}
 ]}
JSON
wait_port "$backend"; wait_port "$faulty"
start_gateway "$WORK/gw.json" "$gw"

cat >"$WORK/faulty.lua" <<'LUA'
local paths = {"/f/garbage", "/f/resetmid", "/n/resetmid", "/f/short", "/f/clte", "/f/badchunk",
               "/n/badchunk", "/f/hang", "/refused", "/f/long", "/f/status/500", "/n/stream?mb=1", "/f/json"}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
LUA

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$GATEWAY_PID/status"; }
fds() { ls "/proc/$GATEWAY_PID/fd" | wc -l; }

# Warm-up so pools, caches and allocator arenas reach their working size before "start".
for u in /item /agg /nope /f/garbage; do
  taskset -c "$CLIENT_CPU" wrk -t1 -c10 -d3s "http://127.0.0.1:$gw$u" >/dev/null 2>&1 || true
done
sleep 1
rss0=$(rss); fds0=$(fds)
echo "soak: ${DURATION}s, gateway pid $GATEWAY_PID (1 worker, cpu $SERVER_CPU), wrk on cpu $CLIENT_CPU"
printf "%8s %10s %6s\n" "t(s)" "RSS KiB" "fds"
printf "%8s %10s %6s\n" 0 "$rss0" "$fds0"

declare -A scenario=([proxy]="-c50 http://127.0.0.1:$gw/item" [aggregation]="-c20 http://127.0.0.1:$gw/agg"
                     [404]="-c10 http://127.0.0.1:$gw/nope" [faulty]="-c8 -s $WORK/faulty.lua http://127.0.0.1:$gw")
for name in "${!scenario[@]}"; do
  # shellcheck disable=SC2086
  taskset -c "$CLIENT_CPU" wrk -t1 -d"${DURATION}s" --timeout 5s ${scenario[$name]} >"$WORK/wrk-$name.txt" 2>&1 &
  PIDS+=($!)
  WRK_PIDS+=($!)
done

max_rss=$rss0; max_fds=$fds0
for ((t = SAMPLE; t < DURATION; t += SAMPLE)); do
  sleep "$SAMPLE"
  kill -0 "$GATEWAY_PID" 2>/dev/null || die "gateway died: $(tail -5 "$WORK/gateway-$gw.log")"
  r=$(rss); f=$(fds)
  [[ -n "${first_rss:-}" ]] || { first_rss=$r; first_fds=$f; }
  ((r > max_rss)) && max_rss=$r; ((f > max_fds)) && max_fds=$f
  printf "%8s %10s %6s\n" "$t" "$r" "$f"
done
for pid in "${WRK_PIDS[@]}"; do wait "$pid" || true; done
load_rss=${r:-n/a}; load_fds=${f:-n/a}
# Idle backend connections stay pooled until idle_connection_timeout (5s here) and are swept on the
# next use of the pool: wait past it, touch each backend once, then measure.
sleep 7
for u in /item /agg /f/json; do curl -s -o /dev/null "http://127.0.0.1:$gw$u" || true; done
sleep 1
for u in /item /f/json; do curl -s -o /dev/null "http://127.0.0.1:$gw$u" || true; done
rss1=$(rss); fds1=$(fds)
printf "%8s %10s %6s  (after load, pool idle timeout passed)\n" "$DURATION" "$rss1" "$fds1"

echo
printf "%-12s %12s %10s %10s %s\n" scenario requests "req/s" non-2xx "socket errors"
for name in proxy aggregation 404 faulty; do
  f="$WORK/wrk-$name.txt"
  awk -v n="$name" '
    / requests in / { req=$1 }
    /Requests\/sec/ { rps=$2 }
    /Non-2xx/ { non=$NF }
    /Socket errors/ { sub(/.*Socket errors: /, ""); sock=$0 }
    END { printf "%-12s %12s %10s %10s %s\n", n, req, rps, (non == "" ? 0 : non), (sock == "" ? "none" : sock) }' "$f"
done
echo
echo "under load: first sample RSS ${first_rss:-n/a} KiB / ${first_fds:-n/a} fds, last sample RSS $load_rss KiB / $load_fds fds"
echo "idle: RSS KiB start $rss0 end $rss1 (max $max_rss), delta $((rss1 - rss0)); fds start $fds0 end $fds1 (max $max_fds)"
echo "(404 scenario: every response is a 404 by design; faulty: mostly 500s by design.)"
echo "gateway crashes or sanitizer reports: $(grep -cE 'Sanitizer|terminate called|Segmentation|Aborted' "$WORK/gateway-$gw.log" || true)"
