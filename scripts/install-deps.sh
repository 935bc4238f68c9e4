#!/usr/bin/env bash
# Installs the system libraries and tools dlpipe builds against and tests with (Debian 12).
# Idempotent: only missing packages are installed.
set -euo pipefail
apt_pkgs=(libpng-dev libsndfile1-dev zlib1g-dev pkg-config sox)
missing=()
for p in "${apt_pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Python is used only to check interoperability (safetensors files load in Python).
if ! python3 -c 'import safetensors.numpy, numpy' >/dev/null 2>&1; then
  python3 -m pip install -q safetensors numpy
fi
