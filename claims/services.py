"""Writes on claims: charge entry (draft claims with lines and charges) and status moves.

Validation errors are raised as ``ValidationError`` keyed by the field that is wrong
(``diagnosis_codes``, ``lines[2].charge`` ...), with a message that says why. Nothing is saved
unless everything is valid.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from claims.ledger import Entry, ledger_post, ledger_post_many, money, transaction_reverse
from claims.models import (
    Claim,
    ClaimLine,
    ClaimStatus,
    FrequencyCode,
    Party,
    ScrubStatus,
    Transaction,
    TransactionKind,
    TransactionSource,
)
from claims.state_machine import claim_transition, claim_transition_many
from rcm.audit import audit_creations, audit_records_bulk
from rcm.bulk import bulk_insert_with_ids, bulk_update_values
from rcm.formats import day_text, money_text
from rcm.models import Coverage, Patient, Provider
from rcm.practice_cache import claims_changed
from rcm.sequences import sequence_next
from rcm.validators import (
    icd10_problem,
    normalize_icd10,
    validate_modifier,
    validate_place_of_service,
    validate_procedure_code,
)

MAX_DIAGNOSES = 12
MAX_MODIFIERS = 4
MAX_POINTERS = 4
MAX_LINES = 50
# Sane maxima: far above any physician charge, well inside the columns (a line's charge and the claim's
# total hold 12 digits, units 9 with 3 places) and X12's amounts, so an absurd entry is refused with its
# reason instead of overflowing the database.
MAX_LINE_CHARGE = Decimal("999999.99")
MAX_CLAIM_CHARGE = Decimal("9999999.99")
MAX_UNITS = Decimal("9999")


@dataclass
class LineInput:
    procedure_code: str
    charge: Decimal | str
    service_date_from: datetime.date
    service_date_to: datetime.date | None = None
    units: Decimal | str | int = 1
    modifiers: list[str] = field(default_factory=list)
    diagnosis_pointers: list[int] = field(default_factory=lambda: [1])


def _as_decimal(value, name: str, errors: dict):
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[name] = f"{value!r} is not a number."
        return None
    if not number.is_finite():
        errors[name] = f"{value!r} is not a number."
        return None
    return number


def _validate_diagnoses(codes, errors) -> list[str]:
    normalized = [normalize_icd10(code) for code in codes or []]
    if not normalized:
        errors["diagnosis_codes"] = "A claim needs at least one diagnosis code."
    elif len(normalized) > MAX_DIAGNOSES:
        errors["diagnosis_codes"] = (
            f"A claim has at most {MAX_DIAGNOSES} diagnosis codes; {len(normalized)} given."
        )
    else:
        problems = [p for p in (icd10_problem(code) for code in normalized) if p]
        if problems:
            errors["diagnosis_codes"] = " ".join(problems)
        elif len(set(normalized)) != len(normalized):
            errors["diagnosis_codes"] = "A diagnosis code is listed twice."
    return normalized


def _validate_line(index: int, line: LineInput, diagnosis_count: int, today, errors) -> dict | None:
    prefix = f"lines[{index}]"
    code = (line.procedure_code or "").strip().upper()
    try:
        validate_procedure_code(code)
    except ValidationError as exc:
        errors[f"{prefix}.procedure_code"] = exc.messages[0]
    modifiers = [m.strip().upper() for m in line.modifiers or [] if m and m.strip()]
    if len(modifiers) > MAX_MODIFIERS:
        errors[f"{prefix}.modifiers"] = (
            f"A line has at most {MAX_MODIFIERS} modifiers; {len(modifiers)} given."
        )
    else:
        for modifier in modifiers:
            try:
                validate_modifier(modifier)
            except ValidationError as exc:
                errors[f"{prefix}.modifiers"] = exc.messages[0]
    units = _as_decimal(line.units, f"{prefix}.units", errors)
    if units is not None and units < 1:
        errors[f"{prefix}.units"] = f"Units must be at least 1 (got {units})."
    elif units is not None and units > MAX_UNITS:
        errors[f"{prefix}.units"] = f"Units must be at most {MAX_UNITS} (got {units})."
    elif units is not None and units != units.quantize(Decimal("0.001")):
        errors[f"{prefix}.units"] = f"Units have at most 3 decimal places (got {units})."
    charge = _as_decimal(line.charge, f"{prefix}.charge", errors)
    if charge is not None and charge <= 0:
        errors[f"{prefix}.charge"] = f"The charge must be greater than zero (got {money_text(charge)})."
    elif charge is not None and charge > MAX_LINE_CHARGE:
        errors[f"{prefix}.charge"] = (
            f"A line's charge must be at most {money_text(MAX_LINE_CHARGE)} (got {money_text(charge)})."
        )
    start, end = line.service_date_from, line.service_date_to or line.service_date_from
    if start is None:
        errors[f"{prefix}.service_date_from"] = "The date of service is required."
    else:
        if end < start:
            errors[f"{prefix}.service_date_to"] = "The last date of service is before the first."
        if start > today:
            errors[f"{prefix}.service_date_from"] = f"The date of service {start} is in the future."
    pointers = list(line.diagnosis_pointers or [])
    if not pointers:
        errors[f"{prefix}.diagnosis_pointers"] = "Point the line at 1 to 4 of the claim's diagnoses."
    elif len(pointers) > MAX_POINTERS:
        errors[f"{prefix}.diagnosis_pointers"] = f"A line points at most at {MAX_POINTERS} diagnoses."
    elif any(not isinstance(p, int) or p < 1 or p > diagnosis_count for p in pointers):
        bad = next(p for p in pointers if not isinstance(p, int) or p < 1 or p > diagnosis_count)
        errors[f"{prefix}.diagnosis_pointers"] = (
            f"Pointer {bad} does not point at a diagnosis: the claim has {diagnosis_count}."
        )
    elif len(set(pointers)) != len(pointers):
        errors[f"{prefix}.diagnosis_pointers"] = "A diagnosis pointer is repeated."
    if any(key.startswith(prefix) for key in errors):
        return None
    return {
        "procedure_code": code,
        "modifiers": modifiers,
        "units": units,
        "charge": money(charge),
        "service_date_from": start,
        "service_date_to": end,
        "diagnosis_pointers": pointers,
    }


def _validate_claim_body(
    *,
    practice,
    billing_provider,
    rendering_provider,
    place_of_service,
    diagnosis_codes,
    lines,
    today,
    errors: dict,
) -> tuple[list[str], list[dict | None]]:
    """The checks charge entry and editing share: providers of the practice, place of service, diagnoses
    and lines. Adds to ``errors``; returns the normalized codes and lines."""
    for name, provider in (
        ("billing_provider", billing_provider),
        ("rendering_provider", rendering_provider),
    ):
        if provider is not None and provider.practice_id != practice.pk:
            errors[name] = "The provider belongs to another practice."
    try:
        validate_place_of_service(place_of_service)
    except ValidationError as exc:
        errors["place_of_service"] = exc.messages[0]
    codes = _validate_diagnoses(diagnosis_codes, errors)
    if not lines:
        errors["lines"] = "A claim needs at least one service line."
    elif len(lines) > MAX_LINES:
        errors["lines"] = f"A claim has at most {MAX_LINES} lines."
    clean_lines = [
        _validate_line(i, line, len(codes), today, errors) for i, line in enumerate(lines or [], 1)
    ]
    total = sum((line["charge"] for line in clean_lines if line), Decimal("0"))
    if total > MAX_CLAIM_CHARGE:
        errors["lines"] = f"A claim's charges add up to at most ${MAX_CLAIM_CHARGE:,} (these: ${total:,})."
    return codes, clean_lines


@dataclass
class ClaimDraft:
    """One visit's claim as charge entry receives it (see ``claims_create_many``)."""

    patient: Patient
    coverage: Coverage | None
    billing_provider: Provider
    diagnosis_codes: list[str]
    lines: list[LineInput]
    rendering_provider: Provider | None = None
    place_of_service: str = "11"
    prior_authorization: str = ""
    frequency_code: str = FrequencyCode.ORIGINAL
    original_claim: Claim | None = None


