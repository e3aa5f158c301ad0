#!/usr/bin/env bash
# ctest discovers Catch2 cases by name and splits test specs at commas: a case whose name holds a
# comma would silently run nothing. Refuse such names.
set -euo pipefail
if grep -rnE 'TEST_CASE\("[^"]*,[^"]*"' "$(dirname "$0")" --include='*.cpp'; then
  echo "test case names above contain a comma; use ';' instead" >&2
  exit 1
fi
