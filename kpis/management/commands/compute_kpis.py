import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kpis.services import kpi_claim_balances_vacuum, kpi_snapshots_compute
from rcm.models import Practice


class Command(BaseCommand):
    help = (
        "Compute the KPI snapshots of a day (default today) for one practice or all; --days N backfills the "
        "N days ending on that day. Recomputing a day replaces its snapshots."
    )

    def add_arguments(self, parser):
        parser.add_argument("--practice", help="practice slug (default: every practice)")
        parser.add_argument("--date", type=datetime.date.fromisoformat, help="YYYY-MM-DD (default: today)")
        parser.add_argument("--days", type=int, default=1, help="how many days ending on --date (default 1)")

    def handle(self, *args, practice=None, date=None, days=1, **options):
        if days < 1:
            raise CommandError("--days must be at least 1.")
        practices = Practice.objects.order_by("slug")
        if practice:
            practices = practices.filter(slug=practice)
            if not practices:
                raise CommandError(f"No practice with slug {practice!r}.")
        end = date or timezone.localdate()
        start = end - datetime.timedelta(days=days - 1)
        for each in practices:
            rows = kpi_snapshots_compute(practice=each, start=start, end=end)
            self.stdout.write(
                f"{each.slug}: {rows} snapshot rows for {start.isoformat()} to {end.isoformat()}."
            )
        kpi_claim_balances_vacuum()
