#!/usr/bin/env bash
# Runs the seed system on this machine: auth-python-svc, chat-node-svc and ranking-java-svc on free 127.0.0.1
# ports, and the gateway with deploy/krakend.json on :8080 (metrics :9090), its backend hosts (the Kubernetes
# service names) pointed at the local services through GATEWAY_HOST_OVERRIDES. Ctrl-C stops everything it started.
#
#   bash scripts/run-seed.sh            # fresh Debian 12, as root: installs dependencies, builds, runs
#
# Environment:
#   SEED_SKIP_INSTALL=1   do not run scripts/install-deps.sh
#   SEED_SKIP_BUILD=1     do not run the cmake build (use an existing build/bin/api-gateway)
#   GATEWAY_BIN=PATH      gateway binary (default build/bin/api-gateway)
#   GATEWAY_PORT=N        gateway port (default 8080; passed as -p). Metrics port comes from krakend.json (9090).
#   JWT_SECRET=...        token key shared by the three services (default: random per run)
#   SEED_LOG_DIR=DIR      where the processes' logs go (default build/seed/logs)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CONFIG="$ROOT/deploy/krakend.json"
GATEWAY_BIN="${GATEWAY_BIN:-$ROOT/build/bin/api-gateway}"
GATEWAY_PORT="${GATEWAY_PORT:-8080}"
METRICS_PORT=9090
LOG_DIR="${SEED_LOG_DIR:-$ROOT/build/seed/logs}"
CLASSES="$ROOT/build/seed/ranking-classes"
PYTHON=/usr/bin/python3
[[ -x "$PYTHON" ]] || PYTHON="$(command -v python3)"

say() { printf '\033[1m[run-seed]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[run-seed]\033[0m %s\n' "$*" >&2; exit 1; }

# ---- 1. dependencies and build ------------------------------------------------------------------------------
if [[ "${SEED_SKIP_INSTALL:-0}" != 1 ]]; then
  if [[ $EUID -eq 0 ]]; then
    say "installing dependencies (scripts/install-deps.sh)"
    bash "$ROOT/scripts/install-deps.sh"
  else
    say "not root: skipping scripts/install-deps.sh (run it as root once, or set SEED_SKIP_INSTALL=1)"
  fi
fi
if [[ "${SEED_SKIP_BUILD:-0}" != 1 ]]; then
  say "building (cmake, Release)"
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
  cmake --build build -j"$(nproc)"
fi
[[ -x "$GATEWAY_BIN" ]] || die "gateway binary not found: $GATEWAY_BIN"
command -v node >/dev/null || die "node not found"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
# chat-node-svc targets Node 20 but uses nothing newer than Node 18 (Debian 12's own nodejs package).
((node_major >= 18)) || die "chat-node-svc needs Node >= 18 (found $(node --version))"
((node_major >= 20)) || say "note: Node $(node --version) (Debian 12's); chat-node-svc targets 20 and runs on 18"
command -v javac >/dev/null && command -v java >/dev/null || die "javac/java (JDK 17) not found"

