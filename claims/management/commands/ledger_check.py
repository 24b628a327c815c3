from django.core.management.base import BaseCommand, CommandError

from claims.ledger import ledger_check, ledger_rebuild
from rcm.models import Practice


class Command(BaseCommand):
    help = (
        "Check that every cached balance equals what the ledger says and that "
        "charge = payments + adjustments + write-offs + balance holds on every line; "
        "--rebuild rewrites the cache."
    )

    def add_arguments(self, parser):
        parser.add_argument("--practice", help="practice slug (default: all practices)")
        parser.add_argument(
            "--rebuild", action="store_true", help="recompute cached balances from the ledger"
        )

    def handle(self, *args, practice=None, rebuild=False, **options):
        scope = None
        if practice:
            scope = Practice.objects.filter(slug=practice).first()
            if scope is None:
                raise CommandError(f"No practice with slug {practice!r}.")
        if rebuild:
            count = ledger_rebuild(practice=scope)
            self.stdout.write(f"Rebuilt cached balances of {count} lines from the ledger.")
        problems = ledger_check(practice=scope)
        for problem in problems[:50]:
            self.stdout.write(problem)
        if problems:
            raise CommandError(
                f"{len(problems)} balance problems found (run with --rebuild to repair the cache)."
            )
        self.stdout.write("Ledger and cached balances agree.")