def _check_draft(
    practice, draft: ClaimDraft, today: datetime.date
) -> tuple[dict, list[str], list[dict | None]]:
    """Every check of charge entry on one draft: (errors by field, normalized codes, normalized lines)."""
    errors: dict[str, str] = {}
    patient, coverage, original_claim = draft.patient, draft.coverage, draft.original_claim
    if patient.practice_id != practice.pk:
        errors["patient"] = "The patient belongs to another practice."
    if coverage is not None:
        if coverage.practice_id != practice.pk:
            errors["coverage"] = "The coverage belongs to another practice."
        elif coverage.patient_id != patient.pk:
            errors["coverage"] = "The coverage belongs to another patient."
    if draft.frequency_code not in FrequencyCode.values:
        errors["frequency_code"] = f"Frequency code {draft.frequency_code!r} must be 1 (original), 7 or 8."
    elif draft.frequency_code != FrequencyCode.ORIGINAL:
        if original_claim is None or original_claim.practice_id != practice.pk:
            errors["original_claim"] = "A corrected or void claim must name the claim it replaces."
        elif not original_claim.payer_claim_number:
            errors["original_claim"] = (
                "The claim being replaced has no payer claim number yet (REF*F8 needs it)."
            )
    codes, clean_lines = _validate_claim_body(
        practice=practice,
        billing_provider=draft.billing_provider,
        rendering_provider=draft.rendering_provider,
        place_of_service=draft.place_of_service,
        diagnosis_codes=draft.diagnosis_codes,
        lines=draft.lines,
        today=today,
        errors=errors,
    )
    return errors, codes, clean_lines


