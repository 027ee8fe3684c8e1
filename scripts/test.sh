#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test (unit, service, e2e) through ctest; then the
# same unit + e2e suites under ASan + UBSan, then each libFuzzer target for a bounded time.
# SKIP_SANITIZE=1 / SKIP_FUZZ=1 skip a stage; FUZZ_SECONDS (default 20) bounds each fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
stage() { printf '\n=== %s (%ss elapsed)\n' "$1" "$SECONDS"; }

bash scripts/install-deps.sh
stage "build + ctest (RelWithDebInfo)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs" --timeout 600

if [[ -z "${SKIP_SANITIZE:-}" ]]; then
  stage "build + ctest (ASan + UBSan)"
  # -O1 -g1: line tables are all ASan reports need, and this build is the slowest part of CI.
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGATEWAY_SANITIZE=ON \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG"
  cmake --build build-asan -j"$jobs"
  # halt_on_error: a UBSan report kills the gateway, so the e2e test that triggered it fails.
  # GW_E2E_STREAM_MB: the 1 GiB streaming test moves 128 MiB under ASan (1 GiB in the run above).
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    GW_E2E_SANITIZED=1 GW_E2E_STREAM_MB=128 \
    ctest --test-dir build-asan -L 'unit|e2e' --output-on-failure -j"$jobs" --timeout 900
fi

if [[ -z "${SKIP_FUZZ:-}" ]]; then
  stage "fuzz (libFuzzer, ${FUZZ_SECONDS:-20}s per target)"
  CXX=clang++ cmake -S . -B build-fuzz2 -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGATEWAY_FUZZ=ON
  targets=(fuzz_http_request fuzz_upstream_response fuzz_config fuzz_json_parse fuzz_response fuzz_gunzip fuzz_xml
    fuzz_appsec_strings fuzz_appsec)
  cmake --build build-fuzz2 -j"$jobs" --target "${targets[@]}"
  mkdir -p build-fuzz2/artifacts
  for t in "${targets[@]}"; do
    # New inputs go to a scratch dir (first argument); the repo corpus is only read.
    scratch=$(mktemp -d "/tmp/gw-fuzz-$t.XXXXXX")
    log=build-fuzz2/artifacts/"$t".log
    if ! build-fuzz2/fuzz/"$t" -max_total_time="${FUZZ_SECONDS:-20}" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix=build-fuzz2/artifacts/"$t"- -print_final_stats=1 "$scratch" fuzz/corpus/"$t" >"$log" 2>&1; then
      tail -40 "$log" >&2
      echo "fuzz target $t failed; the reproducer is in build-fuzz2/artifacts/ (add it as a unit test)" >&2
      rm -rf "$scratch"
      exit 1
    fi
    rm -rf "$scratch"
    echo "$t: $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') runs," \
      "$(grep -cE '^#[0-9]+.*(NEW|REDUCE)' "$log") new/reduced inputs, peak RSS $(grep -E '^stat::peak_rss_mb' "$log" | awk '{print $2}') MB"
  done
fi
stage "all tests passed"
