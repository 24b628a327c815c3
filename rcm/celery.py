"""The Celery application. Tasks are autodiscovered from every installed app's ``tasks`` module."""

import gc
import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcm.settings")

app = Celery("rcm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def reminders_schedule():
    """Hourly at :05 from 8:00 to 23:00; every ``RCM_REMINDERS_BEAT_SECONDS`` seconds when that is set (the
    process smoke test, scripts/smoke.sh, sees beat send a reminder without waiting for the hour)."""
    seconds = os.environ.get("RCM_REMINDERS_BEAT_SECONDS", "").strip()
    return int(seconds) if seconds else crontab(minute=5, hour="8-23")


# Periodic work, in one place. Beat (django-celery-beat) copies these into its database schedule.
app.conf.beat_schedule = {
    # Every minute: tasks recorded in the outbox that the broker never took (it was down when their work
    # committed) are published again, so an outage delays work and loses none (rcm.outbox).
    # (RCM_OUTBOX_SWEEP_SECONDS shortens it for the process smoke test, scripts/smoke.sh.)
    "rcm-outbox-sweep": {
        "task": "rcm.outbox_sweep",
        "schedule": int(os.environ.get("RCM_OUTBOX_SWEEP_SECONDS", "60")),
    },
    # Acknowledgments (999/277CA) and ERAs arrive at the clearinghouse through the day: fetch every 15
    # minutes.
    "claims-pickup-clearinghouse-files": {"task": "claims.pickup_all", "schedule": 15 * 60},
    # Every draft and corrected claim scrubbed at 01:30, before the KPI snapshots: a draft nobody opened
    # still meets the day's rules (filing deadlines, coverage dates) and a clean one moves to ready, so no
    # draft is forgotten.
    "claims-scrub-drafts-nightly": {"task": "claims.scrub_drafts", "schedule": crontab(hour=1, minute=30)},
    # KPI snapshots at 02:30, after the day's postings and before the manager's morning; recomputes a week.
    "kpis-compute-nightly": {"task": "kpis.compute_nightly", "schedule": crontab(hour=2, minute=30)},
    # Denial risk of the claims ready to submit at 01:45, after the drafts' scrub moved clean ones to ready
    # and before the morning's batches: the biller sees today's risks in the queue.
    "denials-compute-risks-nightly": {
        "task": "denials.compute_risks_nightly",
        "schedule": crontab(hour=1, minute=45),
    },
    # The monthly KPI report on the 1st at 06:00, after that night's snapshots: last month's PDF to each
    # practice's managers, once per practice and month (a rerun or a retry sends nothing twice).
    "kpis-monthly-reports": {
        "task": "kpis.send_monthly_reports",
        "schedule": crontab(day_of_month=1, hour=6, minute=0),
    },
    # Patient statements at 05:00, after the night's postings: each practice's run picks who is due
    # (statement cycle, holds, plans); a rerun sends nothing twice.
    "payment-plans-statement-run": {
        "task": "payment_plans.statement_run_all",
        "schedule": crontab(hour=5, minute=0),
    },
    # Payment plans: missed installments, plan statuses and patient reminders. Daily work, run every hour
    # from 8:00 to 23:00 Eastern so each patient's 8am-9pm window (Maine to Hawaii) is reached; a run
    # sends only what is due and not yet sent (idempotency keys), so the hourly runs add no duplicates.
    # (RCM_REMINDERS_BEAT_SECONDS, when set, runs it every that many seconds instead: for the process smoke
    # test, scripts/smoke.sh, never in production.)
    "payment-plans-reminders": {
        "task": "payment_plans.reminders_daily",
        "schedule": reminders_schedule(),
    },
}


@worker_process_init.connect  # each process of a prefork worker, once started
@worker_ready.connect  # a solo or threaded worker (scripts/run.sh), in its one process
def freeze_worker_heap(**_kwargs) -> None:
    """What a worker holds once started (Django, the app's modules and tables) lives as long as it does:
    moved out of the garbage collector's sweeps (``gc.freeze``). Work that makes many objects, a statement
    run above all (WeasyPrint), otherwise has the collector go through all of it again and again
    (docs/benchmarks.md, "Patient statements"); a prefork worker's pages also stay shared with its parent."""
    gc.freeze()