def claim_create(*, practice, user=None, created_at: datetime.datetime | None = None, **fields) -> Claim:
    """Create a draft claim with its lines and post one charge per line (``fields`` are those of
    ``ClaimDraft``).

    Guarantees: every reference belongs to ``practice`` (and the coverage to the patient); diagnoses are
    1-12 billable ICD-10-CM codes; lines have valid codes, at most 4 modifiers, units >= 1, a positive
    charge and pointers to existing diagnoses. Otherwise ValidationError keyed by field and nothing is
    saved."""
    draft = ClaimDraft(**fields)
    created_at = created_at or timezone.now()
    errors, codes, clean_lines = _check_draft(practice, draft, timezone.localdate(created_at))
    if errors:
        raise ValidationError(errors)
    ((claim, _lines),) = _insert_drafts(
        practice, [(draft, codes, clean_lines)], user=user, created_at=created_at
    )
    return claim


def claims_create_many(
    *, practice, drafts: list[ClaimDraft], user=None, created_at: datetime.datetime | None = None
) -> list[tuple[Claim, list[ClaimLine]]]:
    """Charge entry of a batch of visits (a day's charges, an import): the same checks and effects as
    ``claim_create`` for each draft, written with one insert of the claims, one of their lines and one
    ledger posting. All or nothing: errors are keyed ``claims[i].field`` (i from 1) and nothing is saved.
    Returns (claim, lines in line order) per draft, in the order given."""
    created_at = created_at or timezone.now()
    today = timezone.localdate(created_at)
    checked, errors = [], {}
    for index, draft in enumerate(drafts, 1):
        draft_errors, codes, clean_lines = _check_draft(practice, draft, today)
        errors.update({f"claims[{index}].{name}": message for name, message in draft_errors.items()})
        checked.append((draft, codes, clean_lines))
    if errors:
        raise ValidationError(errors)
    return _insert_drafts(practice, checked, user=user, created_at=created_at)


