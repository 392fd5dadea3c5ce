#!/bin/sh
# The container's start-up steps (the Dockerfile's entrypoint; tests/test_deploy.py runs
# this same script against the embedded database).
#
#   deploy/start.sh setup   wait for the database, migrate, ingest $KZ_INGEST_PATHS (fixtures/)
#   deploy/start.sh serve   wait for the database, check the deployment, run gunicorn
#   deploy/start.sh all     setup, then serve (one container on its own: the default)
#
# PYTHON picks the interpreter (the image's python by default).
set -eu
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"

setup() {
    "$PYTHON" manage.py wait_for_database --timeout "${DB_WAIT_SECONDS:-60}"
    "$PYTHON" manage.py migrate --noinput
    # Idempotent: unchanged files are skipped, and editors' fixes are kept.
    # shellcheck disable=SC2086  # several paths, split on spaces on purpose
    "$PYTHON" manage.py ingest ${KZ_INGEST_PATHS:-fixtures}
}

serve() {
    "$PYTHON" manage.py check --deploy --fail-level WARNING
    "$PYTHON" manage.py wait_for_database --timeout "${DB_WAIT_SECONDS:-60}"
    # exec: gunicorn becomes the container's main process and gets its SIGTERM.
    exec "$PYTHON" -m gunicorn --config gunicorn.conf.py kzarchive.wsgi
}

case "${1:-all}" in
    setup) setup ;;
    serve) serve ;;
    all) setup && serve ;;
    *) echo "usage: $0 [setup|serve|all]" >&2; exit 2 ;;
esac
