#!/usr/bin/env bash
# The demo of the main job on a fresh machine: install, build, create a collector's store for 榕江县
# (522632), import the sample roster (GB18030, as Excel on Chinese Windows writes it), and print the
# lists. Everything it writes goes to a temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target field-cli
cli="$PWD/build/release/field-cli/field-cli"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export TAIZHANG_DATA_DIR="$PWD"
export TAIZHANG_PASSPHRASE="demo-passphrase"   # a collector types it at the prompt instead
store="$work/store"
year="$(date +%Y)"
today="$(TZ=Asia/Shanghai date +%F)"
run() { echo; echo "\$ field-cli $*"; "$cli" "$@"; }
run init --store "$store" --county 522632 --collector 王芳,李强 --period "$year" --as-of "$today"
run import --store "$store" data/samples/roster-522632.gb18030.csv
echo; echo "# The same file again changes nothing:"
run import --store "$store" data/samples/roster-522632.gb18030.csv
run list employed --store "$store" --region 522632001008
run list unemployed --store "$store" --region 522632001008
run list willing --store "$store"
run list returned --store "$store"
run list flagged --store "$store"
run list employed --store "$store" --format csv --out "$work/employed.csv"
echo; echo "# A bad roster is refused whole, naming line, column and rule:"
run import --store "$store" data/samples/roster-bad.csv || true