def _insert_drafts(practice, checked, *, user, created_at) -> list[tuple[Claim, list[ClaimLine]]]:
    """Write validated drafts: numbers from the practice's claim sequence, the claims, their lines, the
    charges (through the ledger) and, when auditing is on, one create event per claim."""
    if not checked:
        return []
    by = user if user is not None and user.is_authenticated else None
    with transaction.atomic():
        numbers = sequence_next(practice=practice, name="claim", count=len(checked))
        claims = []
        for number, (draft, codes, clean_lines) in zip(numbers, checked, strict=True):
            coverage, original = draft.coverage, draft.original_claim
            claims.append(
                Claim(
                    practice=practice,
                    patient=draft.patient,
                    coverage=coverage,
                    payer_id=coverage.payer_id if coverage else None,
                    billing_provider=draft.billing_provider,
                    rendering_provider=draft.rendering_provider,
                    place_of_service=draft.place_of_service,
                    frequency_code=draft.frequency_code,
                    original_claim=original,
                    prior_authorization=draft.prior_authorization.strip(),
                    patient_control_number=f"{practice.pk:03d}{number:09d}",
                    payer_claim_number=original.payer_claim_number if original else "",
                    diagnosis_codes=codes,
                    status=ClaimStatus.DRAFT,
                    status_changed_at=created_at,
                    service_date=min(line["service_date_from"] for line in clean_lines),
                    created_at=created_at,
                    created_by=by,
                )
            )
        bulk_insert_with_ids(Claim, claims)
        lines = bulk_insert_with_ids(
            ClaimLine,
            [
                ClaimLine(
                    practice=practice,
                    claim=claim,
                    line_number=i,
                    line_control_number=f"{claim.patient_control_number}-{i}",
                    **values,
                )
                for claim, (_draft, _codes, clean_lines) in zip(claims, checked, strict=True)
                for i, values in enumerate(clean_lines, 1)
            ],
        )
        lines_of: dict[int, list[ClaimLine]] = {claim.pk: [] for claim in claims}
        for line in lines:
            lines_of[line.claim_id].append(line)
        ledger_post_many(
            postings=[
                (
                    claim,
                    [
                        Entry(
                            line=line,
                            kind=TransactionKind.CHARGE,
                            amount=line.charge,
                            party=Party.INSURANCE if claim.coverage_id else Party.PATIENT,
                            effective_date=line.service_date_from,
                        )
                        for line in lines_of[claim.pk]
                    ],
                    claim.patient_control_number,
                )
                for claim in claims
            ],
            user=user,
            source=TransactionSource.CHARGE_ENTRY,
            posted_at=created_at,
            need_ids=False,
            preloaded=({claim.pk: claim for claim in claims}, {line.pk: line for line in lines}),
        )
        audit_creations(claims)
    return [(claim, lines_of[claim.pk]) for claim in claims]


EDITABLE = (ClaimStatus.DRAFT, ClaimStatus.READY, ClaimStatus.CORRECTED, ClaimStatus.REJECTED)


