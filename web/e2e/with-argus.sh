#!/usr/bin/env bash
# Runs the browser tests (web/e2e/run.mjs) against a real `argus serve` started for the
# occasion on a free port with a throw-away data directory. Run from the repository root,
# inside the build root:
#
#   scripts/devroot web/e2e/with-argus.sh
#
# Needs build/argus, web/dist and web/node_modules. Screenshots go to test-artifacts/web/
# (plus the server's log as test-artifacts/web/argus-serve.log). Before the tests an
# administrator account is signed up on the fresh server (the first account is the admin),
# so the ops dashboard is tested too, unless ARGUS_ADMIN_EMAIL/ARGUS_ADMIN_PASSWORD are
# already set. Exits with the tests' status; the last line is run.mjs's
# "e2e: N passed, N failed".
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo" || exit 2
argus=${ARGUS_BIN:-$repo/build/argus}
artifacts=$repo/test-artifacts/web
max_restarts=3

for need in "$argus" "$repo/web/dist/index.html" "$repo/web/node_modules/playwright-core"; do
  if [ ! -e "$need" ]; then
    echo "with-argus: missing $need (build first)" >&2
    exit 2
  fi
done
mkdir -p "$artifacts"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/argus-e2e.XXXXXX")
pid=
log=

stop_server() {
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "with-argus: warning: argus serve ($pid) still running 30 s after SIGTERM; killing it" >&2
      kill -KILL "$pid" 2>/dev/null
    fi
  fi
  wait "$pid" 2>/dev/null
  pid=
}
cleanup() {
  stop_server
  [ -n "$log" ] && [ -f "$log" ] && cp "$log" "$artifacts/argus-serve.log" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  node -e 'const s = require("node:net").createServer();
    s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# Starts argus serve; returns 0 once /readyz answers 200 and the process is still alive 2 s
# later (there is a known intermittent crash in its first second).
start_server() {
  local attempt=$1
  port=$(free_port) || return 1
  rm -rf "$tmp/data"
  log=$tmp/serve-$attempt.log
  # The web app checked above, not the one beside the binary's build folder (ARGUS_BIN may
  # come from another checkout).
  "$argus" serve --host=127.0.0.1 --port="$port" --data-dir="$tmp/data" --web-dir="$repo/web/dist" >"$log" 2>&1 &
  pid=$!
  local ready=
  for _ in $(seq 300); do   # up to 60 s
    kill -0 "$pid" 2>/dev/null || break
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ]; then
      ready=1
      break
    fi
    sleep 0.2
  done
  [ -n "$ready" ] && sleep 2
  if [ -n "$ready" ] && kill -0 "$pid" 2>/dev/null; then
    return 0
  fi
  wait "$pid" 2>/dev/null
  local rc=$?
  echo "with-argus: warning: argus serve (attempt $attempt) $([ -n "$ready" ] && echo "died just after start-up" || echo "did not become ready"), exit status $rc; last log lines:" >&2
  tail -n 5 "$log" >&2
  stop_server
  return 1
}

started=
for attempt in $(seq 1 $((max_restarts + 1))); do
  if start_server "$attempt"; then
    started=1
    break
  fi
  [ "$attempt" -le "$max_restarts" ] && echo "with-argus: warning: restarting argus serve ($attempt of $max_restarts)" >&2
done
if [ -z "$started" ]; then
  echo "with-argus: argus serve did not start after $max_restarts restarts" >&2
  exit 1
fi
url=http://127.0.0.1:$port
echo "with-argus: argus serve (pid $pid) on $url, data in $tmp/data"

if [ -z "${ARGUS_ADMIN_EMAIL:-}" ] || [ -z "${ARGUS_ADMIN_PASSWORD:-}" ]; then
  export ARGUS_ADMIN_EMAIL="e2e-admin-$$@example.com"
  export ARGUS_ADMIN_PASSWORD="admin password $RANDOM$RANDOM"
  code=$(curl -s -o "$tmp/signup.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data "{\"email\":\"$ARGUS_ADMIN_EMAIL\",\"password\":\"$ARGUS_ADMIN_PASSWORD\"}" \
    "$url/api/v1/auth/signup")
  if [ "${code:0:1}" = 2 ] && grep -q '"is_admin": *true' "$tmp/signup.json"; then
    echo "with-argus: signed up administrator $ARGUS_ADMIN_EMAIL"
  else
    echo "with-argus: warning: could not sign up an administrator ($code: $(head -c 300 "$tmp/signup.json")); the ops dashboard is not tested" >&2
    unset ARGUS_ADMIN_EMAIL ARGUS_ADMIN_PASSWORD
  fi
fi

cd "$repo/web" || exit 2
ARGUS_URL=$url ARGUS_ARTIFACTS=../test-artifacts node e2e/run.mjs
status=$?
cd "$repo" || exit 2
stop_server
exit "$status"
