from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from rcm.audit import audit_context
from rcm.services import api_token_issue


class Command(BaseCommand):
    help = "Issue a new API token for a user (revoking the old one) and print it."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        with audit_context(user=user, source="command"):
            token = api_token_issue(user=user)
        self.stdout.write(token.key)
