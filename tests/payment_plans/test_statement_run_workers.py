"""A statement run shared by real Celery workers: its chunks, queued as tasks, are taken by two worker
processes (one on SQLite, whose file two writers would lock), every statement is sent once, the run is
marked finished by whichever chunk ends last, and a chunk delivered again sends nothing.

The workers are other processes, so they must see the test's rows: they are committed (transactional test)
and, on SQLite, whose test database lives in this process's memory, copied to a file the workers open."""

import datetime
import os
import sqlite3
import subprocess
import sys
import uuid

import pytest
from django.db import connection

from payment_plans.statements import statement_run_queue
from payment_plans.tasks import statement_run_chunk_task
from tests.payment_plans.helpers import new_patient, self_pay_claim
from tests.payment_plans.test_reminders_worker import ROOT, _database_url_for_worker

PATIENTS = 6


def _rows(database_url: str, sql: str, pk: int) -> list[tuple]:
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
            return db.execute(sql.replace("%s", "?"), [pk]).fetchall()
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        return cursor.fetchall()


def _worker(queue: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "rcm", "worker", "--pool=solo", "--loglevel=WARNING"]
        + ["--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{uuid.uuid4().hex[:8]}@%h"]
        + ["-Q", queue],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_two_workers_share_a_run_and_send_each_statement_once(practice, tmp_path):
    today = datetime.date.today()
    for n in range(PATIENTS):
        patient = new_patient(practice, first_name="Pat", last_name=f"Worker{n}")
        self_pay_claim(practice, patient, f"{40 + n}.00", day=today - datetime.timedelta(days=20))
    record = statement_run_queue(practice=practice, today=today, chunk_size=1)  # published by nobody here
    chunk_ids = list(record.chunks.order_by("number").values_list("pk", flat=True))
    assert len(chunk_ids) == PATIENTS

    queue = f"statements-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, DATABASE_URL=_database_url_for_worker(tmp_path))
    workers = [_worker(queue, env) for _ in range(1 if connection.vendor == "sqlite" else 2)]
    try:
        results = [statement_run_chunk_task.apply_async(args=[pk], queue=queue) for pk in chunk_ids]
        assert [result.get(timeout=180) for result in results] == [1] * PATIENTS
        again = statement_run_chunk_task.apply_async(args=[chunk_ids[0]], queue=queue)
        assert again.get(timeout=120) == 1  # delivered twice: the chunk's count, and nothing sent again
    finally:
        outputs = []
        for worker in workers:
            worker.terminate()
            try:
                outputs.append(worker.communicate(timeout=30)[0])
            except subprocess.TimeoutExpired:
                worker.kill()
                outputs.append(worker.communicate()[0])
    for output in outputs:
        assert "Traceback" not in output, output

    url = env["DATABASE_URL"]
    sent = _rows(
        url, "SELECT patient_id, run FROM payment_plans_statement WHERE practice_id = %s", practice.pk
    )
    assert len(sent) == PATIENTS and {run for _, run in sent} == {record.run}
    assert len({patient for patient, _ in sent}) == PATIENTS
    chunks = _rows(
        url,
        "SELECT sent, not_sent, failed FROM payment_plans_statementrunchunk WHERE statement_run_id = %s",
        record.pk,
    )
    assert sorted(chunks) == [(1, 0, 0)] * PATIENTS
    finished = _rows(url, "SELECT finished_at FROM payment_plans_statementrun WHERE id = %s", record.pk)
    assert finished[0][0] is not None
