#!/usr/bin/env bash
# Where the telemetry overhead of bench/telemetry.sh goes: the same no-op proxy scenario on seven
# gateways in one run, each with one part on. off: nothing (access log off too); metrics: the
# prometheus exporter (not scraped); logs: telemetry/logging INFO on stdout with the access log on
# (stdout to a file); traces: DD_TRACE_ENABLED=true to bench/fake_agent.py with the default
# propagation (datadog + tracecontext headers to the backend); traces-no-inject: the same with
# DD_TRACE_PROPAGATION_STYLE_INJECT=none, so traces minus the propagation headers; logs-traces: logs and
# traces with DD_LOGS_INJECTION=true; all: bench/telemetry.sh's "on" (metrics, logs, traces, injection).
# ROUNDS rounds of one wrk run per gateway, in turn (alternating spreads the VM's drift over all);
# prints each gateway's mean req/s and its drop against "off".
# Usage: bench/telemetry-split.sh   (DURATION=10 ROUNDS=3; CONNECTIONS: its first count only, 50)
source "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-3}
c=${CONNECTIONS%% *}
AGENT_CPU=${AGENT_CPU:-$CLIENT_CPU}

start_item_backend_and_agent "$AGENT_CPU"
config() {  # NAME EXTRA_CONFIG_MEMBERS
  echo "{\"version\": 3, \"extra_config\": {$2}, $endpoints}" >"$WORK/$1.json"
}
config off '"router": {"disable_access_log": true}'
config metrics "\"router\": {\"disable_access_log\": true}, \"telemetry/opentelemetry\": {\"service_name\": \"bench\",
  \"exporters\": {\"prometheus\": [{\"name\": \"bench\", \"host\": \"127.0.0.1\", \"port\": $(free_port)}]}}"
config logs '"router": {"disable_access_log": false}, "telemetry/logging": {"level": "INFO", "stdout": true}'
config all "\"router\": {\"disable_access_log\": false}, \"telemetry/logging\": {\"level\": \"INFO\", \"stdout\": true},
  \"telemetry/opentelemetry\": {\"service_name\": \"bench\",
  \"exporters\": {\"prometheus\": [{\"name\": \"bench\", \"host\": \"127.0.0.1\", \"port\": $(free_port)}]}}"

variants=(off metrics logs traces traces-no-inject logs-traces all)
declare -A port
trace_env=(DD_TRACE_ENABLED=true DD_TRACE_AGENT_URL="http://127.0.0.1:$agent" DD_SERVICE=bench DD_ENV=bench)
for v in "${variants[@]}"; do
  port[$v]=$(free_port)
  case $v in
    traces) start_gateway "$WORK/off.json" "${port[$v]}" "${trace_env[@]}" ;;
    traces-no-inject) start_gateway "$WORK/off.json" "${port[$v]}" "${trace_env[@]}" DD_TRACE_PROPAGATION_STYLE_INJECT=none ;;
    logs-traces) start_gateway "$WORK/logs.json" "${port[$v]}" "${trace_env[@]}" DD_LOGS_INJECTION=true ;;
    all) start_gateway "$WORK/all.json" "${port[$v]}" "${trace_env[@]}" DD_LOGS_INJECTION=true ;;
    *) start_gateway "$WORK/$v.json" "${port[$v]}" ;;
  esac
done

for v in "${variants[@]}"; do run_wrk "http://127.0.0.1:${port[$v]}/item" "$c" "$WARMUP" >/dev/null; done
echo "telemetry parts, no-op proxy, c=$c, ${DURATION}s x $ROUNDS rounds (mean), wrk on cpu $CLIENT_CPU, servers on cpu $SERVER_CPU"
for _ in $(seq 1 "$ROUNDS"); do
  for v in "${variants[@]}"; do
    echo "$v $(run_wrk "http://127.0.0.1:${port[$v]}/item" "$c")" >>"$WORK/split"
  done
done
awk -v order="${variants[*]}" '{ sum[$1] += $2; n[$1]++ }
  END { split(order, o, " "); base = sum["off"] / n["off"]
    for (i = 1; i in o; i++) { v = o[i]; m = sum[v] / n[v]
      printf "%-18s %10.0f req/s  drop vs off %5.1f%%\n", v, m, 100 * (1 - m / base) } }' "$WORK/split"
