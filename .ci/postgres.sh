#!/usr/bin/env bash
# Installs PostgreSQL from Debian (when missing), starts the default cluster on 127.0.0.1 and makes sure
# the test role exists. Prints the TEST_DATABASE_URL to use. Idempotent: safe to run on every CI run.
set -euo pipefail
PG_USER=${PG_USER:-pd_test}
PG_PASSWORD=${PG_PASSWORD:-pd_test}
PG_PORT=${PG_PORT:-5432}
SUDO=""
AS_POSTGRES="runuser -u postgres --"
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; AS_POSTGRES="sudo -u postgres"; fi

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$version main$"; then
  $SUDO pg_createcluster "$version" main -p "$PG_PORT" >&2
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -q online; then
  $SUDO pg_ctlcluster "$version" main start -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT" >&2
fi
for _ in $(seq 1 30); do
  pg_isready -h 127.0.0.1 -p "$PG_PORT" -q && break
  sleep 0.5
done
pg_isready -h 127.0.0.1 -p "$PG_PORT" >&2
$AS_POSTGRES psql -p "$PG_PORT" -qtAc \
  "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD'; END IF; END\$\$;" >&2
# The bench writes a bulk seed's pages out (CHECKPOINT) before measuring: PostgreSQL 15 lets a role do that.
$AS_POSTGRES psql -p "$PG_PORT" -qtAc \
  "DO \$\$BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'pg_checkpoint') THEN GRANT pg_checkpoint TO $PG_USER; END IF; END\$\$;" >&2
echo "postgresql://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/postgres"
