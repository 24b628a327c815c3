from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from claims.scrubber.ncci import SAMPLE_MUE, SAMPLE_PTP, ncci_load


class Command(BaseCommand):
    help = (
        "Load CMS NCCI practitioner tables: PTP edits (tab-separated text) or MUE values (CSV), detected "
        "from the header. Each file applies whole or not at all; loading it again changes nothing. "
        "--sample loads the small sample tables shipped for tests and the demo."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*")
        parser.add_argument("--sample", action="store_true")

    def handle(self, *args, paths, sample, **options):
        files = [Path(p) for p in paths] + ([SAMPLE_PTP, SAMPLE_MUE] if sample else [])
        if not files:
            raise CommandError("Name at least one file, or use --sample.")
        for path in files:
            try:
                text = path.read_text(encoding="utf-8-sig", errors="strict")
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(f"{path}: cannot read it ({exc}).") from None
            try:
                kind, created, updated = ncci_load(text=text)
            except ValidationError as exc:
                raise CommandError(f"{path}: {exc.messages[0]} Nothing was loaded from this file.") from None
            self.stdout.write(f"{path.name}: {kind.upper()} — {created} added, {updated} changed.")
