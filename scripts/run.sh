#!/usr/bin/env bash
# Runs the app on this machine: migrate, load the demo data once, then web + Celery worker + beat.
# Stops all three with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DEBUG="${DEBUG:-true}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
mkdir -p var/log

$PY manage.py migrate --noinput
if [ "$($PY manage.py shell -c 'from rcm.models import Practice; print(Practice.objects.exists())' 2>/dev/null | tail -1)" != "True" ]; then
  if $PY manage.py help seed_demo >/dev/null 2>&1; then
    echo "Loading demo data (first start only)..."
    $PY manage.py seed_demo
  fi
fi

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

.venv/bin/celery -A rcm worker --pool=solo --loglevel=INFO >var/log/worker.log 2>&1 &
pids+=($!)
.venv/bin/celery -A rcm beat --loglevel=INFO >var/log/beat.log 2>&1 &
pids+=($!)

cat <<MSG

  RCM is starting at http://$HOST:$PORT/
  Celery worker and beat are running (logs in var/log/).

$($PY manage.py demo_logins 2>/dev/null || true)

MSG
# runserver's "do not use in production" banner is for deployments: this script is the development start.
DJANGO_RUNSERVER_HIDE_WARNING=true $PY manage.py runserver "$HOST:$PORT"
