#!/usr/bin/env bash
# Installs the dependencies, builds with the CI preset (warnings as errors) and runs the whole test
# suite through ctest, then a bounded run of every fuzz target (scripts/fuzz.sh, 10 s each; clang 14).
# CI (.ci/run) calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset ci
cmake --build --preset ci
ctest --preset ci "$@"
./scripts/fuzz.sh 10
