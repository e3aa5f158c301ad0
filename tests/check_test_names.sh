#!/usr/bin/env bash
# ctest discovers Catch2 cases by name; a name with a comma (Catch's separator) or a semicolon (a
# CMake list separator) is split and silently runs nothing, and one starting with '-' is read as an
# option. Refuse them.
set -euo pipefail
if grep -rnE 'TEST_CASE\("([^"]*[,;][^"]*|-[^"]*)"' "$(dirname "$0")" --include='*.cpp'; then
  echo "test case names above contain a comma or a semicolon (ctest and CMake split there) or start with '-' (read as an option); rename them" >&2
  exit 1
fi
