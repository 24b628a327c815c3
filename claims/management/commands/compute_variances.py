import time

from django.core.management.base import BaseCommand, CommandError

from claims.underpayments.variances import variances_recompute
from rcm.models import Practice


class Command(BaseCommand):
    help = (
        "Recompute the variance of every adjudicated line against its contract (set-based, in chunks of "
        "claims), find the claims paid short and recover those paid up since; e.g. after a fee schedule "
        "or contract was corrected."
    )

    def add_arguments(self, parser):
        parser.add_argument("--practice", help="practice slug (default: all practices)")
        parser.add_argument(
            "--workers",
            type=int,
            default=2,
            help="processes sharing the chunks of claims on PostgreSQL (default 2: Python prices on one core "
            "while the other writes; 1 for a single process)",
        )

    def handle(self, *args, practice=None, workers=2, **options):
        scope = None
        if practice:
            scope = Practice.objects.filter(slug=practice).first()
            if scope is None:
                raise CommandError(f"No practice with slug {practice!r}.")
        started = time.perf_counter()
        if workers < 1:
            raise CommandError("--workers must be 1 or more.")
        count = variances_recompute(practice=scope, workers=workers)
        self.stdout.write(
            f"Variances of {count} adjudicated lines recomputed in {time.perf_counter() - started:.1f} s."
        )
