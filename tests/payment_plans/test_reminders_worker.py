"""The reminder job through a real Celery worker: the task queued twice sends each message once.

The worker is another process, so it must see the test's rows: they are committed (transactional test) and,
on SQLite, whose test database lives in this process's memory, copied to a file the worker opens."""

import datetime
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

from payment_plans.models import Reminder
from payment_plans.tasks import reminders_practice
from rcm.services import consent_record
from tests.payment_plans.conftest import make_plan

ROOT = Path(__file__).resolve().parents[2]


def _database_url_for_worker(tmp_path: Path) -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        target = tmp_path / "worker.sqlite3"
        with sqlite3.connect(target) as copy:
            connection.ensure_connection()
            connection.connection.backup(copy)
        return f"sqlite:///{target}"
    user, host, port = settings["USER"], settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{settings['NAME']}"


def _reminders(database_url: str) -> list[tuple]:
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
            return sorted(db.execute("SELECT key, channel, status FROM payment_plans_reminder").fetchall())
    return sorted(Reminder.objects.values_list("key", "channel", "status"))


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_the_task_run_twice_through_a_worker_sends_each_reminder_once(debtor, practice, tmp_path):
    for channel in ("email", "sms"):
        consent_record(patient=debtor, channel=channel, granted=True, method="written form")
    today = datetime.date.today()
    plan = make_plan(debtor, start_date=today + datetime.timedelta(days=2), today=today)
    installment = plan.installments.get(sequence=1)
    database_url = ""
    queue = f"reminders-{uuid.uuid4().hex[:8]}"
    env = dict(
        os.environ,
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
        SMS_BACKEND="payment_plans.reminders.sms.FileSmsBackend",
        SMS_FILE_PATH=str(tmp_path / "sms" / "outbox.jsonl"),
        # The patient's window is 8am-9pm: the worker's clock is real, so the patient lives where it is noon.
    )
    debtor.time_zone = _zone_at_noon()
    debtor.save()
    database_url = env["DATABASE_URL"] = _database_url_for_worker(tmp_path)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "rcm",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-Q",
            queue,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        first = reminders_practice.apply_async(args=[practice.pk], queue=queue)
        second = reminders_practice.apply_async(args=[practice.pk], queue=queue)
        # Whichever the worker takes first sends both messages; the other finds them sent.
        assert sorted([first.get(timeout=120), second.get(timeout=120)]) == [0, 2]
        third = reminders_practice.apply_async(args=[practice.pk], queue=queue)
        assert third.get(timeout=120) == 0
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
    assert "Traceback" not in output, output
    key = f"i{installment.pk}:upcoming:{installment.due_date}"
    assert _reminders(database_url) == [(key, "email", "sent"), (key, "sms", "sent")]
    mails = "".join(path.read_text() for path in (tmp_path / "mail").iterdir())
    assert mails.count("Subject: Your payment is due soon") == 1
    assert len((tmp_path / "sms" / "outbox.jsonl").read_text().splitlines()) == 1


def _zone_at_noon() -> str:
    """An IANA zone (Etc/GMT±N) where it is now between 10am and 2pm: inside 8am-9pm for a while."""
    hour = datetime.datetime.now(datetime.UTC).hour
    offset = (12 - hour + 12) % 24 - 12  # local = utc + offset, offset in [-12, 11]
    # Etc/GMT signs are inverted: Etc/GMT-3 is three hours ahead of UTC.
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"
