#!/usr/bin/env bash
# Installs everything mixgrad needs on a fresh Debian 12 machine. Idempotent; run as root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libopenblas-dev libtbb-dev libstb-dev catch2
  libcli11-dev nlohmann-json3-dev zlib1g-dev libfmt-dev libmatio-dev
  libopenmpi-dev openmpi-bin
  python3 python3-numpy python3-scipy python3-torch python3-matplotlib
  clang libclang-rt-14-dev
  dataset-fashion-mnist
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi
