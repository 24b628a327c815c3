from django.core.management.base import BaseCommand, CommandError

from payment_plans.statements import statement_run
from rcm.audit import audit_context
from rcm.models import Practice


class Command(BaseCommand):
    help = (
        "Send today's patient statements: patients with a balance, no statement within the practice's cycle, "
        "not on hold or on a current plan. --dry-run lists who would get one. Safe to run twice a day."
    )

    def add_arguments(self, parser):
        parser.add_argument("--practice", help="practice slug (default: every active practice)")
        parser.add_argument(
            "--dry-run", action="store_true", help="say who would get a statement; send nothing"
        )

    def handle(self, *args, practice=None, dry_run=False, **options):
        practices = Practice.objects.filter(is_active=True).order_by("slug")
        if practice:
            practices = Practice.objects.filter(slug=practice)
            if not practices:
                raise CommandError(f"No practice with slug {practice!r}.")
        with audit_context(source="command"):
            for each in practices:
                result = statement_run(practice=each, dry_run=dry_run, progress=self._progress(each))
                self.stdout.write(f"{each.slug}: {result.summary}")

    def _progress(self, practice):
        def progress(chunk):
            self.stdout.write(
                f"{practice.slug}: part {chunk.number}: {chunk.sent} sent, {chunk.not_sent} not sent, "
                f"{chunk.failed} failed"
            )

        return progress
