"""Importing X12 files: read the file, decide its kind, hand it to the applier of that kind, keep the
file; applied whole or not at all, once.

``x12_import`` is the one entry point for the upload page, the API, the ``import_x12`` command and
the SFTP pick-up task. A refused file is kept with its error and changes nothing else. What a file
changes is its applier's business: ``claims.edi.acknowledgments`` (999, 277CA) and
``claims.remittances.posting`` (835), registered with ``register_applier``."""

import dataclasses
import hashlib
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone

from claims.edi.reader import Interchange, X12Error, parse, transaction_kind
from claims.edi.validation import validate_x12
from claims.models import X12File, X12FileKind, X12FileStatus
from claims.tasks import validate_x12_file
from rcm.models import Provider
from rcm.outbox import task_enqueue
from rcm.roles import role_can

# What an import counted, in words, singular and plural, in the order the appliers count them (whatever
# order the database kept the keys in: PostgreSQL's jsonb sorts them).
OUTCOME_WORDS = {
    "remittances": ("remittance", "remittances"),
    "claims_posted": ("claim posted", "claims posted"),
    "exceptions": ("exception", "exceptions"),
    "batches_accepted": ("batch accepted", "batches accepted"),
    "batches_rejected": ("batch rejected", "batches rejected"),
    "claims_accepted": ("claim accepted", "claims accepted"),
    "claims_rejected": ("claim rejected", "claims rejected"),
}
OUTCOME_ORDER = tuple(OUTCOME_WORDS)


def outcome_words(outcome: dict | None) -> list[str]:
    """``{"claims_rejected": 1, "claims_accepted": 2}`` -> ``["2 claims accepted", "1 claim rejected"]``, in
    ``OUTCOME_ORDER``; a count of another kind comes last, in words from its key."""
    keys = sorted(outcome or {}, key=lambda key: (OUTCOME_ORDER + (key,)).index(key))
    words = []
    for key in keys:
        count = outcome[key]
        fallback = key.replace("_", " ")
        singular, plural = OUTCOME_WORDS.get(key, (fallback, fallback))
        words.append(f"{count} {singular if count == 1 else plural}")
    return words


@dataclasses.dataclass
class ImportResult:
    file: X12File
    duplicate: bool = False
    validation_queued: bool = False  # pyx12's check waits in the outbox for a worker

    @property
    def applied(self) -> bool:
        return self.file.status == X12FileStatus.APPLIED

    @property
    def message(self) -> str:
        if self.duplicate:
            return (
                f"{self.file.file_name}: this file was already imported on "
                f"{timezone.localtime(self.file.received_at):%m/%d/%Y %H:%M}; nothing was changed."
            )
        if not self.applied:
            return f"{self.file.file_name} was refused: {self.file.error} Nothing was changed."
        summary = ", ".join(outcome_words(self.file.outcome))
        queued = " Its X12 validation is queued." if self.validation_queued else ""
        return f"{self.file.file_name} ({self.file.get_kind_display()}) imported: {summary}.{queued}"


def max_upload_bytes() -> int:
    return settings.RCM_MAX_UPLOAD_MB * 1024 * 1024


def upload_refusal(name: str, size: int) -> str | None:
    """Why an uploaded file is refused before it is read (the page and the API alike), or None."""
    if size > max_upload_bytes():
        return f"{name} was refused: it is larger than {settings.RCM_MAX_UPLOAD_MB} MB. Nothing was changed."
    if size == 0:
        return f"{name} was refused: the file is empty. Nothing was changed."
    return None


def validation_findings(text: str) -> list[dict]:
    _ok, findings = validate_x12(text)
    return [f.as_dict() for f in findings][:200]


def x12_file_validate(*, x12_file: X12File) -> X12File:
    """Run pyx12 over a stored file and keep its findings (idempotent)."""
    X12File.objects.filter(pk=x12_file.pk).update(
        validation_findings=validation_findings(x12_file.content), validated_at=timezone.now()
    )
    x12_file.refresh_from_db()
    return x12_file


def _decode(content: bytes | str) -> str:
    if isinstance(content, str):
        return content
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("latin-1")


# The appliers by file kind, each ``(*, practice, interchanges, x12_file, user, now) -> counts``:
# acknowledgments (999, 277CA) and ERA posting (835) register theirs when the claims app is ready, so
# this module does not depend on what the files change.
APPLIERS: dict[str, Callable] = {}


def register_applier(kind: str, applier: Callable) -> None:
    """Add the applier of a file kind (``claims.apps``: 999 and 277CA acknowledgments, 835 posting)."""
    APPLIERS[kind] = applier


def postable_practices(request) -> list:
    """The practices the signed-in user may import files into (claims.edit there), current one first."""
    others = [
        m.practice
        for m in request.memberships
        if role_can(m.role, "claims.edit") and m.practice_id != request.practice.pk
    ]
    return [request.practice, *others]


