#!/usr/bin/env bash
# 3-backend aggregation (issue 3 §7): the gateway merging three JSON backends on one endpoint
# (default json encoding, one `group` per backend) vs nginx doing the equivalent with SSI — a template
# `{"a":<include /_a>,"b":<include /_b>,"c":<include /_c>}` whose three includes are subrequests proxied
# to the same backends with upstream keepalive. Same backends, same run; wrk on CLIENT_CPU (0), servers
# (backends included) on SERVER_CPU (1). Both responses are printed and checked for equal JSON first.
# Prints req/s, p50, p99 medians of RUNS and the gateway/nginx ratios.
# Usage: bench/aggregate.sh   (DURATION=10 RUNS=3 CONNECTIONS="50 200"; PERF=1 adds, at the first
#        connection count, a perf profile of the gateway, and CPU time and syscalls per request of the
#        gateway and of nginx's worker, one more wrk run each; see lib.sh for the other knobs)
source "$(dirname "$0")/lib.sh"

start_aggregation_backends
nginx_ssi=$(free_port); gw=$(free_port)

ssi_include() { echo "<!--# include virtual=\"/_$1\" -->"; }
ssi_location() {  # NAME PATH
  echo "location = /_$1 { internal; proxy_pass http://be_$1$2; proxy_http_version 1.1; proxy_set_header Connection \"\"; }"
}
start_nginx ssi "upstream be_a { server 127.0.0.1:$be_a; keepalive 256; }
  upstream be_b { server 127.0.0.1:$be_b; keepalive 256; }
  upstream be_c { server 127.0.0.1:$be_c; keepalive 256; }
  server { listen 127.0.0.1:$nginx_ssi;
    location = /agg { default_type application/json; ssi on; ssi_types application/json; ssi_silent_errors off;
      return 200 '{\"a\":$(ssi_include a),\"b\":$(ssi_include b),\"c\":$(ssi_include c)}'; }
    $(ssi_location a /a)
    $(ssi_location b /b)
    $(ssi_location c /c)
  }"

wait_port "$nginx_ssi"
start_gateway "$WORK/gw-agg.json" "$gw"

echo "one response from each (must be the same JSON):"
expect_2xx "http://127.0.0.1:$gw/agg" gateway
cp "$WORK/probe.body" "$WORK/gateway.json"
expect_2xx "http://127.0.0.1:$nginx_ssi/agg" nginx-ssi
cp "$WORK/probe.body" "$WORK/nginx.json"
python3 - "$WORK/gateway.json" "$WORK/nginx.json" <<'PY' || die "the two responses differ"
import json, sys
a, b = (open(p, "rb").read() for p in sys.argv[1:3])
try:
    ja, jb = json.loads(a), json.loads(b)
except ValueError as e:
    sys.exit(f"not JSON: {e}")
if ja != jb or sorted(ja) != ["a", "b", "c"]:
    sys.exit("JSON differs")
print(f"equivalent JSON ({len(a)} / {len(b)} bytes{', byte-identical' if a == b else ''})\n")
PY

echo "3-backend aggregation, ${DURATION}s x ${RUNS} runs (median), wrk on cpu $CLIENT_CPU, servers on cpu $SERVER_CPU"
compare gateway "http://127.0.0.1:$gw/agg" nginx-ssi "http://127.0.0.1:$nginx_ssi/agg"

perf_report aggregated gateway "http://127.0.0.1:$gw/agg" "$GATEWAY_PID" \
  nginx-ssi "http://127.0.0.1:$nginx_ssi/agg" "$(pgrep -P "$(cat "$WORK/nginx-ssi/nginx.pid")")"
