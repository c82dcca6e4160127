# Sourced by scripts that need a fresh server (tests/fuzz/fuzz.sh, tests/robot/robot.sh):
# `start_fresh_server PORT` starts npm start's command on a temporary SQLite database and sets `key` to
# its bootstrap admin key, `server_log` to its log and `server_pid`; the server and its folder go away
# when the script exits.
start_fresh_server() {
  local port=$1 start
  server_dir=$(mktemp -d)
  server_log="$server_dir/server.log"
  trap 'kill "$server_pid" 2>/dev/null || true; rm -rf "$server_dir"' EXIT
  start=$(node -e 'console.log(require("./package.json").scripts.start.replace(/^node /, ""))')
  # shellcheck disable=SC2086 # the start script's node flags are separate words
  API_PORT=$port DATABASE_URL="sqlite:$server_dir/server.sqlite" LOG_LEVEL=warn node $start >"$server_log" 2>&1 &
  server_pid=$!
  key=
  for _ in $(seq 1 100); do
    key=$(grep -o 'X-API-Key: pd_[A-Za-z0-9_-]*' "$server_log" | head -n 1 | cut -d' ' -f2 || true)
    [ -n "$key" ] && curl -sf "http://127.0.0.1:$port/health" >/dev/null && return 0
    sleep 0.2
  done
  cat "$server_log"
  echo "server did not start" >&2
  exit 1
}
