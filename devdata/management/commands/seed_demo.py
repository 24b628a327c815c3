"""``python manage.py seed_demo``: load the demo practices, users and 15 months of claims."""

import contextlib
import datetime
import time
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings
from django.utils import timezone

from claims.ledger import ledger_check
from claims.models import Balances, ClaimStatus
from devdata.demo.builder import DemoOptions, demo_build
from devdata.demo.inbox import demo_inbox_write
from devdata.demo.practices import PRACTICES
from rcm.demo import DEMO_USERS
from rcm.models import Practice

DEFAULT_CLAIMS = 6000  # quick enough for ``make run``; ``--claims 20000`` for a full-size practice
MIN_CLAIMS = 50


@contextlib.contextmanager
def sql_log_off():
    """Stop Django keeping every SQL statement (it does with DEBUG on) while the demo is built.

    Why: the load runs dozens of statements per claim, and with the log on SQLite runs one more per
    statement to quote its parameters for the log; measured, that is 15-30% of the build time, for a
    log of the last 9,000 statements nobody reads. Only the query log changes: DEBUG was checked first."""
    with override_settings(DEBUG=False):
        yield


class Command(BaseCommand):
    help = (
        "Load demo data: two practices (Riverside Family Medicine and Lakeview Pediatrics), one login per "
        "role, and 15 months of claims built through the app's services the way a practice works: charges "
        "entered daily, a nightly scrub and real 837P batches per payer, 277CA acknowledgments, "
        "one 835 ERA per payer per week imported and posted by the ERA posting engine, secondary billing, "
        "denial work and weekly patient payments. The demo's 837P batches and 835 files are not run through "
        "pyx12 (validate=False: it takes seconds per file; the test suite validates the same builders). "
        "Development databases only."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed",
            type=int,
            default=2026,
            help="Random seed: the same seed (and --as-of) builds the same data.",
        )
        parser.add_argument(
            "--claims",
            type=int,
            default=DEFAULT_CLAIMS,
            help=f"Claims to build in total; 90%% at Riverside, 10%% at Lakeview (default {DEFAULT_CLAIMS}).",
        )
        parser.add_argument(
            "--as-of",
            dest="as_of",
            type=datetime.date.fromisoformat,
            default=None,
            help="YYYY-MM-DD: the data ends the day before (default: today). Same seed + date = same data.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off. The demo logins have a published password: never on production.",
        )

    def handle(self, *args, seed: int, claims: int, as_of, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo refuses to run with DEBUG off: it creates logins whose password is published, and "
                "demo logins must never reach a production database. Set DEBUG=true for a development "
                "database, or pass --force if you are sure this database is not production."
            )
        today = timezone.localdate()
        as_of = as_of or today
        if as_of > today:
            raise CommandError(
                f"--as-of {as_of} is in the future (today is {today}): the demo only holds history."
            )
        if claims < MIN_CLAIMS:
            raise CommandError(f"--claims must be at least {MIN_CLAIMS} (got {claims}).")
        self._refuse_if_loaded()

        started = time.monotonic()
        self.stdout.write(f"Building demo data: {claims:,} claims, seed {seed}, as of {as_of}...")
        with sql_log_off():
            runs = demo_build(
                options=DemoOptions(seed=seed, claims=claims, as_of=as_of), log=self.stdout.write
            )
        elapsed = time.monotonic() - started
        for run in runs:
            self._report(run)
        problems = ledger_check()
        if problems:
            raise CommandError(
                f"The ledger does not balance ({len(problems)} problems), first: {problems[0]}"
            )
        self.stdout.write("Ledger check: every cached balance matches the ledger.")
        self._write_inbox(runs[0].practice, as_of)
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded in {elapsed:.1f} s."))
        call_command("demo_logins", stdout=self.stdout)

    def _write_inbox(self, practice, as_of) -> None:
        """The files that came in after the demo's last day, for the newcomer to upload and watch post."""
        directory = Path(settings.VAR_DIR) / "demo-inbox"
        plan = demo_inbox_write(practice=practice, directory=directory, day=as_of)
        self.stdout.write(
            f"Inbox for {practice.name} in {directory}/ (upload them on the X12 files page): "
            + ", ".join(path.name for path in plan.files)
            + f" ({len(plan.acknowledged)} acknowledged; {len(plan.paid)} paid, "
            f"{len(plan.partly_paid)} partly paid, {len(plan.denied)} denied, "
            f"{len(plan.reversed)} payment reversed)."
        )

    def _refuse_if_loaded(self) -> None:
        """Loading twice would duplicate everything (or collide on unique slugs halfway): refuse up front."""
        slugs = [spec.slug for spec in PRACTICES]
        existing = list(Practice.objects.filter(slug__in=slugs).values_list("slug", flat=True))
        usernames = [username for username, _first, _last, _role in DEMO_USERS]
        users = list(
            get_user_model().objects.filter(username__in=usernames).values_list("username", flat=True)
        )
        if existing or users:
            found = ", ".join(
                [f"practice {slug!r}" for slug in existing] + [f"user {name!r}" for name in users]
            )
            raise CommandError(
                f"Demo data is already loaded ({found} exists). seed_demo only loads into a database without "
                "it: drop the database (or delete var/rcm.sqlite3) and migrate again to start over."
            )

    def _report(self, run) -> None:
        summary = run.summary
        self.stdout.write(
            f"{run.spec.name} ({run.spec.slug}): {summary['claims']:,} claims, "
            f"{run.counts['patients']:,} patients, {summary['transactions']:,} ledger transactions"
        )
        statuses = "  ".join(
            f"{ClaimStatus(status).label.lower()} {count:,}"
            for status, count in summary["claims_by_status"].items()
            if count
        )
        self.stdout.write(f"  by status: {statuses}")
        totals = summary["totals"]
        money_line = "  ".join(f"{b.replace('_', ' ')} ${Decimal(totals[b]):,}" for b in Balances.BUCKETS)
        self.stdout.write(f"  {money_line}")
