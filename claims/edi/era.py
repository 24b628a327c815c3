"""Reading 835 remittance advice into plain data (no database access).

Lenient where real files are sloppy: composite elements whose component separator differs from
ISA16 (some payers send ``HC>99213>25`` with ``:`` declared) are split on the separator they use.
Amounts that are not numbers are refused with the segment named."""

import dataclasses
import datetime
from decimal import Decimal, InvalidOperation

from claims.edi.reader import Delimiters, Segment, TransactionSet, X12Error
from rcm.templatetags.rcm_tags import money


@dataclasses.dataclass
class Adjustment:
    group: str
    reason: str
    amount: Decimal
    quantity: str = ""


@dataclasses.dataclass
class ServicePayment:
    procedure: str
    modifiers: list[str]
    charge: Decimal
    paid: Decimal
    units: Decimal
    original_procedure: str = ""
    original_modifiers: list[str] = dataclasses.field(default_factory=list)
    service_date_from: datetime.date | None = None
    service_date_to: datetime.date | None = None
    line_control_number: str = ""
    allowed: Decimal | None = None
    adjustments: list[Adjustment] = dataclasses.field(default_factory=list)
    remarks: list[str] = dataclasses.field(default_factory=list)
    position: int = 0


@dataclasses.dataclass
class ClaimPayment:
    patient_control_number: str
    status_code: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    payer_claim_number: str
    frequency_code: str = ""
    patient_name: str = ""
    member_id: str = ""
    interest: Decimal = Decimal("0")
    statement_from: datetime.date | None = None
    statement_to: datetime.date | None = None
    adjustments: list[Adjustment] = dataclasses.field(default_factory=list)  # claim level
    services: list[ServicePayment] = dataclasses.field(default_factory=list)
    remarks: list[str] = dataclasses.field(default_factory=list)
    position: int = 0


@dataclasses.dataclass
class ProviderLevelAdjustment:
    provider_identifier: str
    fiscal_period_date: datetime.date | None
    reason: str
    reference: str
    amount: Decimal


@dataclasses.dataclass
class RemittanceAdvice:
    control_number: str
    handling_code: str
    payment_amount: Decimal
    payment_method: str
    payment_date: datetime.date | None
    trace_number: str
    payer_trace_id: str
    payer_name: str = ""
    payer_identifier: str = ""
    payee_name: str = ""
    payee_npi: str = ""
    payee_tax_id: str = ""
    production_date: datetime.date | None = None
    warnings: list[str] = dataclasses.field(default_factory=list)
    claims: list[ClaimPayment] = dataclasses.field(default_factory=list)
    provider_adjustments: list[ProviderLevelAdjustment] = dataclasses.field(default_factory=list)


def _amount(segment: Segment, index: int, *, required: bool = True) -> Decimal:
    raw = segment.get(index).strip()
    if not raw:
        if required:
            raise X12Error(
                f"Segment {segment.position} ({segment.id}): {segment.id}{index:02d} amount is missing."
            )
        return Decimal("0")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise X12Error(
            f"Segment {segment.position} ({segment.id}): {segment.id}{index:02d} {raw!r} is not an amount."
        ) from None
    if not value.is_finite():
        raise X12Error(
            f"Segment {segment.position} ({segment.id}): {segment.id}{index:02d} {raw!r} is not an amount."
        )
    return value.quantize(Decimal("0.01"))


def _date(segment: Segment, index: int) -> datetime.date | None:
    raw = segment.get(index).strip()
    if not raw:
        return None
    try:
        if len(raw) < 8 or not raw[:8].isdigit():
            raise ValueError(raw)
        return datetime.date(int(raw[:4]), int(raw[4:6]), int(raw[6:8]))
    except ValueError:
        raise X12Error(
            f"Segment {segment.position} ({segment.id}): {raw!r} is not a date (CCYYMMDD)."
        ) from None


def _composite(value: str, delimiters: Delimiters) -> list[str]:
    if delimiters.component in value:
        return value.split(delimiters.component)
    for other in (">", ":", "^", "|"):
        if other != delimiters.component and other in value:
            return value.split(other)
    return [value]


