"""The daily reminder job (``reminders_run``: missed-installment detection, plan statuses, reminders) over the
bench practices' open installments (every practice, as the daily beat runs it, or one): seconds for the
whole job (target: under 60 s for 100,000 open).

Messages go to in-memory backends (the app's own work is measured, not an SMTP server or an SMS gateway) and
everything is rolled back, so each run sees the same data. Floor: the occasion queries alone (what is due)."""

import argparse
import collections
import datetime
import os

os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
os.environ.setdefault("SMS_BACKEND", "payment_plans.reminders.sms.LocmemSmsBackend")

from common import Timer, bench_practice, emit, rolled_back  # noqa: E402
from django.utils import timezone  # noqa: E402

from payment_plans.models import OPEN_INSTALLMENT_STATUSES, Installment, PlanStatus  # noqa: E402
from payment_plans.reminders.services import _occasions, reminders_run  # noqa: E402
from rcm.models import Practice  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument(
    "--practice", default="all", help="a bench practice's slug, or all: the daily job over every practice"
)
args = parser.parse_args()

practices = (
    list(Practice.objects.filter(slug__startswith="bench-").order_by("slug"))
    if args.practice == "all"
    else [bench_practice(args.practice)]
)
open_installments = Installment.objects.filter(
    practice__in=practices,
    status__in=OPEN_INSTALLMENT_STATUSES,
    plan__status__in=(PlanStatus.ACTIVE, PlanStatus.DELINQUENT),
).count()
# Mid-afternoon Eastern: inside every US patient's 8am-9pm window.
now = datetime.datetime.combine(timezone.localdate(), datetime.time(19, 0), tzinfo=datetime.UTC)

with Timer() as floor:
    occasions = sum(len(_occasions(practice, now.date())) for practice in practices)

with Timer() as timer:
    runs = rolled_back(lambda: [reminders_run(practice=practice, now=now) for practice in practices])

emit(
    name="reminders_daily",
    practices=len(practices),
    open_installments=open_installments,
    occasions=occasions,
    sent=sum(run.sent for run in runs),
    deferred=sum(run.deferred for run in runs),
    capped=sum(run.capped for run in runs),
    status_changes=dict(sum((collections.Counter(r.status_changes) for r in runs), collections.Counter())),
    seconds=timer.seconds,
    rate=open_installments / timer.seconds,
    floor_seconds=floor.seconds,
)
