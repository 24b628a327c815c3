import datetime

from django.core.management.base import BaseCommand, CommandError

from devdata.bench import BENCH_PASSWORD, BENCH_USERS, BenchOptions, bench_data_build


class Command(BaseCommand):
    help = (
        "Fill the database with N synthetic claims (about 2.5 lines each) and everything around them: "
        "practices, patients, coverages, payers and contracts, the ledger, status history, remittances "
        "and denials. For benchmarks: PostgreSQL COPY when available, batched INSERT elsewhere. "
        "Adds new practices (bench-001, bench-002, ...) each run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--claims", type=int, required=True, help="number of claims to make")
        parser.add_argument(
            "--practices", type=int, default=1, help="spread the claims over this many practices"
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--months", type=int, default=24, help="dates of service over this many months")
        parser.add_argument("--as-of", help="the day the data ends (YYYY-MM-DD; default today)")
        parser.add_argument(
            "--no-remittance-detail",
            action="store_true",
            help="skip remittance lines and adjustments (claim payments are still made)",
        )
        parser.add_argument(
            "--check",
            type=int,
            default=0,
            metavar="SAMPLE",
            help="afterwards, check the ledger identities on this many random claims",
        )

    def handle(
        self,
        *args,
        claims,
        practices,
        seed,
        months,
        as_of=None,
        no_remittance_detail=False,
        check=0,
        **options,
    ):
        if claims < 1 or practices < 1 or practices > claims:
            raise CommandError("--claims must be at least 1 and at least --practices.")
        options_ = BenchOptions(
            claims=claims,
            practices=practices,
            seed=seed,
            months=months,
            as_of=datetime.date.fromisoformat(as_of) if as_of else None,
            remittance_detail=not no_remittance_detail,
        )
        report = bench_data_build(options_, log=lambda message: self.stdout.write(message))
        for table, count in sorted(report.counts.items()):
            self.stdout.write(f"  {table:32} {count:>12,}")
        self.stdout.write(
            f"Made {claims:,} claims in {', '.join(report.practices)} in {report.seconds} s "
            f"({claims / max(report.seconds, 0.001):,.0f} claims/s). Phases: {report.phases}"
        )
        self.stdout.write(f"Logins (password {BENCH_PASSWORD}): {', '.join(BENCH_USERS)}")
        if check:
            from django.core.management import call_command

            call_command("bench_check", sample=check, seed=seed, stdout=self.stdout)
