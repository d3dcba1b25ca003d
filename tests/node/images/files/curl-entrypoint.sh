#!/bin/sh
# As curlimages/curl's entrypoint: a first argument that is an option, or no command, is curl's.
if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ] || ! command -v -- "$1" >/dev/null 2>&1; then
  set -- curl "$@"
fi
exec "$@"
