#!/bin/bash
# The apache/hive image's /entrypoint.sh, for the metastore: the files of HIVE_CUSTOM_CONF_DIR
# linked into the configuration directory, SERVICE_OPTS added to the JVM's options, the schema
# created or upgraded (`schematool -dbType $DB_DRIVER -initOrUpgradeSchema`) unless IS_RESUME=true,
# then the service SERVICE_NAME (here: the standalone metastore's own start script). It traces
# its commands, as the image's does. Written for the suite's image (tests/node/images).
set -x
: "${DB_DRIVER:=derby}"
SKIP_SCHEMA_INIT="${IS_RESUME:-false}"
VERBOSE_MODE=""
[ "${VERBOSE:-}" = "true" ] && VERBOSE_MODE="--verbose"

export HIVE_CONF_DIR="$HIVE_HOME/conf"
if [ -d "${HIVE_CUSTOM_CONF_DIR:-}" ]; then
  find "${HIVE_CUSTOM_CONF_DIR}" -type f -exec ln -sfn {} "${HIVE_CONF_DIR}"/ \;
  export HADOOP_CONF_DIR="$HIVE_CONF_DIR"
fi
export HADOOP_CLIENT_OPTS="${HADOOP_CLIENT_OPTS:-} -Xmx1G ${SERVICE_OPTS:-}"

if [ "$SKIP_SCHEMA_INIT" = "false" ]; then
  "$HIVE_HOME/bin/schematool" -dbType "$DB_DRIVER" -initOrUpgradeSchema $VERBOSE_MODE || {
    echo "Schema initialization failed!"
    exit 1
  }
fi

case "${SERVICE_NAME:-}" in
  metastore)
    export METASTORE_PORT="${METASTORE_PORT:-9083}"
    exec "$HIVE_HOME/bin/start-metastore" -p "$METASTORE_PORT"
    ;;
  *)
    echo "this image runs the metastore only (SERVICE_NAME=metastore), not '${SERVICE_NAME:-}'" >&2
    exit 2
    ;;
esac
