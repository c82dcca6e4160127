#!/usr/bin/env bash
# `make robot`: the robots' own Python client (mbu-process-dashboard-shared-components from PyPI, pinned in
# the Makefile) drives a whole robot day against a fresh server on a temporary SQLite database, started
# with npm start's command and its bootstrap admin key. tests/robot/robot_day.py says what the day does.
# Set ROBOT_TRACE=1 to print every request sent.
set -euo pipefail
cd "$(dirname "$0")/../.."
port=${ROBOT_PORT:-8798}
# shellcheck source=tests/support/fresh-server.sh
. tests/support/fresh-server.sh
start_fresh_server "$port"
status=0
ROBOT_SERVER_URL="http://127.0.0.1:$port" ROBOT_ADMIN_KEY="$key" .tools/robot-venv/bin/python tests/robot/robot_day.py ||
  status=$?
if [ "$status" -ne 0 ]; then
  echo "---- server log (warnings and errors; keys left out)" >&2
  grep -v 'pd_' "$server_log" | tail -n 40 >&2 || true
fi
exit "$status"
