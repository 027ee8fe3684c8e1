#!/usr/bin/env bash
# Telemetry overhead (issue 5 §6): the no-op proxy scenario (bench/proxy.sh's backend and endpoint) on
# two gateways in the same run, telemetry off vs on.
#   off: no telemetry namespace, no DD_* env, and router.disable_access_log=true: the gateway writes an
#        access log by default (like KrakenD's gin logger), so without it "off" would still pay for
#        logging. OFF_ACCESS_LOG=1 keeps the default access log in "off" (then only metrics + traces differ).
#   on:  telemetry/opentelemetry with a prometheus exporter on a free 127.0.0.1 port, telemetry/logging
#        (INFO, stdout, access log on) with stdout redirected to a file, and DD_TRACE_ENABLED=true
#        DD_LOGS_INJECTION=true DD_TRACE_AGENT_URL pointing at bench/fake_agent.py (a stand-in agent
#        answering 200 to PUT /v0.4/traces). /metrics is scraped every SCRAPE_INTERVAL s during the run.
#        LOG_SINK=pipe: the "on" gateway's stdout is a pipe read by `cat` on AGENT_CPU into that file, as
#        under a container runtime (whose log shim reads the container's stdout pipe).
# wrk on CLIENT_CPU (0), servers on SERVER_CPU (1), the fake agent and the scraper on AGENT_CPU (CLIENT_CPU).
# Prints req/s, p50, p99 medians of RUNS, the req/s drop and p99 change in %, and what telemetry the
# "on" gateway actually produced (metrics series, trace payloads, log lines) so a no-op wiring is visible.
# Usage: bench/telemetry.sh   (DURATION=10 RUNS=3 CONNECTIONS="50 200" SCRAPE_INTERVAL=1; see lib.sh)
# PERF=1 adds, at the first connection count, a perf profile of the "on" gateway and CPU per request.
source "$(dirname "$0")/lib.sh"

AGENT_CPU=${AGENT_CPU:-$CLIENT_CPU}
SCRAPE_INTERVAL=${SCRAPE_INTERVAL:-1}

gw_off=$(free_port); gw_on=$(free_port); prom=$(free_port)
start_item_backend_and_agent "$AGENT_CPU"
off_extra='"extra_config": {"router": {"disable_access_log": true}},'
[[ -n "${OFF_ACCESS_LOG:-}" ]] && off_extra=""
cat >"$WORK/gw-off.json" <<JSON
{"version": 3, $off_extra $endpoints}
JSON
cat >"$WORK/gw-on.json" <<JSON
{"version": 3, "name": "api-gateway-bench",
 "extra_config": {
  "router": {"disable_access_log": false},
  "telemetry/logging": {"level": "INFO", "stdout": true, "format": "default"},
  "telemetry/opentelemetry": {"service_name": "api-gateway-bench", "trace_sample_rate": 1,
    "exporters": {"prometheus": [{"name": "bench", "host": "127.0.0.1", "port": $prom, "process_metrics": true}]}}},
 $endpoints}
JSON
start_gateway "$WORK/gw-off.json" "$gw_off"
off_pid=$GATEWAY_PID
on_stdout=""
if [[ ${LOG_SINK:-file} == pipe ]]; then
  on_stdout="$WORK/gateway-on.fifo"
  mkfifo "$on_stdout"
  taskset -c "$AGENT_CPU" cat "$on_stdout" >"$WORK/gateway-$gw_on.log" &
  PIDS+=($!)
fi
GATEWAY_STDOUT=$on_stdout start_gateway "$WORK/gw-on.json" "$gw_on" DD_TRACE_ENABLED=true DD_LOGS_INJECTION=true \
  DD_TRACE_AGENT_URL="http://127.0.0.1:$agent" DD_SERVICE=api-gateway-bench DD_ENV=bench DD_VERSION=0
on_pid=$GATEWAY_PID
on_log="$WORK/gateway-$gw_on.log"; off_log="$WORK/gateway-$gw_off.log"

