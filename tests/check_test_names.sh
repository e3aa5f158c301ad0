#!/usr/bin/env bash
# ctest discovers Catch2 cases by name and splits test specs at commas: a case whose name holds a
# comma would silently run nothing, and one starting with '-' is read as an option. Refuse both.
set -euo pipefail
if grep -rnE 'TEST_CASE\("([^"]*,[^"]*|-[^"]*)"' "$(dirname "$0")" --include='*.cpp'; then
  echo "test case names above contain a comma or start with '-' (read as an option); rename them" >&2
  exit 1
fi
