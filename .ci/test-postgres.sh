#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server (Debian's `postgresql` package) for the integration tests
# and prints the URL to export as LAKEHOUSE_TEST_POSTGRES. Installs the package when missing.
#   eval "$(bash .ci/test-postgres.sh start)"   ...   bash .ci/test-postgres.sh stop
set -euo pipefail
dir=${LAKEHOUSE_TEST_POSTGRES_DIR:-/tmp/lakehouse-test-postgres}
port=${LAKEHOUSE_TEST_POSTGRES_PORT:-55432}

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-start}" in
  start)
    bin=$(find_bin)
    if [ -z "$bin" ]; then
      echo "installing Debian's postgresql package" >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
      bin=$(find_bin)
    fi
    if [ -f "$dir/data/postmaster.pid" ]; then as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast stop >&2 || true; fi
    rm -rf "$dir" && mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
    password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
    printf '%s\n' "$password" > "$dir/pwfile"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir/pwfile"; fi
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir" start >&2
    echo "export LAKEHOUSE_TEST_POSTGRES='postgresql://postgres:$password@127.0.0.1:$port/postgres'"
    ;;
  stop)
    bin=$(find_bin)
    [ -n "$bin" ] && [ -f "$dir/data/postmaster.pid" ] && as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast stop >&2
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
