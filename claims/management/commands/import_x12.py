from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from claims.edi.intake import x12_import
from rcm.audit import audit_context
from rcm.models import Practice


class Command(BaseCommand):
    help = (
        "Import X12 files (999, 277CA, and 835 once remittance posting is installed) for a practice. "
        "The kind is detected from the file; each file applies whole or not at all, and only once."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+")
        parser.add_argument("--practice", required=True, help="practice slug")

    def handle(self, *args, files, practice, **options):
        target = Practice.objects.filter(slug=practice, is_active=True).first()
        if target is None:
            raise CommandError(f"No active practice with slug {practice!r}.")
        refused = 0
        with audit_context(source="command"):
            for name in files:
                path = Path(name)
                try:
                    content = path.read_bytes()
                except OSError as exc:
                    raise CommandError(f"{path}: cannot read it ({exc.strerror}).") from None
                result = x12_import(practice=target, file_name=path.name, content=content, source="command")
                self.stdout.write(result.message)
                refused += 0 if (result.applied or result.duplicate) else 1
        if refused:
            raise CommandError(f"{refused} of {len(files)} files were refused.")
