#!/usr/bin/env bash
# `make bench`: a fresh PostgreSQL database of BENCH_CLAIMS claims, every benchmark BENCH_REPEAT times,
# the load test, and the tables in docs/benchmarks.md. PostgreSQL and Redis as in CI (loopback).
#   BENCH_CLAIMS (20000)  BENCH_PRACTICES (2)  BENCH_REPEAT (5)  BENCH_LOAD_SECONDS (20)
#   BENCH_DB (rcm_bench)  PGHOST/PGPORT/PGUSER (127.0.0.1/5432/postgres)  BENCH_REDIS (redis://127.0.0.1:6379/10)
#   BENCH_KEEP_DB=1 reuses the database as it is (no rebuild).
#   BENCH_ONLY=kpis runs only the KPI benchmarks (backfill of BENCH_KPI_DAYS (400) days, nightly, KPI pages).
#   BENCH_ONLY=contracts runs only the 20,000-row fee schedule import (CSV and XLSX; needs no bench data).
#   BENCH_ONLY=denials runs only the denial benchmarks (queue and analytics pages, API, the nightly risk run,
#   load test).
#   BENCH_ONLY=underpayments runs the backfill, the variance recompute and the payer scorecard page.
#   BENCH_ONLY=statements runs only the statement run against WeasyPrint alone (BENCH_STATEMENTS (200) per run).
#   BENCH_ONLY=reminders runs only the daily reminder job (bench/bench_reminders.py; figures in the JSON).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
BENCH_CLAIMS="${BENCH_CLAIMS:-20000}"
BENCH_PRACTICES="${BENCH_PRACTICES:-2}"
BENCH_REPEAT="${BENCH_REPEAT:-5}"
BENCH_LOAD_SECONDS="${BENCH_LOAD_SECONDS:-20}"
BENCH_DB="${BENCH_DB:-rcm_bench}"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
export DATABASE_URL="postgres://${PGUSER}@${PGHOST}:${PGPORT}/${BENCH_DB}"
export REDIS_URL="${BENCH_REDIS:-redis://127.0.0.1:6379/10}" CELERY_BROKER_URL="${BENCH_REDIS:-redis://127.0.0.1:6379/10}"
export DEBUG=true DATABASE_TEST_NAME="test_${BENCH_DB}"

pg_isready -h "$PGHOST" -p "$PGPORT" >/dev/null || { echo "PostgreSQL is not answering on $PGHOST:$PGPORT"; exit 1; }
if command -v redis-cli >/dev/null; then
  redis-cli -u "$REDIS_URL" ping >/dev/null || { echo "Redis is not answering at $REDIS_URL"; exit 1; }
fi

if [ "${BENCH_KEEP_DB:-0}" != "1" ]; then
  psql -q -d postgres -c "DROP DATABASE IF EXISTS ${BENCH_DB}" -c "CREATE DATABASE ${BENCH_DB}"
  $PY manage.py migrate --noinput >/dev/null
  echo "Generating ${BENCH_CLAIMS} claims in ${BENCH_PRACTICES} practices..."
  /usr/bin/env time -f "bench_data: %e s wall, %M KB peak" \
    $PY manage.py bench_data --claims "$BENCH_CLAIMS" --practices "$BENCH_PRACTICES" --check 2000 | grep -v "^building index"
fi

SCRUB=$(( BENCH_CLAIMS < 100000 ? BENCH_CLAIMS : 100000 ))
$PY bench/run.py --repeat "$BENCH_REPEAT" --load-seconds "$BENCH_LOAD_SECONDS" --scrub-claims "$SCRUB" \
  --only "${BENCH_ONLY:-all}" --kpi-backfill-days "${BENCH_KPI_DAYS:-400}" --out var/bench/results.json \
  --statements "${BENCH_STATEMENTS:-200}"
[ "${BENCH_ONLY:-all}" != "all" ] || $PY bench/explain.py
echo "Results: docs/benchmarks.md (raw: var/bench/results.json)"
