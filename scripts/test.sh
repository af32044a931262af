#!/usr/bin/env bash
# Builds mixgrad and runs the whole test suite with CTest. Needs no data outside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)"
