#!/usr/bin/env bash
# Configures and builds mixgrad (Release) into ./build. Usage: scripts/build.sh [extra cmake args]
# MIXGRAD_SANITIZE=address,undefined (or thread) builds a sanitized RelWithDebInfo copy into its own folder
# (build-asan / build-tsan) with -fno-sanitize-recover=undefined, so any report fails the test that made it.
set -euo pipefail
cd "$(dirname "$0")/.."
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
dir=build
config=(-DCMAKE_BUILD_TYPE=Release)
case "${MIXGRAD_SANITIZE:-}" in
  "") ;;
  address,undefined | undefined,address | address) dir=build-asan ;;
  thread) dir=build-tsan ;;
  *) echo "build.sh: MIXGRAD_SANITIZE=${MIXGRAD_SANITIZE} is not one of: address,undefined | thread" >&2; exit 2 ;;
esac
if [ -n "${MIXGRAD_SANITIZE:-}" ]; then
  san="-fsanitize=${MIXGRAD_SANITIZE} -fno-omit-frame-pointer"
  [[ $MIXGRAD_SANITIZE == *undefined* ]] && san+=" -fno-sanitize-recover=undefined"
  config=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g -DNDEBUG"
    "-DCMAKE_CXX_FLAGS=$san" "-DCMAKE_EXE_LINKER_FLAGS=$san")
fi
if [ ! -f "$dir/CMakeCache.txt" ]; then
  cmake -S . -B "$dir" "${generator[@]}" "${config[@]}" "$@"
fi
cmake --build "$dir" -j "$(nproc)"
