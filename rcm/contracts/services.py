"""Writes for payers and their contracts. Each service validates everything first and raises a
``ValidationError`` that names the field, so a refused change saves nothing; the ``post_save`` audit receiver
writes what changed (bulk row copies are written as one audit event).

One payer has one contract in force on any date: an overlapping contract is refused, because which contract
prices a line must never be a tie-break. A new rate year is a new contract from its effective date (the old
one ends the day before, its terms and rows untouched), so claims of earlier dates keep their
expected amounts. A % of base contract names a base payer, not one of its contracts: the base payer's
contract in force on each date of service is the base, so the base payer's new rate year needs no edit of
the contracts based on it."""

import datetime
import re

from django.core.exceptions import ValidationError
from django.db import transaction

from rcm.audit import audit_record
from rcm.models import AuditAction, FeeScheduleRow, Payer, PayerContract, PricingMethod
from rcm.practice_cache import KPI_FIGURES, practice_changed
from rcm.validators import validate_procedure_code

PAYER_FIELDS = (
    "name",
    "payer_id",
    "kind",
    "address_line1",
    "city",
    "state",
    "postal_code",
    "phone",
    "no_response_days",
    "is_active",
)
CONTRACT_FIELDS = (
    "name",
    "effective_date",
    "end_date",
    "in_network",
    "timely_filing_days",
    "appeal_limit_days",
    "prior_auth_codes",
    "pricing_method",
    "base_payer",
    "percent",
    "multiple_procedure_reduction_percent",
    "underpayment_tolerance_amount",
    "underpayment_tolerance_percent",
    "notes",
    "renegotiation_date",
)
# X12 NM109 for a payer: letters and digits (some clearinghouses add dashes).
_PAYER_ID_RE = re.compile(r"^[A-Za-z0-9-]{2,20}$")
ONE_DAY = datetime.timedelta(days=1)


def _date(day: datetime.date | None) -> str:
    return day.strftime("%m/%d/%Y") if day else "open-ended"