def _adjustments(segment: Segment) -> list[Adjustment]:
    group = segment.get(1)
    if group not in ("CO", "PR", "OA", "PI", "CR"):
        raise X12Error(
            f"Segment {segment.position} (CAS): group code {group!r} must be CO, PR, OA, PI or CR."
        )
    result = []
    for start in range(2, 19, 3):
        reason = segment.get(start)
        if not reason:
            continue
        result.append(
            Adjustment(
                group=group,
                reason=reason,
                amount=_amount(segment, start + 1),
                quantity=segment.get(start + 2),
            )
        )
    if not result:
        raise X12Error(f"Segment {segment.position} (CAS): no reason code and amount.")
    return result


def read_835(transaction: TransactionSet, delimiters: Delimiters) -> RemittanceAdvice:
    advice: RemittanceAdvice | None = None
    claim: ClaimPayment | None = None
    service: ServicePayment | None = None
    party = ""
    for segment in transaction.segments:
        sid = segment.id
        if sid == "BPR":
            advice = RemittanceAdvice(
                control_number=transaction.control_number,
                handling_code=segment.get(1),
                payment_amount=_amount(segment, 2),
                payment_method=segment.get(4),
                payment_date=None,
                trace_number="",
                payer_trace_id="",
            )
            try:
                advice.payment_date = _date(segment, 16)
            except X12Error as exc:  # seen in real files; the production date (DTM*405) stands in for it
                advice.warnings.append(f"{exc} The production date is used instead.")
            continue
        if advice is None:
            if sid not in ("ST",):
                raise X12Error(f"Segment {segment.position} ({sid}): the 835 must start with BPR after ST.")
            continue
        if sid == "TRN" and claim is None:
            advice.trace_number, advice.payer_trace_id = segment.get(2), segment.get(3)
        elif sid == "DTM" and claim is None and segment.get(1) == "405":
            advice.production_date = _date(segment, 2)
        elif sid == "N1":
            party = segment.get(1)
            if party == "PR":
                advice.payer_name = segment.get(2)
                if segment.get(3) in ("XV", "PI"):
                    advice.payer_identifier = segment.get(4)
            elif party == "PE":
                advice.payee_name = segment.get(2)
                if segment.get(3) == "XX":
                    advice.payee_npi = segment.get(4)
                elif segment.get(3) == "FI":
                    advice.payee_tax_id = segment.get(4)
        elif sid == "REF" and claim is None:
            if party == "PR" and segment.get(1) == "2U" and not advice.payer_identifier:
                advice.payer_identifier = segment.get(2)
            elif party == "PE" and segment.get(1) == "TJ" and not advice.payee_tax_id:
                advice.payee_tax_id = segment.get(2)
        elif sid == "CLP":
            service = None
            claim = ClaimPayment(
                patient_control_number=segment.get(1),
                status_code=segment.get(2),
                charge=_amount(segment, 3),
                paid=_amount(segment, 4),
                patient_responsibility=_amount(segment, 5, required=False),
                payer_claim_number=segment.get(7),
                frequency_code=segment.get(9),
                position=segment.position,
            )
            if not claim.patient_control_number:
                raise X12Error(f"Segment {segment.position} (CLP): CLP01, our claim number, is missing.")
            advice.claims.append(claim)
        elif sid == "CAS":
            if claim is None:
                raise X12Error(f"Segment {segment.position} (CAS): an adjustment outside any claim (CLP).")
            (service.adjustments if service is not None else claim.adjustments).extend(_adjustments(segment))
        elif sid == "NM1" and claim is not None and segment.get(1) == "QC":
            claim.patient_name = f"{segment.get(4)} {segment.get(3)}".strip()
            claim.member_id = segment.get(9)
        elif sid == "DTM" and claim is not None:
            qualifier = segment.get(1)
            if service is not None and qualifier in ("472", "150"):
                service.service_date_from = _date(segment, 2)
                if qualifier == "472":
                    service.service_date_to = service.service_date_from
            elif service is not None and qualifier == "151":
                service.service_date_to = _date(segment, 2)
            elif service is None and qualifier == "232":
                claim.statement_from = _date(segment, 2)
            elif service is None and qualifier == "233":
                claim.statement_to = _date(segment, 2)
        elif sid == "AMT" and claim is not None:
            if service is not None and segment.get(1) == "B6":
                service.allowed = _amount(segment, 2)
            elif service is None and segment.get(1) == "I":
                claim.interest = _amount(segment, 2)
        elif sid == "SVC":
            if claim is None:
                raise X12Error(f"Segment {segment.position} (SVC): a service line outside any claim (CLP).")
            parts = _composite(segment.get(1), delimiters)
            original = _composite(segment.get(6), delimiters) if segment.get(6) else []
            units_raw = segment.get(5) or "1"
            try:
                units = Decimal(units_raw)
            except InvalidOperation:
                raise X12Error(
                    f"Segment {segment.position} (SVC): units {units_raw!r} is not a number."
                ) from None
            service = ServicePayment(
                procedure=parts[1] if len(parts) > 1 else parts[0],
                modifiers=[m for m in parts[2:6] if m],
                charge=_amount(segment, 2),
                paid=_amount(segment, 3),
                units=units,
                original_procedure=original[1] if len(original) > 1 else "",
                original_modifiers=[m for m in original[2:6] if m],
                position=segment.position,
            )
            claim.services.append(service)
        elif sid == "REF" and service is not None and segment.get(1) == "6R":
            service.line_control_number = segment.get(2)
        elif sid == "LQ" and claim is not None:
            (service.remarks if service is not None else claim.remarks).append(segment.get(2))
        elif sid in ("MOA", "MIA") and claim is not None:
            claim.remarks.extend(e for e in segment.elements[3:] if e and not e.replace(".", "").isdigit())
        elif sid == "PLB":
            service, claim = None, None
            for start in range(3, 14, 2):
                composite = segment.get(start)
                if not composite:
                    continue
                reason_parts = _composite(composite, delimiters)
                advice.provider_adjustments.append(
                    ProviderLevelAdjustment(
                        provider_identifier=segment.get(1),
                        fiscal_period_date=_date(segment, 2),
                        reason=reason_parts[0],
                        reference=reason_parts[1] if len(reason_parts) > 1 else "",
                        amount=_amount(segment, start + 1),
                    )
                )
        elif sid == "LX":
            claim, service = None, None
    if advice is None:
        raise X12Error(
            f"Transaction set {transaction.control_number} has no BPR segment: it is not a usable 835."
        )
    if not advice.trace_number:
        raise X12Error(
            f"Transaction set {transaction.control_number} has no TRN trace number (check or EFT number)."
        )
    return advice


