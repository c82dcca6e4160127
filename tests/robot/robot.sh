#!/usr/bin/env bash
# `make robot`: the robots' own Python client (mbu-process-dashboard-shared-components from PyPI, pinned in
# the Makefile) drives a whole robot day against a fresh server on a temporary SQLite database, started
# with npm start's command and its bootstrap admin key. tests/robot/robot_day.py says what the day does.
# Set ROBOT_TRACE=1 to print every request sent.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=$(mktemp -d)
port=${ROBOT_PORT:-8798}
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
start=$(node -e 'console.log(require("./package.json").scripts.start.replace(/^node /, ""))')
# shellcheck disable=SC2086 # the start script's node flags are separate words
API_PORT=$port DATABASE_URL="sqlite:$dir/robot.sqlite" LOG_LEVEL=warn node $start >"$dir/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  key=$(grep -o 'X-API-Key: pd_[A-Za-z0-9_-]*' "$dir/server.log" | head -n 1 | cut -d' ' -f2 || true)
  [ -n "$key" ] && curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  sleep 0.2
done
[ -n "${key:-}" ] || { cat "$dir/server.log"; echo "server did not start" >&2; exit 1; }
status=0
ROBOT_SERVER_URL="http://127.0.0.1:$port" ROBOT_ADMIN_KEY="$key" .tools/robot-venv/bin/python tests/robot/robot_day.py ||
  status=$?
if [ "$status" -ne 0 ]; then
  echo "---- server log (warnings and errors; keys left out)" >&2
  grep -v 'pd_' "$dir/server.log" | tail -n 40 >&2 || true
fi
exit "$status"
