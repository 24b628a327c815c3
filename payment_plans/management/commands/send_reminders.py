"""``python manage.py send_reminders [--practice SLUG] [--dry-run]``: the daily reminder job, now."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from payment_plans.reminders.services import reminders_run_all
from rcm.audit import audit_context


class Command(BaseCommand):
    help = (
        "Detect missed installments, update plan statuses and send the reminders due (the daily job). "
        "Nothing is sent twice, however often it runs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--practice", help="Only this practice (its slug).")
        parser.add_argument("--dry-run", action="store_true", help="Show what would be sent; change nothing.")

    def handle(self, *args, practice=None, dry_run=False, **options):
        try:
            with audit_context(source="command"):
                results = reminders_run_all(practice_slug=practice, dry_run=dry_run)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        for result in results:
            self.stdout.write(result.summary())