def balance_problems(claim: ClaimPayment) -> list[str]:
    """The 835 balancing rules for one claim (DESIGN.md): line SVC02 − ΣCAS = SVC03, claim
    CLP03 − ΣCAS (claim and lines) = CLP04 − interest."""
    problems = []
    for service in claim.services:
        adjusted = service.charge - sum((a.amount for a in service.adjustments), Decimal("0"))
        if adjusted != service.paid:
            problems.append(
                f"line {service.procedure} (segment {service.position}): charge {money(service.charge)} "
                f"minus adjustments {money(service.charge - adjusted)} is {money(adjusted)}, "
                f"but the payment is {money(service.paid)}"
            )
    all_adjustments = sum((a.amount for a in claim.adjustments), Decimal("0")) + sum(
        (a.amount for s in claim.services for a in s.adjustments), Decimal("0")
    )
    if claim.charge - all_adjustments != claim.paid - claim.interest:
        problems.append(
            f"claim {claim.patient_control_number}: charge {money(claim.charge)} minus adjustments "
            f"{money(all_adjustments)} is {money(claim.charge - all_adjustments)}, "
            f"but the payment less interest is {money(claim.paid - claim.interest)}"
        )
    return problems


def check_balance_problem(advice: RemittanceAdvice) -> str | None:
    claims_paid = sum((c.paid for c in advice.claims), Decimal("0"))
    provider_adjustments = sum((p.amount for p in advice.provider_adjustments), Decimal("0"))
    if claims_paid - provider_adjustments != advice.payment_amount:
        return (
            f"the claim payments ({money(claims_paid)}) less provider adjustments "
            f"({money(provider_adjustments)}) "
            f"do not equal the payment of {money(advice.payment_amount)} (BPR02)"
        )
    return None
