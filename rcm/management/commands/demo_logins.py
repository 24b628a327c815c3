from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from rcm.demo import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Print the demo logins that exist in this database."

    def handle(self, *args, **options):
        existing = set(
            get_user_model()
            .objects.filter(username__in=[u[0] for u in DEMO_USERS])
            .values_list("username", flat=True)
        )
        if not existing:
            self.stdout.write("  No demo users in this database (run: python manage.py seed_demo).")
            return
        self.stdout.write(f"  Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, _first, _last, role in DEMO_USERS:
            if username in existing:
                self.stdout.write(f"    {username:<12} {role.label}")