echo "one response from each:"
expect_2xx "http://127.0.0.1:$gw_off/item" off
expect_2xx "http://127.0.0.1:$gw_on/item" on
metrics_up=no
if wait_port "$prom" 2>/dev/null; then
  metrics_up=yes
  # Prometheus-like scraper: one GET /metrics every SCRAPE_INTERVAL s for the whole run.
  taskset -c "$AGENT_CPU" bash -c "while sleep $SCRAPE_INTERVAL; do
    curl -sf -o /dev/null --max-time 2 http://127.0.0.1:$prom/metrics || echo scrape failed >>'$WORK/scrape.err'; done" &
  PIDS+=($!)
fi
echo

start_s=$SECONDS
echo "telemetry overhead, no-op proxy, ${DURATION}s x ${RUNS} runs (median), wrk on cpu $CLIENT_CPU, servers on cpu $SERVER_CPU"
compare on "http://127.0.0.1:$gw_on/item" off "http://127.0.0.1:$gw_off/item"

awk '$2 == "on" { on[$1] = $3; onp[$1] = $5 } $2 == "off" { off[$1] = $3; offp[$1] = $5; order[++n] = $1 }
  END { for (i = 1; i <= n; i++) { c = order[i]
    printf "%-6s telemetry on vs off: req/s drop %.1f%% (target <= 10%%), p99 %+.1f%%\n", c,
      100 * (1 - on[c] / off[c]), 100 * (onp[c] / offp[c] - 1) } }' "$RESULTS"

perf_report proxied on "http://127.0.0.1:$gw_on/item" "$on_pid" off "http://127.0.0.1:$gw_off/item" "$off_pid"

# What the "on" gateway really did; all zero means the telemetry wiring is not in this binary.
echo
series=0; missing=""
if [[ $metrics_up == yes ]]; then
  curl -sf --max-time 5 "http://127.0.0.1:$prom/metrics" >"$WORK/metrics.txt" || : >"$WORK/metrics.txt"
  series=$(grep -cv '^#' "$WORK/metrics.txt" || true)
  for family in http_server_duration krakend_proxy_duration krakend_backend_duration; do
    grep -q "^${family}_" "$WORK/metrics.txt" || missing+=" $family"
  done
fi
scrape_failures=0
[[ -f "$WORK/scrape.err" ]] && scrape_failures=$(wc -l <"$WORK/scrape.err")
agent_stats=$(curl -sf --max-time 5 "http://127.0.0.1:$agent/stats" || echo '{}')
read -r agent_user agent_sys _ < <(cpu_ticks "$agent_pid")
agent_cpu=$(awk -v t=$((agent_user + agent_sys)) -v hz="$(getconf CLK_TCK)" -v s=$((SECONDS - start_s)) \
  'BEGIN { printf "%.1f", (s > 0 ? 100 * t / hz / s : 0) }')
log_lines=$(wc -l <"$on_log"); log_bytes=$(stat -c %s "$on_log"); off_lines=$(wc -l <"$off_log")
dd_lines=$(grep -c '"dd.trace_id"' "$on_log" || true)
payloads=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("payloads", 0))' "$agent_stats")
echo "telemetry produced by the 'on' gateway:"
echo "  metrics listener :$prom up: $metrics_up, $series series${missing:+, missing:$missing}, failed scrapes: $scrape_failures"
echo "  fake agent: $agent_stats, ${agent_cpu}% of cpu $AGENT_CPU (shared with wrk)"
echo "  stdout log: $log_lines lines ($((log_bytes / 1024)) KiB), $dd_lines with dd.trace_id ('off' gateway: $off_lines lines)"
absent=()
[[ $metrics_up == yes && -z $missing ]] || absent+=(metrics)
[[ $payloads -gt 0 ]] || absent+=(traces)
[[ $dd_lines -gt 0 ]] || absent+=(correlated-logs)
if [[ ${#absent[@]} -eq 3 ]]; then
  echo "NOTE: no metrics, no traces, no correlated logs: this binary does not have the telemetry wiring yet," \
       "so 'on' measured the same thing as 'off'. Rebuild (REBUILD=1) once it lands."
elif [[ ${#absent[@]} -gt 0 ]]; then
  echo "WARN: the 'on' gateway produced no ${absent[*]}: the overhead above is only for what it did produce."
fi
