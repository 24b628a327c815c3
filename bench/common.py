"""Shared by the benchmark scripts: Django set-up, the benchmark practice, timing and the result line.

Each script measures one thing once and prints one ``BENCH {json}`` line; ``bench/run.py`` runs it
several times, each in a fresh process (so peak memory is the run's own), and writes the table.
"""

import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcm.settings")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class Timer:
    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started


def emit(**data) -> None:
    data.setdefault("peak_rss_mb", peak_rss_mb())
    print("BENCH " + json.dumps(data, default=str), flush=True)


def bench_practice(slug: str = "bench-001"):
    from rcm.models import Practice

    practice = Practice.objects.filter(slug=slug).first()
    if practice is None:
        sys.exit(f"No practice {slug}: run `manage.py bench_data --claims N` first.")
    return practice


class Rollback(Exception):
    pass


def rolled_back(function):
    """Run ``function()`` in a transaction that is rolled back, so every run sees the same data."""
    result = None
    try:
        with transaction.atomic():
            result = function()
            raise Rollback
    except Rollback:
        pass
    return result


def sql_seconds(sql: str, params=()) -> float:
    """Time of one bare SQL statement (the floor a page's query cannot beat)."""
    with connection.cursor() as cursor, Timer() as timer:
        cursor.execute(sql, params)
        cursor.fetchall()
    return timer.seconds
