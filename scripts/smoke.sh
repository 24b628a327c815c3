#!/usr/bin/env bash
# The process smoke test of the deployable stack (see scripts/smoke.py): gunicorn, Celery worker and beat
# against PostgreSQL and Redis, as the non-owner database role; then a broker outage that loses nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-.venv/bin/python}" scripts/smoke.py "$@"
