#!/usr/bin/env bash
# The gateway image's build steps, runnable without Docker (CI runs this script; deploy/Dockerfile calls it too):
#   1. (--install-deps) install the build dependencies with scripts/install-deps.sh (Debian 12, root)
#   2. configure + build the api-gateway target (Release, Ninja)
#   3. install into a staging root laid out like the runtime image:
#        STAGE/usr/local/bin/api-gateway                  (0755)
#        STAGE/etc/krakend/krakend.json                   (0644, from deploy/krakend.json)
#        STAGE/usr/local/share/api-gateway/runtime-packages.txt   Debian packages providing the binary's shared
#                                                         libraries (the runtime stage apt-installs exactly these)
#   4. validate: `STAGE/usr/local/bin/api-gateway check -c deploy/krakend.json` and the staged copy
# The runtime user (uid/gid 10001 "krakend", no home, no shell) is created by the Dockerfile; everything staged is
# root-owned and read-only for it, so the container can run with readOnlyRootFilesystem.
#
# Usage: scripts/build-image.sh [--install-deps] [--build-dir DIR] [--reuse-build] [--stage DIR] [--jobs N]
#   defaults: --build-dir build-image  --stage out/image-root
#   --reuse-build: DIR is an already configured build tree (e.g. ctest's): build api-gateway there without
#                  re-configuring it (its build type is left alone)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="$ROOT/build-image"
STAGE="$ROOT/out/image-root"
INSTALL_DEPS=0
REUSE=0
JOBS="$(nproc)"

while (($#)); do
  case "$1" in
    --install-deps) INSTALL_DEPS=1 ;;
    --reuse-build) REUSE=1 ;;
    --build-dir) BUILD_DIR="$(realpath -m "$2")"; shift ;;
    --stage) STAGE="$(realpath -m "$2")"; shift ;;
    --jobs) JOBS="$2"; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "build-image.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '\033[1m[build-image]\033[0m %s\n' "$*"; }

if ((INSTALL_DEPS)); then
  log "installing build dependencies (scripts/install-deps.sh)"
  bash "$ROOT/scripts/install-deps.sh"
fi

if ((REUSE)) && [[ -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  log "build api-gateway in the existing tree $BUILD_DIR"
else
  log "configure + build api-gateway in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$BUILD_DIR" --target api-gateway -j "$JOBS"
BIN="$BUILD_DIR/bin/api-gateway"
[[ -x "$BIN" ]] || { echo "build-image.sh: $BIN was not produced" >&2; exit 1; }

log "staging runtime root in $STAGE"
rm -rf "$STAGE"
install -d -m 0755 "$STAGE/usr/local/bin" "$STAGE/etc/krakend" "$STAGE/usr/local/share/api-gateway"
install -m 0755 "$BIN" "$STAGE/usr/local/bin/api-gateway"
strip --strip-unneeded "$STAGE/usr/local/bin/api-gateway" 2>/dev/null || true
install -m 0644 "$ROOT/deploy/krakend.json" "$STAGE/etc/krakend/krakend.json"

# Runtime packages = the Debian packages owning the shared libraries the binary loads (computed, not hand-listed,
# so a new library dependency cannot be forgotten in the runtime stage; ones the slim base already has are no-ops).
pkgs_file="$STAGE/usr/local/share/api-gateway/runtime-packages.txt"
: >"$pkgs_file"
if command -v dpkg-query >/dev/null; then
  libs="$(ldd "$STAGE/usr/local/bin/api-gateway" | awk '/=> \//{print $3}')"
  for lib in $libs; do
    owner="$(dpkg-query -S "$lib" 2>/dev/null || dpkg-query -S "$(readlink -f "$lib")" 2>/dev/null || true)"
    owner="${owner%%:*}"
    if [[ -n "$owner" ]]; then echo "$owner" >>"$pkgs_file"; else log "warning: no Debian package owns $lib"; fi
  done
  sort -u -o "$pkgs_file" "$pkgs_file"
fi
log "runtime packages: $(tr '\n' ' ' <"$pkgs_file")"

log "validating the config with the staged binary"
"$STAGE/usr/local/bin/api-gateway" check -c "$ROOT/deploy/krakend.json"
"$STAGE/usr/local/bin/api-gateway" check -c "$STAGE/etc/krakend/krakend.json"
"$STAGE/usr/local/bin/api-gateway" version || true

log "done: $STAGE"
