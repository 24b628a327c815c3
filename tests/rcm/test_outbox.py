"""No lost work when the broker is down (issue #16, item 2): work that needs a Celery task is recorded in
the outbox in its own transaction, published after commit with a short timeout, and published again by
the sweep when the broker is back. The broker is pointed at a closed port (redis://127.0.0.1:1/0)."""

import datetime
import pathlib
import re
import time

import pytest
from django.db import transaction
from django.utils import timezone

from claims.models import ClaimStatus, X12File
from claims.scrubber.ncci import ncci_load_samples
from claims.tasks import validate_x12_file
from rcm.celery import app as celery_app
from rcm.models import OutboxTask
from rcm.outbox import outbox_sweep, task_enqueue
from rcm.tasks import ping
from tests.api import api
from tests.claims.conftest import Billing
from tests.claims.era_builder import era
from tests.claims.test_pages_remittances import accepted_claim, era_payment

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEAD_BROKER = "redis://127.0.0.1:1/0"


@pytest.fixture
def dead_broker(monkeypatch):
    """The broker unreachable: Celery lets CELERY_BROKER_URL win over its configuration, so both."""
    monkeypatch.setenv("CELERY_BROKER_URL", DEAD_BROKER)
    monkeypatch.setitem(celery_app.conf, "broker_url", DEAD_BROKER)
    monkeypatch.setitem(celery_app.conf, "broker_transport_options", {})
    return monkeypatch


def test_no_module_queues_a_task_but_through_the_outbox():
    offenders = []
    for app in ["rcm", "claims", "denials", "payment_plans", "kpis", "devdata"]:
        for path in (ROOT / app).rglob("*.py"):
            if path == ROOT / "rcm" / "outbox.py":
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if re.search(r"\.(delay|apply_async|send_task)\(", line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert offenders == []


def test_an_835_posted_with_the_broker_down_answers_at_once_and_its_validation_waits(
    practice, biller, dead_broker, django_capture_on_commit_callbacks, settings
):
    ncci_load_samples()
    claim = accepted_claim(Billing(practice))
    # Validated in the background whatever its size (as a large ERA is).
    settings.RCM_INLINE_VALIDATION_CHARS = 0
    content = era(control="000000901", trace="EFT901", claims=[era_payment(claim)])
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = api(biller).post(
            "/api/x12-files/", {"file": [_upload("era.835", content)]}, format="multipart"
        )
    elapsed = time.monotonic() - started
    assert response.status_code == 201, response.content
    assert elapsed < 10, elapsed  # 21 s and a 500 before the outbox (a refused publish costs ~0 s)
    file_row = response.json()["files"][0]
    assert (file_row["status"], file_row["duplicate"], file_row["validation"]) == ("applied", False, "queued")
    assert file_row["message"].endswith("Its X12 validation is queued.")
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID
    x12 = X12File.objects.get(pk=file_row["id"])
    assert x12.validated_at is None
    row = OutboxTask.objects.get()
    assert (row.task, row.args, row.queued_at, row.attempts) == (
        "claims.validate_x12_file",
        [x12.pk],
        None,
        1,
    )
    assert row.last_error.startswith("OperationalError")

    # The broker is back: the sweep publishes what waited, and the task does its work.
    dead_broker.undo()
    assert outbox_sweep(now=timezone.now() + datetime.timedelta(minutes=1)) == {
        "queued": 1,
        "waiting": 0,
        "forgotten": 0,
    }
    row.refresh_from_db()
    assert row.queued_at is not None and row.attempts == 2 and row.last_error == ""
    validate_x12_file.apply(args=[x12.pk])
    x12.refresh_from_db()
    assert x12.validated_at is not None


def _upload(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content.encode(), content_type="application/octet-stream")


@pytest.mark.django_db
def test_work_that_rolls_back_leaves_no_task_behind(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                task_enqueue(ping, "nonce")
                raise RuntimeError("the work failed")
    assert OutboxTask.objects.count() == 0
    assert callbacks == []


@pytest.mark.django_db
def test_the_sweep_leaves_fresh_rows_to_their_commit_hook_and_stops_at_a_dead_broker(dead_broker):
    now = timezone.now()
    old = OutboxTask.objects.create(task="rcm.ping", args=["a"], created_at=now - datetime.timedelta(hours=1))
    OutboxTask.objects.create(task="rcm.ping", args=["b"], created_at=now - datetime.timedelta(hours=1))
    OutboxTask.objects.create(task="rcm.ping", args=["c"], created_at=now)
    started = time.monotonic()
    assert outbox_sweep(now=now) == {"queued": 0, "waiting": 3, "forgotten": 0}
    assert time.monotonic() - started < 5
    old.refresh_from_db()
    assert old.attempts == 1  # one try, then it stopped: the second old row was not tried
    assert list(OutboxTask.objects.order_by("id").values_list("attempts", flat=True)) == [1, 0, 0]


@pytest.mark.django_db
def test_the_sweep_publishes_old_waiting_rows_and_forgets_rows_queued_a_week_ago():
    now = timezone.now()
    OutboxTask.objects.create(task="rcm.ping", args=["a"], created_at=now - datetime.timedelta(minutes=5))
    OutboxTask.objects.create(
        task="rcm.ping",
        args=["b"],
        created_at=now - datetime.timedelta(days=9),
        queued_at=now - datetime.timedelta(days=8),
    )
    fresh = OutboxTask.objects.create(task="rcm.ping", args=["c"], created_at=now)
    assert outbox_sweep(now=now) == {"queued": 1, "waiting": 1, "forgotten": 1}
    assert list(OutboxTask.objects.filter(queued_at__isnull=True).values_list("pk", flat=True)) == [fresh.pk]


@pytest.mark.django_db
def test_healthz_answers_within_its_timeout_with_the_broker_down(client, dead_broker, settings):
    started = time.monotonic()
    response = client.get("/healthz")
    assert time.monotonic() - started < settings.RCM_HEALTHCHECK_TIMEOUT + 1
    assert response.status_code == 503
    assert response.json()["status"] == "failing: broker"
