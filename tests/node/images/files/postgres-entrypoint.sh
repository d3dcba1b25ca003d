#!/usr/bin/env bash
# The postgres image's entrypoint (docker-entrypoint.sh), for what a container of it is given:
# an argument that is an option is postgres's; on an empty data directory, initdb as
# POSTGRES_USER with POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) and POSTGRES_INITDB_ARGS, the
# line `host all all all <method>` appended to pg_hba.conf (scram-sha-256 unless
# POSTGRES_HOST_AUTH_METHOD), then POSTGRES_DB and the scripts of /docker-entrypoint-initdb.d run
# on a server that listens on its socket only; then postgres itself. As root it drops to the
# postgres user first. Written for the suite's image (tests/node/images), after the image's
# documented behaviour.
set -Eeuo pipefail

file_env() {
  local var=$1 file_var="${1}_FILE"
  if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
    echo "error: both $var and $file_var are set (but are exclusive)" >&2
    exit 1
  fi
  if [ -n "${!file_var:-}" ]; then export "$var"="$(<"${!file_var}")"; fi
}

if [ "${1:0:1}" = '-' ]; then set -- postgres "$@"; fi

if [ "$1" = 'postgres' ]; then
  : "${PGDATA:=/var/lib/postgresql/data}"
  export PGDATA
  if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown -R postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 00700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
  fi
  mkdir -p "$PGDATA"
  chmod 00700 "$PGDATA" 2>/dev/null || true
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    file_env POSTGRES_PASSWORD
    file_env POSTGRES_USER
    file_env POSTGRES_DB
    file_env POSTGRES_INITDB_ARGS
    : "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}" "${POSTGRES_HOST_AUTH_METHOD:=}"
    if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
      echo "error: the database is uninitialized and no superuser password is set: set POSTGRES_PASSWORD" >&2
      exit 1
    fi
    # shellcheck disable=SC2086
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") ${POSTGRES_INITDB_ARGS:-}
    printf '\nhost all all all %s\n' "${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >>"$PGDATA/pg_hba.conf"
    scripts=(/docker-entrypoint-initdb.d/*)
    if [ "$POSTGRES_DB" != postgres ] || [ -e "${scripts[0]}" ]; then
      PGUSER="$POSTGRES_USER" PGPASSWORD="${POSTGRES_PASSWORD:-}" pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
      export PGUSER="$POSTGRES_USER" PGPASSWORD="${POSTGRES_PASSWORD:-}" PGHOST=/var/run/postgresql
      if [ "$POSTGRES_DB" != postgres ]; then
        psql -v ON_ERROR_STOP=1 --dbname postgres -c "CREATE DATABASE \"$POSTGRES_DB\""
      fi
      for f in "${scripts[@]}"; do
        case "$f" in
          *.sh) if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
          *.sql) psql -v ON_ERROR_STOP=1 --dbname "$POSTGRES_DB" -f "$f" ;;
          *.sql.gz) gunzip -c "$f" | psql -v ON_ERROR_STOP=1 --dbname "$POSTGRES_DB" ;;
          *) [ -e "$f" ] && echo "ignoring $f" ;;
        esac
      done
      pg_ctl -D "$PGDATA" -m fast -w stop
      unset PGUSER PGPASSWORD PGHOST
    fi
  fi
fi

exec "$@"
