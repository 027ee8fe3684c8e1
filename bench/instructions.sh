#!/usr/bin/env bash
# Instructions per request of the gateway (user space, all its threads) under callgrind, for the
# telemetry scenario of bench/telemetry.sh: "off" (no telemetry, no access log) and "on" (metrics,
# Datadog traces to bench/fake_agent.py, JSON access log with DD_LOGS_INJECTION). Instruction counts do
# not depend on what else the machine is doing, so they show small changes that req/s on a shared VM
# cannot. Prints instructions per request for both, the difference, and the functions that account for
# it (self cost, per request).
# SCENARIO=aggregate measures bench/aggregate.sh's /agg endpoint instead (three JSON backends merged, no
# telemetry): one side, its instructions per request and its largest functions (self cost, per request).
# Usage: bench/instructions.sh   (SCENARIO=telemetry|aggregate REQUESTS_SECONDS=10 CONNECTIONS_CG=10 TOP=25;
#        needs valgrind)
source "$(dirname "$0")/lib.sh"

command -v valgrind >/dev/null || die "valgrind is not installed"
SECONDS_UNDER_LOAD=${REQUESTS_SECONDS:-10}
CONNS=${CONNECTIONS_CG:-10}
TOP=${TOP:-25}

SCENARIO=${SCENARIO:-telemetry}
sides=(off on) path=/item
if [[ $SCENARIO == aggregate ]]; then
  sides=(aggregate) path=/agg
  start_aggregation_backends
  cp "$WORK/gw-agg.json" "$WORK/aggregate.json"
else
  [[ $SCENARIO == telemetry ]] || die "SCENARIO is telemetry or aggregate, not $SCENARIO"
  prom=$(free_port)
  start_item_backend_and_agent "$CLIENT_CPU"
echo "{\"version\": 3, \"extra_config\": {\"router\": {\"disable_access_log\": true}}, $endpoints}" >"$WORK/off.json"
cat >"$WORK/on.json" <<JSON
{"version": 3, "extra_config": {"router": {"disable_access_log": false},
  "telemetry/logging": {"level": "INFO", "stdout": true},
  "telemetry/opentelemetry": {"service_name": "bench",
    "exporters": {"prometheus": [{"name": "bench", "host": "127.0.0.1", "port": $prom}]}}},
 $endpoints}
JSON
fi
bin=$(gateway_bin)

declare -A per_request
for side in "${sides[@]}"; do
  port=$(free_port); envs=()
  [[ $side == on ]] && envs=(DD_TRACE_ENABLED=true DD_LOGS_INJECTION=true DD_SERVICE=bench DD_ENV=bench
    DD_TRACE_AGENT_URL="http://127.0.0.1:$agent")
  env GATEWAY_WORKERS=1 "${envs[@]}" taskset -c "$SERVER_CPU" valgrind --tool=callgrind \
    --callgrind-out-file="$WORK/callgrind-$side.out" "$bin" run -c "$WORK/$side.json" -p "$port" \
    >"$WORK/gateway-$side.log" 2>"$WORK/valgrind-$side.err" &
  vg=$!
  PIDS+=($vg)
  for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:$port$path" && break; sleep 0.1; done
  requests=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${SECONDS_UNDER_LOAD}s" "http://127.0.0.1:$port$path" |
    awk '/requests in/ { print $1 }')
  kill -INT "$vg"; wait "$vg" || true
  total=$(callgrind_annotate "$WORK/callgrind-$side.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
  [[ -n "$total" && "${requests:-0}" -gt 0 ]] || die "no callgrind totals for $side ($(tail -3 "$WORK/valgrind-$side.err"))"
  per_request[$side]=$((total / requests))
  echo "$side: $requests requests, ${per_request[$side]} instructions per request (startup included)"
  callgrind_annotate --inclusive=no --threshold=100 "$WORK/callgrind-$side.out" 2>/dev/null |
    awk -v n="$requests" '/^ *[0-9,]+ \(/ && !/PROGRAM TOTALS/ { c = $1; gsub(",", "", c); f = $0
      sub(/^ *[0-9,]+ +\([^)]*\) +/, "", f); sub(/ \[[^]]*\]$/, "", f); sub(/^\?\?\?:/, "", f)
      sub(/^[^ (]*\.(S|c|cc|cpp|h|hpp|ipp):/, "", f); self[f] += c / n }
      END { for (f in self) printf "%.0f\t%s\n", self[f], f }' >"$WORK/self-$side.tsv"
done
if [[ $SCENARIO == aggregate ]]; then
  echo
  echo "largest functions (self instructions per request):"
  sort -nr "$WORK/self-aggregate.tsv" | awk -F'\t' -v top="$TOP" 'NR <= top { printf "%7d  %s\n", $1, substr($2, 1, 120) }'
  exit 0
fi
echo "telemetry on - off: $((per_request[on] - per_request[off])) instructions per request"
echo
echo "largest differences (self instructions per request: off, on, on - off):"
awk -F'\t' 'NR == FNR { off[$2] = $1; next } { on[$2] = $1 }
  END { for (f in on) if (on[f] - off[f] >= 20) printf "%7d %7d %7d  %s\n", off[f], on[f], on[f] - off[f], substr(f, 1, 110) }' \
  "$WORK/self-off.tsv" "$WORK/self-on.tsv" | sort -k3 -nr | awk -v top="$TOP" 'NR <= top'  # awk reads all: no SIGPIPE
