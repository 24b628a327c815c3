from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from claims.submission.batches import claims_submit
from rcm.audit import audit_context
from rcm.formats import count_text, money_text
from rcm.models import Payer, Practice


class Command(BaseCommand):
    help = (
        "Submit the practice's ready claims: scrub them again, build one 837P batch per payer "
        "(pyx12-validated), store it, write it into --out, and move the claims to submitted. "
        "Claims with scrubber errors are not submitted and are listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--practice", required=True, help="practice slug")
        parser.add_argument("--out", required=True, help="folder to write the .837 files into")
        parser.add_argument("--payer", help="only this payer's claims (payer ID as used in EDI)")

    def handle(self, *args, practice, out, payer=None, **options):
        target = Practice.objects.filter(slug=practice, is_active=True).first()
        if target is None:
            raise CommandError(f"No active practice with slug {practice!r}.")
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        payer_pk = None
        if payer:
            found = Payer.objects.filter(practice=target, payer_id=payer).first()
            if found is None:
                raise CommandError(f"The practice has no payer with payer ID {payer!r}.")
            payer_pk = found.pk
        try:
            with audit_context(source="command"):
                result = claims_submit(practice=target, payer_id=payer_pk)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        for batch in result.batches:
            (folder / batch.file_name).write_text(batch.content, encoding="ascii")
            self.stdout.write(
                f"{batch.file_name}: {count_text(batch.claim_count, 'claim')}, "
                f"{money_text(batch.total_charge)} ({batch.payer.name})"
            )
        for claim_id, reason in sorted(result.refused.items()):
            self.stdout.write(f"claim {claim_id} not submitted: {reason}")
        if not result.batches:
            self.stdout.write("No ready claims to submit.")
