#!/usr/bin/env bash
# AppSec overhead (issue 17 §7): two gateways in the same run, the WAF off vs on (DD_APPSEC_ENABLED=true),
# on the no-op proxy (bench/proxy.sh's backend and endpoint) and on the aggregate (bench/aggregate.sh's
# three backends), with ordinary API traffic: a browser-like User-Agent, Accept, a JWT in Authorization,
# a session cookie, a query string. RULES=path loads that ruleset (e.g. Datadog's recommended.json)
# instead of the built-in one. PERF=1 adds CPU time per request of both gateways (bench/lib.sh).
# Usage: bench/appsec.sh   (DURATION=10 RUNS=3 CONNECTIONS="50 200"; see lib.sh)
source "$(dirname "$0")/lib.sh"

WRK_EXTRA=(-H "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
  -H "Accept: application/json, text/plain, */*" -H "Accept-Language: en-GB,en;q=0.9"
  -H "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
  -H "Cookie: session=3f1c2a9e8b7d6c5f; theme=dark" -H "X-Request-Id: 7d4e1c2a-9b8f-4e3d-a1c0-5f6e7d8c9b0a")
QUERY="?page=2&sort=desc&q=blue+running+shoes&size=42"

backend=$(free_port); gw_off=$(free_port); gw_on=$(free_port)
start_nginx backend "server { listen 127.0.0.1:$backend; location / { default_type application/json;
  return 200 '{\"id\":42,\"name\":\"widget\",\"tags\":[\"a\",\"b\"],\"price\":12.5,\"stock\":true,\"owner\":\"bench\"}'; } }"
start_aggregation_backends
cat >"$WORK/gw.json" <<JSON
{"version": 3, "timeout": "2s", "extra_config": {"router": {"disable_access_log": true}},
 "endpoints": [
  {"endpoint": "/item", "output_encoding": "no-op",
   "backend": [{"host": ["http://127.0.0.1:$backend"], "url_pattern": "/item"}]},
  {"endpoint": "/agg", "backend": [
   {"host": ["http://127.0.0.1:$be_a"], "url_pattern": "/a", "group": "a"},
   {"host": ["http://127.0.0.1:$be_b"], "url_pattern": "/b", "group": "b"},
   {"host": ["http://127.0.0.1:$be_c"], "url_pattern": "/c", "group": "c"}]}]}
JSON
wait_port "$backend"
on_env=(DD_APPSEC_ENABLED=true)
[[ -n "${RULES:-}" ]] && on_env+=(DD_APPSEC_RULES="$RULES")
start_gateway "$WORK/gw.json" "$gw_off"
off_pid=$GATEWAY_PID
start_gateway "$WORK/gw.json" "$gw_on" "${on_env[@]}"
on_pid=$GATEWAY_PID
grep -q "AppSec enabled" "$WORK/gateway-$gw_on.log" || die "the 'on' gateway did not enable AppSec: $(cat "$WORK/gateway-$gw_on.log")"
echo "ruleset: ${RULES:-built-in}; $(grep -o '"appsec.rules_loaded":[0-9]*,"appsec.rules_failed":[0-9]*' "$WORK/gateway-$gw_on.log")"
# The traffic must be benign to the ruleset (no events): otherwise this measures event reporting.
probe=$(curl -s -o /dev/null -w '%{http_code}' "${WRK_EXTRA[@]}" "http://127.0.0.1:$gw_on/item$QUERY")
[[ $probe == 200 ]] || die "the 'on' gateway answered $probe to the benchmark request"

echo "no-op proxy, WAF on vs off, ${DURATION}s x ${RUNS} runs (median), wrk on cpu $CLIENT_CPU, gateways on cpu $SERVER_CPU"
compare waf-on "http://127.0.0.1:$gw_on/item$QUERY" waf-off "http://127.0.0.1:$gw_off/item$QUERY"
echo "aggregate (3 backends merged), WAF on vs off"
compare waf-on "http://127.0.0.1:$gw_on/agg$QUERY" waf-off "http://127.0.0.1:$gw_off/agg$QUERY"

if [[ -n "${PERF:-}" ]]; then
  c=${CONNECTIONS%% *}
  echo "cost per no-op request, c=$c:"
  cost_per_request waf-on "http://127.0.0.1:$gw_on/item$QUERY" "$c" "$on_pid"
  cost_per_request waf-off "http://127.0.0.1:$gw_off/item$QUERY" "$c" "$off_pid"
fi
