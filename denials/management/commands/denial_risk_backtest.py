import datetime
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from denials.risk import DEFAULT_THRESHOLD
from denials.risk_selectors import last_quarter, risk_backtest
from rcm.models import Practice


def _threshold(value: str) -> Decimal:
    try:
        threshold = Decimal(value)
    except InvalidOperation:
        raise CommandError(f"--threshold {value!r} is not a number: give a chance between 0 and 1.") from None
    if not Decimal(0) < threshold <= Decimal(1):
        raise CommandError(f"--threshold {value} is outside 0 to 1: give a chance such as 0.2.")
    return threshold


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


class Command(BaseCommand):
    help = (
        "Backtest the denial risk on last quarter's claims: each claim scored by a model trained only on the "
        "remittances received before the day it was submitted; reports precision and recall at the threshold."
    )

    def add_arguments(self, parser):
        parser.add_argument("--practice", required=True, help="practice slug")
        parser.add_argument(
            "--threshold",
            default=str(DEFAULT_THRESHOLD),
            help=f"flag claims at or above this chance (default {DEFAULT_THRESHOLD})",
        )
        parser.add_argument("--as-of", type=datetime.date.fromisoformat, help="YYYY-MM-DD (default: today)")

    def handle(self, *args, practice, threshold, as_of=None, **options):
        threshold = _threshold(threshold)
        found = Practice.objects.filter(slug=practice).first()
        if found is None:
            raise CommandError(f"No practice with slug {practice!r}.")
        today = as_of or timezone.localdate()
        start, end = last_quarter(today)
        result = risk_backtest(found, start=start, end=end, today=today, threshold=threshold)
        last_day = end - datetime.timedelta(days=1)
        share = result.denied / result.claims if result.claims else None
        self.stdout.write(
            f"{found.slug}: claims first submitted {start.isoformat()} to {last_day.isoformat()} "
            f"and adjudicated by {today.isoformat()}: {result.claims}; "
            f"denied on first adjudication: {result.denied}.\n"
            f"Threshold {threshold}: flagged {result.flagged}, of which denied {result.true_positives}.\n"
            f"Precision {_ratio(result.precision)}, recall {_ratio(result.recall)} "
            f"(denied among all these claims: {_ratio(share)})."
        )
