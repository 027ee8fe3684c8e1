#!/usr/bin/env bash
# KrakenD CE's black-box suite against this gateway (see scripts/ce-blackbox.py).
#   bash scripts/ce-blackbox.sh [CE_CHECKOUT] [GATEWAY_BIN] [FILTER] [--core] [-v] ...
# Defaults: the CE mirror at /work/.mirror/krakend+krakend-ce/repo (bare git dir, read with git show) or
# $CE_DIR, and build/bin/api-gateway of this checkout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ce="${CE_DIR:-/work/.mirror/krakend+krakend-ce/repo}"
bin="$here/../build/bin/api-gateway"
if [[ $# -gt 0 && "$1" != -* ]]; then ce="$1"; shift; fi
if [[ $# -gt 0 && "$1" != -* ]]; then bin="$1"; shift; fi
exec timeout --kill-after=10 "${CE_BLACKBOX_TIMEOUT:-600}" python3 "$here/ce-blackbox.py" "$ce" "$bin" "$@"