def claim_update(
    *,
    claim: Claim,
    coverage: Coverage | None,
    billing_provider: Provider,
    rendering_provider: Provider | None,
    diagnosis_codes: list[str],
    lines: list[LineInput],
    place_of_service: str = "11",
    prior_authorization: str = "",
    user=None,
) -> Claim:
    """Edit a claim that has not been adjudicated (draft, ready, rejected or being corrected).

    Lines are matched by position: a changed charge is reversed and posted again, a line no longer
    given is removed (its charge reversed), a new line gets the next line number. A ready claim goes
    back to draft and a rejected one to corrected: it must be scrubbed again. Same validation as
    ``claim_create``; on any error nothing changes."""
    if claim.status not in EDITABLE:
        raise ValidationError(
            f"Claim {claim.patient_control_number} is {claim.get_status_display().lower()}: "
            "only drafts, ready, rejected and corrected claims can be edited. "
            "To change an adjudicated claim, create a corrected claim."
        )
    errors: dict[str, str] = {}
    practice = claim.practice
    if coverage is not None and (
        coverage.practice_id != practice.pk or coverage.patient_id != claim.patient_id
    ):
        errors["coverage"] = "The coverage belongs to another patient or practice."
    codes, clean_lines = _validate_claim_body(
        practice=practice,
        billing_provider=billing_provider,
        rendering_provider=rendering_provider,
        place_of_service=place_of_service,
        diagnosis_codes=diagnosis_codes,
        lines=lines,
        today=timezone.localdate(),
        errors=errors,
    )
    if errors:
        raise ValidationError(errors)

    party = Party.INSURANCE if coverage is not None else Party.PATIENT
    with transaction.atomic():
        locked = Claim.objects.select_for_update().get(pk=claim.pk)
        if locked.status not in EDITABLE:
            raise ValidationError(
                f"Claim {locked.patient_control_number} changed status meanwhile; reload it."
            )
        if locked.status == ClaimStatus.REJECTED:
            claim_transition(
                claim=locked, to_status=ClaimStatus.CORRECTED, user=user, reason="edited after rejection"
            )
        elif locked.status == ClaimStatus.READY:
            claim_transition(claim=locked, to_status=ClaimStatus.DRAFT, user=user, reason="edited")
        active = list(locked.lines.filter(removed=False).order_by("line_number"))
        next_number = (
            locked.lines.order_by("-line_number").values_list("line_number", flat=True).first() or 0
        ) + 1
        new_charges = []
        for index, values in enumerate(clean_lines):
            if index < len(active):
                line = active[index]
                charge_changed = line.charge != values["charge"]
                for field_name, value in values.items():
                    setattr(line, field_name, value)
                line.save()
                if charge_changed or _charge_party(line) != party:
                    for charge in line.transactions.filter(
                        kind=TransactionKind.CHARGE, reversed_by__isnull=True
                    ):
                        transaction_reverse(
                            original=charge,
                            user=user,
                            note="charge changed in editing",
                            source=TransactionSource.CHARGE_ENTRY,
                        )
                    new_charges.append(line)
            else:
                line = ClaimLine.objects.create(
                    practice=practice,
                    claim=locked,
                    line_number=next_number,
                    line_control_number=f"{locked.patient_control_number}-{next_number}",
                    **values,
                )
                next_number += 1
                new_charges.append(line)
        for line in active[len(clean_lines) :]:
            for charge in line.transactions.filter(kind=TransactionKind.CHARGE, reversed_by__isnull=True):
                transaction_reverse(
                    original=charge,
                    user=user,
                    note="line removed in editing",
                    source=TransactionSource.CHARGE_ENTRY,
                )
            line.removed = True
            line.save(update_fields=["removed"])
        ledger_post(
            claim=locked,
            entries=[
                Entry(
                    line=line,
                    kind=TransactionKind.CHARGE,
                    amount=line.charge,
                    party=party,
                    effective_date=line.service_date_from,
                )
                for line in new_charges
            ],
            user=user,
            source=TransactionSource.CHARGE_ENTRY,
            source_reference=locked.patient_control_number,
        )
        locked.refresh_from_db()
        locked.coverage = coverage
        locked.payer_id = coverage.payer_id if coverage else None
        locked.billing_provider = billing_provider
        locked.rendering_provider = rendering_provider
        locked.place_of_service = place_of_service
        locked.prior_authorization = prior_authorization.strip()
        locked.diagnosis_codes = codes
        locked.service_date = min(values["service_date_from"] for values in clean_lines)
        if locked.scrub_status == ScrubStatus.ERRORS:
            locked.edited_after_scrub = True
        locked.scrub_status = ScrubStatus.NOT_SCRUBBED
        locked.save()
        claims_changed([locked.practice_id])
    return locked


def _charge_party(line: ClaimLine) -> str | None:
    charge = line.transactions.filter(kind=TransactionKind.CHARGE, reversed_by__isnull=True).first()
    return charge.party if charge else None


SECONDARY_BILLING_NOTE = "moved back to insurance for secondary billing"


def claim_bill_secondary(*, claim: Claim, user=None, now: datetime.datetime | None = None) -> Claim:
    """Bill the balance the primary left to the patient's secondary coverage (one claim of
    ``claims_bill_secondary``); ValidationError naming the claim when it cannot be billed."""
    _billed, refused = claims_bill_secondary(
        practice=claim.practice, claim_ids=[claim.pk], user=user, now=now
    )
    if refused:
        raise ValidationError(refused[claim.pk])
    return Claim.objects.get(pk=claim.pk)