def _unknown_fields(fields: dict, allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise TypeError(f"Unknown fields: {', '.join(unknown)}")


# --- Payers ------------------------------------------------------------------------------------


def _payer_check(payer: Payer) -> None:
    payer.payer_id = (payer.payer_id or "").strip().upper()
    payer.name = (payer.name or "").strip()
    payer.full_clean(exclude=["practice"], validate_constraints=False)
    if not _PAYER_ID_RE.match(payer.payer_id):
        raise ValidationError(
            {
                "payer_id": f"Payer ID {payer.payer_id!r} must be 2 to 20 letters, digits or dashes "
                "(the EDI id)."
            }
        )
    taken = (
        Payer.objects.filter(practice_id=payer.practice_id, payer_id=payer.payer_id)
        .exclude(pk=payer.pk)
        .first()
    )
    if taken is not None:
        raise ValidationError({"payer_id": f"Payer ID {payer.payer_id} is already used by {taken.name}."})


@transaction.atomic
def payer_create(*, practice, **fields) -> Payer:
    """A new payer of ``practice``; its EDI payer ID is unique in the practice."""
    _unknown_fields(fields, PAYER_FIELDS)
    payer = Payer(practice=practice, **fields)
    _payer_check(payer)
    payer.save()
    practice_changed([practice.pk], KPI_FIGURES)  # cached KPI figures name the payers
    return payer


@transaction.atomic
def payer_update(*, payer: Payer, **fields) -> Payer:
    """Change the payer's fields; nothing is saved when any of them is refused."""
    _unknown_fields(fields, PAYER_FIELDS)
    payer = Payer.objects.select_for_update().get(pk=payer.pk)
    for name, value in fields.items():
        setattr(payer, name, value)
    _payer_check(payer)
    payer.save()
    practice_changed([payer.practice_id], KPI_FIGURES)  # cached KPI figures name the payers
    return payer


def payer_deactivate(*, payer: Payer) -> Payer:
    """Stop offering the payer for new coverage and claims; its history (claims, contracts) stays."""
    return payer_update(payer=payer, is_active=False)


def payer_activate(*, payer: Payer) -> Payer:
    return payer_update(payer=payer, is_active=True)


# --- Contracts ---------------------------------------------------------------------------------


def _codes(value) -> list[str]:
    """Prior-authorization codes from a list or from text separated by commas or spaces; each checked."""
    items = re.split(r"[\s,;]+", value) if isinstance(value, str) else list(value or [])
    codes = list(dict.fromkeys(str(item).strip().upper() for item in items if str(item).strip()))
    bad = []
    for code in codes:
        try:
            validate_procedure_code(code)
        except ValidationError:
            bad.append(code)
    if bad:
        raise ValidationError({"prior_auth_codes": f"Not procedure codes (CPT or HCPCS): {', '.join(bad)}."})
    return codes


def _contract_check(contract: PayerContract) -> None:
    contract.name = (contract.name or "").strip()
    contract.prior_auth_codes = _codes(contract.prior_auth_codes)
    contract.full_clean(exclude=["practice", "payer", "base_payer"])
    errors = {}
    if contract.payer.practice_id != contract.practice_id:
        errors["payer"] = "The payer belongs to another practice."
    if contract.pricing_method != PricingMethod.PERCENT_OF_BASE:
        contract.base_payer = None  # only a % of base contract has one (the model checks it)
    if contract.percent is not None and contract.percent <= 0:
        errors["percent"] = "The percentage must be more than 0."
    if contract.underpayment_tolerance_amount < 0:
        errors["underpayment_tolerance_amount"] = "The tolerance cannot be negative."
    if not 0 <= contract.underpayment_tolerance_percent <= 100:
        errors["underpayment_tolerance_percent"] = "The tolerance is a percentage from 0 to 100."
    if errors:
        raise ValidationError(errors)
    _refuse_overlap(contract)


def _refuse_overlap(contract: PayerContract) -> None:
    end = contract.end_date or datetime.date.max
    others = PayerContract.objects.filter(practice_id=contract.practice_id, payer_id=contract.payer_id)
    if contract.pk is not None:
        others = others.exclude(pk=contract.pk)
    for other in others.order_by("effective_date"):
        if other.effective_date <= end and contract.effective_date <= (other.end_date or datetime.date.max):
            raise ValidationError(
                {
                    "effective_date": (
                        f"These dates ({_date(contract.effective_date)} to {_date(contract.end_date)}) "
                        "overlap "
                        f"the contract “{other.name}” ({_date(other.effective_date)} to "
                        f"{_date(other.end_date)}). One payer has one contract in force on any date: end the "
                        "other contract first, or start a new rate year from it."
                    )
                }
            )


def _lock_payer(payer: Payer) -> Payer:
    """Contracts of one payer are checked for overlaps under the payer's row lock (no check-then-act race)."""
    return Payer.objects.select_for_update().get(pk=payer.pk)


@transaction.atomic
def contract_create(*, practice, payer: Payer, **terms) -> PayerContract:
    """A contract with ``payer`` from its effective date; refused when it overlaps another of the payer's."""
    _unknown_fields(terms, CONTRACT_FIELDS)
    if payer.practice_id != practice.pk:
        raise ValidationError({"payer": "The payer belongs to another practice."})
    _lock_payer(payer)
    contract = PayerContract(practice=practice, payer=payer, **terms)
    _contract_check(contract)
    contract.save()
    return contract


@transaction.atomic
def contract_update(*, contract: PayerContract, **terms) -> PayerContract:
    """Change a contract's terms or dates (a correction). A change of rates from a date on is a new rate
    year (``contract_new_rate_year``), which leaves the earlier claims' expected amounts as they were."""
    _unknown_fields(terms, CONTRACT_FIELDS)
    _lock_payer(contract.payer)
    contract = PayerContract.objects.select_related("payer").get(pk=contract.pk)
    for name, value in terms.items():
        setattr(contract, name, value)
    _contract_check(contract)
    contract.save()
    return contract


@transaction.atomic
def contract_new_rate_year(
    *, contract: PayerContract, effective_date: datetime.date, name: str = "", user=None
) -> PayerContract:
    """A new contract from ``effective_date`` with the same terms and fee rows; the old one now ends the day
    before. Neither the old contract's terms nor its rows change, so lines of earlier dates price as before.
    The new contract ends when the old one did."""
    _lock_payer(contract.payer)
    old = PayerContract.objects.select_related("payer").get(pk=contract.pk)
    if effective_date <= old.effective_date or (old.end_date is not None and effective_date > old.end_date):
        raise ValidationError(
            {
                "effective_date": (
                    "A new rate year starts inside the contract it follows: after "
                    f"{_date(old.effective_date)}"
                    + (f" and no later than {_date(old.end_date)}." if old.end_date else ".")
                )
            }
        )
    new = PayerContract(
        practice_id=old.practice_id,
        payer=old.payer,
        name=(name or "").strip() or f"{old.name} from {_date(effective_date)}",
        effective_date=effective_date,
        end_date=old.end_date,
        **{
            field: getattr(old, field)
            for field in CONTRACT_FIELDS
            if field not in ("name", "effective_date", "end_date", "renegotiation_date")
        },
    )
    old.end_date = effective_date - ONE_DAY
    old.save(update_fields=["end_date"])
    _contract_check(new)
    new.save()
    rows = FeeScheduleRow.objects.bulk_create(
        [
            FeeScheduleRow(
                practice_id=row.practice_id,
                contract=new,
                procedure_code=row.procedure_code,
                modifier=row.modifier,
                facility=row.facility,
                allowed_amount=row.allowed_amount,
            )
            for row in FeeScheduleRow.objects.filter(contract=old).order_by("pk")
        ],
        batch_size=2000,
    )
    if rows:
        audit_record(
            action=AuditAction.CREATE,
            practice=new.practice,
            object_type="rcm.feeschedulerow",
            object_id=new.pk,
            changes={"copied_from_contract": old.pk, "rows": len(rows)},
            user=user,
        )
    return new
