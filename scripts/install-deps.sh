#!/usr/bin/env bash
# Installs every Debian package the project needs to build, test, run and benchmark.
# Idempotent; run as root on Debian 12. Boost 1.81 only: libboost-dev (1.74) conflicts with it.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl procps iproute2
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev liburing-dev zlib1g-dev libssl-dev libre2-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev libgoogle-perftools-dev
  clang clang-format libclang-rt-14-dev
  python3 python3-yaml nodejs openjdk-17-jdk-headless
  wrk nginx-light prometheus
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs may come from another repository with a different package layout: accept any node >= 20.
if command -v node >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs/}")
fi
missing=($(printf '%s\n' "${missing[@]}" | sed '/^$/d'))
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Package post-install scripts may start daemons we never use; the project starts its own copies.
