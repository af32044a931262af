#!/usr/bin/env bash
# Configures and builds mixgrad (Release) into ./build. Usage: scripts/build.sh [extra cmake args]
# MIXGRAD_SANITIZE=address,undefined (or thread) builds a sanitized RelWithDebInfo copy into its own folder
# (build-asan / build-tsan) with -fno-sanitize-recover=undefined, so any report fails the test that made it.
# MIXGRAD_TEST_LAYERS="core;autograd" builds only those tests/<layer> folders and their libraries, into
# <folder>-core-autograd (the sanitized selection .ci/run can afford).
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
targets=()
if [ -n "${MIXGRAD_TEST_LAYERS:-}" ]; then  # only these test folders and their libraries (tests/CMakeLists.txt)
  dir+="-${MIXGRAD_TEST_LAYERS//;/-}"
  config+=("-DMIXGRAD_TEST_LAYERS=${MIXGRAD_TEST_LAYERS}")
  targets=(--target mixgrad_tests)
fi
if [ ! -f "$dir/CMakeCache.txt" ]; then
  cmake -S . -B "$dir" "${generator[@]}" "${config[@]}" "$@"
fi
cmake --build "$dir" -j "$(nproc)" "${targets[@]}"
