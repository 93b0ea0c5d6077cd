#!/usr/bin/env bash
# Tests scripts/fetch-assets against a real HTTP server on loopback that serves the assets.
# Usage: fetch_assets_test.sh ARGUS_BINARY
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=$(cd "$repo/../shared" && pwd)
argus=$1
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
check() { if ! eval "$2"; then echo "FAILED: $1" >&2; exit 1; fi; echo "ok: $1"; }

mkdir -p "$work/mirror" "$work/bad/models" "$work/bad/labels"
ln -s "$shared/assets/models" "$shared/assets/labels" "$shared/assets/breeds" "$work/mirror/"
echo "not the model" >"$work/bad/models/mobilenetv2-12-int8.onnx"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 "$port" --directory "$work" >/dev/null 2>&1 &
server_pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.05; done

ARGUS_FETCH_MIRROR="http://127.0.0.1:$port/mirror" "$repo/scripts/fetch-assets" --with-breeds \
  "$work/assets" >"$work/first.log"
check "the model arrives with its published sha256" \
  '[ "$(sha256sum "$work/assets/models/mobilenetv2-12-int8.onnx" | cut -d" " -f1)" = cc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f ]'
check "all 118 breed photos arrive" '[ "$(ls "$work/assets/breeds" | wc -l)" = 118 ]'
check "argus classifies with the fetched assets" \
  'ARGUS_ASSETS_DIR="$work/assets" "$argus" classify -q "$shared/data/imagenet-sample/n01440764_tench.JPEG" | grep -q tench'

ARGUS_FETCH_MIRROR="http://127.0.0.1:$port/mirror" "$repo/scripts/fetch-assets" "$work/assets" >"$work/second.log"
check "a second run keeps verified files" '! grep -q "assets/models" "$work/second.log"'

status=0
ARGUS_FETCH_MIRROR="http://127.0.0.1:$port/bad" "$repo/scripts/fetch-assets" "$work/tampered" \
  >/dev/null 2>"$work/tampered.log" || status=$?
check "a file with the wrong sha256 is refused" '[ $status = 1 ] && grep -q "sha256" "$work/tampered.log"'
check "and nothing of it is kept, not even the folders it made" '[ ! -e "$work/tampered" ]'
check "without the hint for working offline, which is about downloads" \
  '! grep -q "without network access" "$work/tampered.log"'

status=0
mkdir "$work/offline"
ARGUS_FETCH_MIRROR="http://127.0.0.1:1" "$repo/scripts/fetch-assets" "$work/offline" \
  >/dev/null 2>"$work/offline.log" || status=$?
check "no network fails naming the setting to use instead" \
  '[ $status = 1 ] && grep -q "ARGUS_ASSETS_DIR" "$work/offline.log"'
check "and leaves the folder it was given, empty as it was" \
  '[ -d "$work/offline" ] && [ -z "$(ls -A "$work/offline")" ]'

# Arguments: options in any position; help, mistakes and extra arguments touch nothing.
ARGUS_FETCH_MIRROR="http://127.0.0.1:$port/mirror" "$repo/scripts/fetch-assets" \
  "$work/late" --with-breeds >/dev/null
check "--with-breeds after DIR counts too" '[ "$(ls "$work/late/breeds" | wc -l)" = 118 ]'

mkdir "$work/cwd"
run() { (cd "$work/cwd" && ARGUS_FETCH_MIRROR="http://127.0.0.1:1" "$repo/scripts/fetch-assets" "$@") \
          >"$work/out.log" 2>"$work/err.log" || return $?; }
for help in --help -h; do
  status=0; run "$help" || status=$?
  check "$help prints the usage and exits 0" \
    '[ $status = 0 ] && grep -q "^usage: scripts/fetch-assets" "$work/out.log" && [ ! -s "$work/err.log" ]'
done
status=0; run --with-breed "$work/typo" || status=$?
check "an unknown option is refused with the usage, exit 2" \
  '[ $status = 2 ] && grep -q "unknown option: --with-breed" "$work/err.log" && grep -q "^usage:" "$work/err.log"'
status=0; run "$work/one" "$work/two" || status=$?
check "an extra argument is refused with the usage, exit 2" \
  '[ $status = 2 ] && grep -q "unexpected argument: $work/two" "$work/err.log" && grep -q "^usage:" "$work/err.log"'
check "and none of them made a folder" \
  '[ -z "$(ls -A "$work/cwd")" ] && [ ! -e "$work/typo" ] && [ ! -e "$work/one" ] && [ ! -e "$work/two" ]'
