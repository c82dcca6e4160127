#!/usr/bin/env bash
# `make fuzz`: Schemathesis (every check) against a fresh server on a temporary SQLite database, started
# with npm start's command and its bootstrap admin key. Finds the 500s and contract drift examples miss.
# Extra arguments go to `schemathesis run` (e.g. FUZZ_ARGS="--max-examples 200").
set -euo pipefail
cd "$(dirname "$0")/../.."
port=${FUZZ_PORT:-8799}
# shellcheck source=tests/support/fresh-server.sh
. tests/support/fresh-server.sh
# Fuzzing sends thousands of requests a minute with one key; the limits themselves are tested in
# tests/server/rate-limits.test.ts.
export RATE_LIMITS=off
start_fresh_server "$port"
excluded=()
while read -r operation; do
  case "$operation" in '' | '#'*) continue ;; esac
  excluded+=(--exclude-operation-id "$operation")
done < tests/fuzz/not-implemented-yet.txt
fuzz() {
  # shellcheck disable=SC2086
  .tools/venv/bin/schemathesis --config-file tests/fuzz/schemathesis.toml run generated/openapi.json --url "http://127.0.0.1:$port" \
    -H "X-API-Key: $key" --checks all --workers 2 --seed "${FUZZ_SEED:-20261126}" \
    --max-examples "${FUZZ_EXAMPLES:-50}" --generation-allow-x00 false "${excluded[@]}" ${FUZZ_ARGS:-}
}
if [ -t 1 ]; then
  fuzz
else
  # Not a terminal (CI, a log file): only the report, its pytest-like lines redrawn (report.sh).
  status=0
  fuzz 2>&1 | bash tests/fuzz/report.sh || status=$?
  exit "$status"
fi