say "compiling ranking-java-svc into $CLASSES"
rm -rf "$CLASSES" && mkdir -p "$CLASSES"
javac --release 17 -nowarn -encoding UTF-8 -d "$CLASSES" "$ROOT"/services/ranking-java-svc/src/*.java 2>&1 |
  grep -v -E '^(Note:|warning:)' || true
[[ -f "$CLASSES/RankingService.class" ]] || die "javac failed"

say "checking $CONFIG"
"$GATEWAY_BIN" check -c "$CONFIG" >/dev/null || die "api-gateway check -c $CONFIG failed"

port_busy() { ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }
for p in "$GATEWAY_PORT" "$METRICS_PORT"; do
  port_busy "$p" && die "port $p is already in use (another gateway? set GATEWAY_PORT, or stop it)"
done

# ---- 2. start the processes (PIDs recorded; only these are ever signalled) --------------------------------
mkdir -p "$LOG_DIR"
export JWT_SECRET="${JWT_SECRET:-$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')}"
declare -A PIDS=()
ORDER=()
STOPPING=0

stop_all() {
  ((STOPPING)) && return
  STOPPING=1
  trap - INT TERM
  say "stopping"
  # Gateway first (it drains in-flight requests), then the services.
  local name pid
  for name in api-gateway ranking-java-svc chat-node-svc auth-python-svc; do
    pid="${PIDS[$name]:-}"
    [[ -n "$pid" ]] || continue
    kill -TERM "$pid" 2>/dev/null || true
  done
  for name in api-gateway ranking-java-svc chat-node-svc auth-python-svc; do
    pid="${PIDS[$name]:-}"
    [[ -n "$pid" ]] || continue
    for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      say "$name (pid $pid) did not stop in 20s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    say "$name stopped"
  done
}
on_signal() { stop_all; exit 0; }
trap on_signal INT TERM
trap stop_all EXIT

start() { # name, command...
  local name="$1"; shift
  : >"$LOG_DIR/$name.log"
  # setsid: a terminal Ctrl-C reaches only this script, which then stops the children in order.
  setsid "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
  PIDS[$name]=$!
  ORDER+=("$name")
}

listening_port() { # name -> port printed in the service's {"event":"listening","port":N} line
  local name="$1" i line
  for i in $(seq 1 300); do
    kill -0 "${PIDS[$name]}" 2>/dev/null || { tail -n 20 "$LOG_DIR/$name.log" >&2; die "$name exited"; }
    line="$(grep -m1 '"event":"listening"' "$LOG_DIR/$name.log" 2>/dev/null || true)"
    if [[ -n "$line" ]]; then
      grep -o '"port":[0-9]*' <<<"$line" | head -n1 | cut -d: -f2
      return
    fi
    sleep 0.1
  done
  tail -n 20 "$LOG_DIR/$name.log" >&2
  die "$name did not start within 30s"
}

wait_http() { # name url
  local i
  for i in $(seq 1 300); do
    curl -fsS -o /dev/null --max-time 2 "$2" 2>/dev/null && return
    kill -0 "${PIDS[$1]}" 2>/dev/null || { tail -n 30 "$LOG_DIR/$1.log" >&2; die "$1 exited"; }
    sleep 0.1
  done
  tail -n 30 "$LOG_DIR/$1.log" >&2
  die "$1 not healthy at $2 within 30s"
}

say "starting services (logs in $LOG_DIR)"
start auth-python-svc env PORT=0 BIND=127.0.0.1 "$PYTHON" "$ROOT/services/auth-python-svc/auth_service.py"
start chat-node-svc env PORT=0 BIND=127.0.0.1 node "$ROOT/services/chat-node-svc/server.js"
start ranking-java-svc env PORT=0 BIND=127.0.0.1 java -cp "$CLASSES" RankingService
AUTH_PORT="$(listening_port auth-python-svc)"
CHAT_PORT="$(listening_port chat-node-svc)"
RANKING_PORT="$(listening_port ranking-java-svc)"
wait_http auth-python-svc "http://127.0.0.1:$AUTH_PORT/"
wait_http chat-node-svc "http://127.0.0.1:$CHAT_PORT/"
wait_http ranking-java-svc "http://127.0.0.1:$RANKING_PORT/"

# The one routing table is deploy/krakend.json; only the hosts are rewritten, by the gateway, at load time.
export GATEWAY_HOST_OVERRIDES="auth-python-svc:8000=127.0.0.1:$AUTH_PORT,chat-node-svc:8080=127.0.0.1:$CHAT_PORT,ranking-java-svc:8081=127.0.0.1:$RANKING_PORT"
say "starting api-gateway on :$GATEWAY_PORT (GATEWAY_HOST_OVERRIDES=$GATEWAY_HOST_OVERRIDES)"
# As in the manifests: the WAF on (DD_APPSEC_ENABLED=true, built-in ruleset; DD_APPSEC_RULES=file for another).
start api-gateway env DD_APPSEC_ENABLED="${DD_APPSEC_ENABLED:-true}" "$GATEWAY_BIN" run -c "$CONFIG" -p "$GATEWAY_PORT"
wait_http api-gateway "http://127.0.0.1:$GATEWAY_PORT/__health"
unset GATEWAY_HOST_OVERRIDES

G="http://127.0.0.1:$GATEWAY_PORT"
cat <<EOF

  Seed system is up.
    api-gateway       $G   (metrics http://127.0.0.1:$METRICS_PORT/metrics)   pid ${PIDS[api-gateway]}
    auth-python-svc   http://127.0.0.1:$AUTH_PORT   pid ${PIDS[auth-python-svc]}
    chat-node-svc     http://127.0.0.1:$CHAT_PORT   pid ${PIDS[chat-node-svc]}
    ranking-java-svc  http://127.0.0.1:$RANKING_PORT   pid ${PIDS[ranking-java-svc]}
    logs              $LOG_DIR/*.log

  Try:
    curl -s $G/health
    curl -s $G/api/status
    curl -s -X POST $G/api/auth/register -H 'Content-Type: application/json' -d '{"username":"alice","password":"wonderland"}'
    TOKEN=\$(curl -s -X POST $G/api/auth/login -H 'Content-Type: application/json' -d '{"username":"alice","password":"wonderland"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    curl -s $G/api/auth/me -H "Authorization: Bearer \$TOKEN"
    curl -s -X POST $G/api/score -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' -d '{"score":4200}'
    curl -s -X POST $G/api/chat/general -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' -d '{"text":"hello"}'
    curl -s "$G/api/chat/general?limit=10"
    curl -s -X POST $G/api/ranking/global -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' -d '{"score":4200}'
    curl -s "$G/rankings/global?limit=5"
    curl -s "$G/api/chat/general?limit=1%27%20OR%20%271%27%3D%271"   # AppSec: an SQL injection, logged as an event
    curl -s http://127.0.0.1:$METRICS_PORT/metrics | head

  Ctrl-C stops everything.
EOF

# ---- 3. run until Ctrl-C/SIGTERM, or until one of the processes dies --------------------------------------
while true; do
  for name in "${ORDER[@]}"; do
    if ! kill -0 "${PIDS[$name]}" 2>/dev/null; then
      wait "${PIDS[$name]}" 2>/dev/null && rc=0 || rc=$?
      say "$name (pid ${PIDS[$name]}) exited with status $rc; last log lines:"
      tail -n 20 "$LOG_DIR/$name.log" >&2 || true
      unset "PIDS[$name]"
      stop_all
      exit 1
    fi
  done
  sleep 1 &
  wait $! || true
done