def claims_bill_secondary(
    *, practice, claim_ids: list[int], user=None, now: datetime.datetime | None = None
) -> tuple[list[int], dict[int, str]]:
    """Bill secondaries: each forwarded claim's balance goes to the patient's secondary coverage.

    Guarantees, per claim: it was forwarded with ``secondary_pending``; the next coverage by priority
    active on the date of service becomes the claim's coverage and payer; the primary's transfers to
    patient responsibility are reversed (the amounts wait for the secondary on the insurance side, and
    the 837 still reports them as the primary's adjudication); the claim goes to ready, to be scrubbed
    and submitted. Claims that cannot be billed are left as they were. Returns (ids billed, reason per
    id refused). A batch costs the same number of queries as one claim plus one posting per payer."""
    now = now or timezone.now()
    refused: dict[int, str] = {}
    with transaction.atomic():
        claims = list(
            Claim.objects.select_for_update(of=("self",))
            .select_related("coverage")
            .filter(practice=practice, pk__in=claim_ids)
            .order_by("pk")
        )
        for missing in sorted(set(claim_ids) - {c.pk for c in claims}):
            refused[missing] = f"Claim id {missing} is not a claim of this practice."
        waiting = []
        for claim in claims:
            if claim.secondary_pending and claim.status == ClaimStatus.FORWARDED:
                waiting.append(claim)
            else:
                refused[claim.pk] = (
                    f"Claim {claim.patient_control_number} is not waiting for secondary billing."
                )
        coverages = defaultdict(list)
        for coverage in (
            Coverage.objects.filter(patient_id__in={c.patient_id for c in waiting})
            .select_related("payer")
            .order_by("priority", "pk")
        ):
            coverages[coverage.patient_id].append(coverage)
        billed: dict[int, tuple[Claim, Coverage]] = {}
        for claim in waiting:
            secondary = next(
                (
                    c
                    for c in coverages[claim.patient_id]
                    if c.priority > claim.coverage.priority and c.is_active_on(claim.service_date)
                ),
                None,
            )
            if secondary is None:
                refused[claim.pk] = (
                    f"Claim {claim.patient_control_number}: the patient has no secondary coverage "
                    f"active on {day_text(claim.service_date)}; bill the patient instead."
                )
            else:
                billed[claim.pk] = (claim, secondary)
        if not billed:
            return [], refused
        reversals = defaultdict(list)
        for transfer in (
            Transaction.objects.filter(
                claim_id__in=billed, kind=TransactionKind.TRANSFER_TO_PATIENT, reversed_by__isnull=True
            )
            .select_related("line")
            .order_by("pk")
        ):
            if (
                transfer.payer_id == billed[transfer.claim_id][0].payer_id
            ):  # the primary's, not a later payer's
                reversals[transfer.claim_id].append(
                    Entry(
                        line=transfer.line,
                        kind=TransactionKind.REVERSAL,
                        amount=transfer.amount,
                        reverses=transfer,
                        note=SECONDARY_BILLING_NOTE,
                    )
                )
        ledger_post_many(
            postings=[(claim, reversals[pk], "") for pk, (claim, _s) in billed.items()],
            user=user,
            source=TransactionSource.USER,
            posted_at=now,
            need_ids=False,
        )
        events, by_payer = [], defaultdict(list)
        for claim, secondary in billed.values():
            events.append(
                {
                    "action": "update",
                    "practice_id": practice.pk,
                    "object_type": "claims.claim",
                    "object_id": claim.pk,
                    "changes": {
                        "coverage_id": [claim.coverage_id, secondary.pk],
                        "payer_id": [claim.payer_id, secondary.payer_id],
                    },
                }
            )
            claim.coverage, claim.payer, claim.secondary_pending = secondary, secondary.payer, False
            by_payer[secondary.payer].append(claim.pk)
        bulk_update_values(
            Claim, [claim for claim, _s in billed.values()], ["coverage", "payer", "secondary_pending"]
        )
        audit_records_bulk(events, user=user)
        for payer, ids in by_payer.items():
            claim_transition_many(
                claim_ids=ids,
                to_status=ClaimStatus.READY,
                user=user,
                reason=f"billing the secondary: {payer.name}",
                at=now,
            )
    return sorted(billed), refused
