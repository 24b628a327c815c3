import os

from django.core.management.base import BaseCommand, CommandError

from rcm.db_roles import app_role_apply, append_only_tables


class Command(BaseCommand):
    help = (
        "Create or align the PostgreSQL role the app runs as (rows only: no TRUNCATE, no ALTER, no UPDATE or "
        "DELETE on append-only tables). Run as the tables' owner after every migrate."
    )

    def add_arguments(self, parser):
        parser.add_argument("--role", default=os.environ.get("RCM_APP_DB_ROLE", "rcm_app"))
        parser.add_argument(
            "--password-env",
            default="RCM_APP_DB_PASSWORD",
            help="The environment variable with the role's password (unset: the password is unchanged).",
        )

    def handle(self, *args, role, password_env, **options):
        try:
            count = app_role_apply(role=role, password=os.environ.get(password_env) or None)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Role {role}: rows only ({count} statements); append-only: {', '.join(append_only_tables())}."
        )
