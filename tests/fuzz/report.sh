#!/usr/bin/env bash
# Schemathesis' output (standard input) as fuzz.sh prints it when its output is not a terminal (CI, a log
# file): Schemathesis redraws its progress bars many times a second, which buries everything else in a
# log, so only its report is kept (failures, warnings, summary), from its first section header on, or all
# of it when it stopped before one. Its headers and closing line are drawn like pytest's
# (`=== 1 warning in 84s ===`), which CI's log reader takes for a pytest run that ran no test; they are
# redrawn as `--- WARNINGS ---` and `Schemathesis finished: 1 warning; took 84s`.
set -euo pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cat >"$log"
if grep -q '^=\{3,\} .* =\{3,\}$' "$log"; then
  sed -n '/^=\{3,\} .* =\{3,\}$/,$p' "$log" | sed -E \
    -e 's/^=+ (.*) in ([0-9.]+s) =+$/Schemathesis finished: \1; took \2/' \
    -e 's/^=+ (.*) =+$/--- \1 ---/'
else
  cat "$log"
fi
