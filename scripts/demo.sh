#!/usr/bin/env bash
# The demo of the main job on a fresh machine, all on this machine and in a temporary folder:
#  1. install, build (release: field-cli and sync-server);
#  2. a collector's store: the sample roster imported (GB18030, as Excel on Chinese Windows writes it)
#     and the lists printed;
#  3. the county server for 榕江县 (522632): the region tree that ships, the sample register, the
#     period, two enrolment tokens, `serve` over HTTPS on a free loopback port;
#  4. two collectors' laptops enrol and sync, both change the same person's phone offline, sync: the
#     conflict is listed on a laptop and on the server, resolved, both sync again and show the same
#     value; the digests of the scope on both laptops and on the server are equal.
# Every command is printed before it runs.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target field-cli sync-server
cli="$PWD/build/release/field-cli/field-cli"
srv_bin="$PWD/build/release/sync-server/sync-server"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
export TAIZHANG_DATA_DIR="$PWD"
export TAIZHANG_PASSPHRASE="demo-passphrase"   # a collector types it at the prompt instead
year="$(date +%Y)"
today="$(TZ=Asia/Shanghai date +%F)"
say() { echo; echo "# $*"; }
run() { echo; echo "\$ field-cli $*"; "$cli" "$@"; }
server() { echo; echo "\$ sync-server $*"; "$srv_bin" "$@"; }

# --- 1. One collector's store, offline: import and lists -------------------------------------------
store="$work/store"
run init --store "$store" --county 522632 --collector 王芳,李强 --period "$year" --as-of "$today"
run import --store "$store" data/samples/roster-522632.gb18030.csv
say "The same file again changes nothing:"
run import --store "$store" data/samples/roster-522632.gb18030.csv
run list employed --store "$store" --region 522632001008
run list willing --store "$store"
say "A bad roster is refused whole, naming line, column and rule:"
run import --store "$store" data/samples/roster-bad.csv || true

# --- 2. The county server ----------------------------------------------------------------------------
data="$work/server"
say "The county server: its data folder, the region tree that ships for 522632, the register, the period."
server init --county 522632 --name 榕江县人社局 --data "$data"
server regions import data/regions/trees/522632.csv --version 2023 --data "$data"
server period set "$year" --as-of "$today" --data "$data"
server register import data/samples/roster-522632.gb18030.csv --data "$data"
say "One enrolment token per laptop: 车民街道 (522632001), the collectors who share the laptop."
made="$(server token create --scope 522632001 --collector 王芳 --data "$data")"; echo "$made"
token_a="$(tail -n 1 <<<"$made")"
made="$(server token create --scope 522632001 --collector 李强 --data "$data")"; echo "$made"
token_b="$(tail -n 1 <<<"$made")"

say "Serve over HTTPS on a free loopback port, in the background (the URL is read from its first line)."
echo "\$ sync-server serve --listen 127.0.0.1:0 --data $data &"
mkfifo "$work/serve.out"
"$srv_bin" serve --listen 127.0.0.1:0 --data "$data" >"$work/serve.out" 2>"$work/serve.log" &
server_pid=$!
exec 3<"$work/serve.out"
IFS= read -r started <&3
echo "$started"
url="$(grep -o 'https://[^ ）)]*' <<<"$started" | head -n 1)"
[ -n "$url" ] || { echo "serve did not say where it listens" >&2; exit 1; }

# --- 3. Two laptops ------------------------------------------------------------------------------------
a="$work/laptop-a"
b="$work/laptop-b"
say "Two laptops: each created, enrolled with its token (the server's key is pinned), and synced."
run init --store "$a" --county 522632 --collector 王芳 --period "$year" --as-of "$today"
run enroll "$url" "$token_a" --store "$a"
run sync --store "$a"
run init --store "$b" --county 522632 --collector 李强 --period "$year" --as-of "$today"
run enroll "$url" "$token_b" --store "$b"
run sync --store "$b"

person=522632196806187893   # 孙毅杰, 车寨社区 (522632001008), from the register
say "Offline, both collectors change 孙毅杰's phone, to different numbers."
run edit "$person" --set 联系电话=13900001111 --store "$a"
run edit "$person" --set 联系电话=13700002222 --store "$b"
say "Sync A, then B (B's change meets A's: a conflict), then A again (A learns of it)."
run sync --store "$a"
run sync --store "$b"
run sync --store "$a"
say "The conflict, on a laptop and on the server: both values kept, nothing overwritten."
run conflicts --store "$a"
server conflicts --data "$data"
say "Resolved on laptop A: keep the value numbered 2."
run resolve "$person" 联系电话 --pick 2 --store "$a"
run sync --store "$a"
run sync --store "$b"
run conflicts --store "$b"
say "Both laptops show the same phone:"
run find "$person" --store "$a"
run find "$person" --store "$b"

say "The digest of the scope 522632001 on each laptop (field-cli sync --json) and on the server (device list --json):"
digest_of() { sed -n 's/^ *"digest": "\([0-9a-f]*\)".*/\1/p'; }
da="$("$cli" sync --json --store "$a" | digest_of)"
db="$("$cli" sync --json --store "$b" | digest_of)"
ds="$("$srv_bin" device list --json --data "$data" | digest_of | sort -u)"
echo "laptop A: $da"
echo "laptop B: $db"
echo "server:   $ds"
if [ -n "$da" ] && [ "$da" = "$db" ] && [ "$da" = "$ds" ]; then
  echo "All three equal: the laptops and the server hold the same data for 车民街道."
else
  echo "The digests differ" >&2
  exit 1
fi
server device list --data "$data"
say "The server's request log:"
cat "$work/serve.log"
