#!/usr/bin/env bash
# Installs the Debian 12 packages taizhang builds and tests with (SPEC §2). Nothing is vendored.
set -euo pipefail
pkgs=(
  build-essential cmake pkg-config
  libsqlite3-dev libsqlitecpp-dev
  libssl-dev zlib1g-dev
  libcpp-httplib-dev
  libcereal-dev nlohmann-json3-dev libcli11-dev
  libicu-dev
  catch2
  clang-14 libclang-rt-14-dev
)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
