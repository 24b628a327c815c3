from django.core.management.base import BaseCommand, CommandError

from devdata.bench import bench_check


class Command(BaseCommand):
    help = (
        "Check benchmark (or any) data on a random sample of claims: cached balances equal the ledger "
        "(claims.ledger.ledger_check), charge = payments + adjustments + write-offs + balance on every line, "
        "status history ends in the claim's status, no row points at a missing parent, number sequences "
        "sit past the numbers in use."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sample", type=int, default=2000, help="claims to check (at random)")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, sample, seed, **options):
        report = bench_check(sample=sample, seed=seed)
        for line in report.lines:
            self.stdout.write(line)
        if report.problems:
            for problem in report.problems[:50]:
                self.stdout.write(f"PROBLEM {problem}")
            raise CommandError(f"{len(report.problems)} problems found.")
        self.stdout.write("Benchmark data passes the checks.")
