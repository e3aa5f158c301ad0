#!/usr/bin/env bash
# Builds the libFuzzer targets (preset `fuzz`: clang 14, ASan + UBSan) and runs each for a bounded
# time: `scripts/fuzz.sh` (10 s each, what CI runs) or `scripts/fuzz.sh 600` (the long run, by hand
# or through `bench`). Inputs the fuzzer finds go to a scratch folder, never into the repository.
# A crash stops the run with exit 1 and leaves its input in build/fuzz/artifacts/: copy it into
# fuzz/regressions/TARGET/ (named after the bug), fix the bug, and the test suite replays it forever.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
targets=(wire roster schema normalise bundle)
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
mkdir -p build/fuzz/artifacts
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t"
  echo "== fuzz_$t: ${seconds} s"
  # -timeout: an input slower than 10 s is a hang; -rss_limit_mb bounds memory like a small laptop.
  if ! build/fuzz/fuzz/fuzz_"$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="build/fuzz/artifacts/$t-" "$scratch/$t" "fuzz/corpus/$t" 2>"$scratch/$t.log"; then
    tail -n 60 "$scratch/$t.log"
    echo "fuzz_$t found a crash: its input is in build/fuzz/artifacts/ (see fuzz/README.md)" >&2
    exit 1
  fi
  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$scratch/$t.log" | tr '\n' ' '
  echo
done
echo "fuzzing: no crash in ${#targets[@]} targets"