def _payee_practice(interchanges: list[Interchange], candidates):
    """For an 835: the practice among ``candidates`` that its payee (N1*PE NPI or TIN) names, or None."""
    payees = set()
    for interchange in interchanges:
        for ts in interchange.transactions():
            party = ""
            for segment in ts.segments:
                if segment.id == "N1":
                    party = segment.get(1)
                    if party == "PE" and segment.get(4):
                        payees.add(segment.get(4))
                elif segment.id == "REF" and party == "PE" and segment.get(1) == "TJ":
                    payees.add(segment.get(2))
                elif segment.id == "LX":
                    break
    by_provider = set(
        Provider.objects.filter(practice__in=candidates, npi__in=payees).values_list("practice_id", flat=True)
    )
    for candidate in candidates:
        if candidate.npi in payees or candidate.tax_id in payees or candidate.pk in by_provider:
            return candidate
    return None


def x12_import(
    *,
    practice,
    file_name: str,
    content: bytes | str,
    user=None,
    source: str = "upload",
    validate: bool = True,
    candidates=None,
    now=None,
    _retried: bool = False,
) -> ImportResult:
    """Read, keep and apply one X12 file for ``practice``.

    Guarantees: the file is stored (applied or refused, with the reason); an applied file changed
    everything it describes, a refused one nothing; the same content is applied at most once per
    practice, even when two imports race (the second reports a duplicate). For an 835 the payee picks
    the practice among ``candidates`` (the practices the user may import into; default ``practice``):
    a file for none of them is refused. ``now`` (default: the current time) dates the file and everything
    applying it writes."""
    arguments = {
        "practice": practice,
        "file_name": file_name,
        "content": content,
        "user": user,
        "source": source,
        "validate": validate,
        "candidates": candidates,
        "now": now,
    }
    now = now or timezone.now()
    queued = False
    text = _decode(content)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    by = user if user is not None and getattr(user, "is_authenticated", False) else None
    earlier = X12File.objects.filter(practice=practice, sha256=digest, status=X12FileStatus.APPLIED).first()
    if earlier is not None:
        return ImportResult(file=earlier, duplicate=True)
    record = X12File(
        practice=practice,
        file_name=file_name.replace("\x00", "")[:255],
        # A text column cannot hold NUL (PostgreSQL refuses it): a binary or UTF-16 file is kept without
        # them, and refused below.
        content=text.replace("\x00", ""),
        sha256=digest,
        received_by=by,
        source=source,
        received_at=now,
    )
    try:
        if "\x00" in text:
            raise X12Error(
                "This is not an X12 text file: it holds NUL bytes (a binary file, or text saved as "
                "UTF-16). Save it as plain text (ASCII or UTF-8) and upload it again."
            )
        interchanges = parse(text)
        kind = transaction_kind(interchanges)
        record.kind = kind if kind in X12FileKind.values else ""
        if kind not in APPLIERS:
            wanted = ", ".join(sorted(APPLIERS))
            raise X12Error(f"This file holds {kind} transactions; this import takes {wanted}.")
        if kind == X12FileKind.ERA_835 and candidates:
            chosen = _payee_practice(interchanges, candidates)
            if chosen is None:
                raise X12Error(
                    "This 835 pays a payee that is none of the practices you may post for; "
                    "nothing was posted."
                )
            if chosen.pk != practice.pk:
                earlier = X12File.objects.filter(
                    practice=chosen, sha256=digest, status=X12FileStatus.APPLIED
                ).first()
                if earlier is not None:
                    return ImportResult(file=earlier, duplicate=True)
                practice = record.practice = chosen
        record.warnings = [w for i in interchanges for w in i.warnings]
        if validate and len(text) <= settings.RCM_INLINE_VALIDATION_CHARS:
            record.validation_findings = validation_findings(text)
            record.validated_at = timezone.now()
        with transaction.atomic():
            record.status = X12FileStatus.APPLIED
            record.save()
            record.outcome = APPLIERS[kind](
                practice=practice, interchanges=interchanges, x12_file=record, user=by, now=now
            )
            record.save(update_fields=["outcome"])
            if validate and record.validated_at is None:
                # pyx12 takes seconds per megabyte: a large ERA is posted now and checked in the
                # background; the outbox row commits with the posting, so no outage loses the check.
                task_enqueue(validate_x12_file, record.pk)
                queued = True
    except IntegrityError:
        earlier = X12File.objects.filter(
            practice=practice, sha256=digest, status=X12FileStatus.APPLIED
        ).first()
        if earlier is not None:
            return ImportResult(file=earlier, duplicate=True)
        if not _retried:
            # Another copy of the same payment (a re-wrapped ERA: other envelope, same TRN02) was posted
            # by a concurrent import that has now committed: read again, and this file is refused as a
            # later copy always is ("already posted"), and kept.
            return x12_import(**arguments, _retried=True)
        raise
    except DataError:
        # A number too large for its column (PostgreSQL checks; the readers cap what they know).
        record.pk = None
        record.status = X12FileStatus.REFUSED
        record.error = "A number in this file is too large (an amount or a count out of range)."
        record.outcome = {}
        record.save()
    except (X12Error, ValidationError) as exc:
        record.pk = None
        record.status = X12FileStatus.REFUSED
        record.error = str(exc) if isinstance(exc, X12Error) else "; ".join(exc.messages)
        record.outcome = {}
        record.save()
    return ImportResult(file=record, validation_queued=queued)
