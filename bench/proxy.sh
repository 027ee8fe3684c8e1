#!/usr/bin/env bash
# no-op proxy: the gateway vs nginx proxy_pass (upstream keepalive), same backend, same run.
# wrk on CLIENT_CPU (0), servers on SERVER_CPU (1). Prints req/s, p50, p99 medians and ratios.
# nginx logs nothing (access_log off), so the gateway's access log is off too.
# Usage: bench/proxy.sh   (DURATION=10 RUNS=3 CONNECTIONS="50 200" by default; PERF=1 adds a profile;
#        BODY_BYTES=N makes the backend answer an N-byte JSON document instead of the ~100-byte one)
source "$(dirname "$0")/lib.sh"

backend=$(free_port); nginx_proxy=$(free_port); gw=$(free_port)
if [[ -n "${BODY_BYTES:-}" ]]; then  # BODY_BYTES=N: the backend answers a JSON document of N bytes instead
  python3 -c "import sys; n=int(sys.argv[1]); print('{\"d\":\"' + 'x' * max(0, n - 9) + '\"}', end='')" "$BODY_BYTES" >"$WORK/body.json"
  chmod a+rx "$WORK"; chmod a+r "$WORK/body.json"  # nginx's worker runs as another user
  start_nginx backend "server { listen 127.0.0.1:$backend; location /item { default_type application/json;
    alias $WORK/body.json; } }"
else
  start_nginx backend "server { listen 127.0.0.1:$backend; location / { default_type application/json;
  return 200 '{\"id\":42,\"name\":\"widget\",\"tags\":[\"a\",\"b\"],\"price\":12.5,\"stock\":true,\"owner\":\"bench\"}'; } }"
fi
start_nginx proxy "upstream be { server 127.0.0.1:$backend; keepalive 256; }
  server { listen 127.0.0.1:$nginx_proxy; location / { proxy_pass http://be; proxy_http_version 1.1;
  proxy_set_header Connection \"\"; } }"
cat >"$WORK/gw.json" <<JSON
{"version": 3, "extra_config": {"router": {"disable_access_log": true}},
 "endpoints": [{"endpoint": "/item", "output_encoding": "no-op",
  "backend": [{"host": ["http://127.0.0.1:$backend"], "url_pattern": "/item"}]}]}
JSON
wait_port "$backend"; wait_port "$nginx_proxy"
start_gateway "$WORK/gw.json" "$gw"
echo "no-op proxy, ${DURATION}s x ${RUNS} runs (median), wrk on cpu $CLIENT_CPU, servers on cpu $SERVER_CPU"
compare gateway "http://127.0.0.1:$gw/item" nginx "http://127.0.0.1:$nginx_proxy/item"

# PERF=1: where the gateway's time goes, and CPU per request of both proxies.
perf_report proxied gateway "http://127.0.0.1:$gw/item" "$GATEWAY_PID" \
  nginx "http://127.0.0.1:$nginx_proxy/item" "$(pgrep -P "$(cat "$WORK/nginx-proxy/nginx.pid")")"
