"""Build 837P (005010X222A1) professional claim files.

The writer takes claims already loaded with everything it needs (see ``claims_for_837``) and returns
the file text; it queries nothing itself, so a batch of 10,000 claims is a handful of queries.
Structure per transaction set: 1000A submitter, 1000B receiver, then per billing provider a 2000A
HL, and per claim a 2000B subscriber HL (plus a 2000C patient HL when the patient is not the
subscriber), the 2300 claim, 2310B rendering provider when it differs from the billing provider,
2320/2330 other payer loops for secondary claims, and 2400 lines with 2430 line adjudication.
"""

import dataclasses
import datetime
from collections import defaultdict
from decimal import Decimal
from itertools import groupby

from django.db.models import Prefetch

from claims.models import Claim, ClaimLine, Party, Transaction, TransactionKind
from claims.services import SECONDARY_BILLING_NOTE
from rcm.models import CLAIM_FILING_INDICATOR, Coverage, SubscriberRelationship

SEGMENT = "~"
ELEMENT = "*"
COMPONENT = ":"
REPETITION = "^"
IMPLEMENTATION = "005010X222A1"
_CLEAN = str.maketrans({c: " " for c in (SEGMENT, ELEMENT, COMPONENT, REPETITION)})


def text(value, limit: int | None = None) -> str:
    """Upper-case text without delimiter characters (a name with '*' must not break the file)."""
    cleaned = " ".join(str(value or "").translate(_CLEAN).upper().split())
    return cleaned[:limit] if limit else cleaned


def amount(value: Decimal) -> str:
    """X12 R type: no needless zeros (150.00 -> 150, 150.50 -> 150.5)."""
    normalized = f"{value:.2f}".rstrip("0").rstrip(".")
    return normalized or "0"


def quantity(value: Decimal) -> str:
    return amount(Decimal(value))


def d8(day: datetime.date) -> str:
    return day.strftime("%Y%m%d")


def digits(value: str) -> str:
    return "".join(ch for ch in value or "" if ch.isdigit())


class SegmentWriter:
    def __init__(self):
        self.segments: list[str] = []

    def add(self, *elements) -> None:
        values = [str(e) if e is not None else "" for e in elements]
        while values and values[-1] == "":
            values.pop()  # trailing empty elements are not sent
        self.segments.append(ELEMENT.join(values))

    def __len__(self) -> int:
        return len(self.segments)


@dataclasses.dataclass(frozen=True)
class Envelope:
    sender_id: str
    receiver_id: str
    submitter_name: str
    contact_name: str
    contact_phone: str
    receiver_name: str
    interchange_control_number: int
    group_control_number: int
    transaction_control_number: str
    production: bool
    created_at: datetime.datetime


@dataclasses.dataclass
class PriorAdjudication:
    """What the primary payer did with a claim, for a secondary claim's 2320/2330/2430 loops."""

    payer_name: str
    payer_identifier: str
    filing_indicator: str
    member_id: str
    relationship: str
    group_number: str
    subscriber_last: str
    subscriber_first: str
    paid_by_line: dict[int, Decimal]
    adjustments_by_line: dict[int, list[tuple[str, str, Decimal]]]  # line id -> [(group, reason, amount)]
    adjudicated_on: datetime.date


def claims_for_837(queryset):
    """The claims with everything the writer reads, in a fixed number of queries."""
    return queryset.select_related(
        "practice",
        "patient",
        "patient__guarantor",
        "coverage",
        "coverage__payer",
        "payer",
        "billing_provider",
        "rendering_provider",
        "original_claim",
    ).prefetch_related(
        Prefetch("lines", queryset=ClaimLine.objects.filter(removed=False).order_by("line_number"))
    )


def prior_adjudications(claims: list[Claim]) -> dict[int, PriorAdjudication]:
    """For secondary claims: the primary payer's payments and adjustments per line, from the ledger."""
    secondary = [c for c in claims if c.coverage is not None and c.coverage.priority > 1]
    if not secondary:
        return {}
    patient_ids = {c.patient_id for c in secondary}
    primaries = defaultdict(list)
    for coverage in Coverage.objects.filter(patient_id__in=patient_ids, priority=1).select_related("payer"):
        primaries[coverage.patient_id].append(coverage)
    original_ids = {c.original_claim_id or c.pk for c in secondary}
    # The primary's postings live on the claim first billed to the primary payer: the same claim
    # (re-billed to the secondary) in this model.
    txns = defaultdict(list)
    for txn in (
        Transaction.objects.filter(claim_id__in=original_ids, party=Party.INSURANCE)
        .exclude(kind=TransactionKind.CHARGE)
        .select_related("reverses")
        .order_by("id")
    ):
        txns[txn.claim_id].append(txn)
    result = {}
    for claim in secondary:
        primary = next(
            (cov for cov in primaries[claim.patient_id] if cov.is_active_on(claim.service_date)), None
        )
        if primary is None:
            continue
        paid: dict[int, Decimal] = defaultdict(Decimal)
        adjustments: dict[int, dict[tuple[str, str], Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        last_date = None
        # A transfer reversed only to bill the secondary is still the primary's adjudication (PR in 2430 CAS).
        reversed_ids = {
            t.reverses_id
            for t in txns[claim.original_claim_id or claim.pk]
            if t.reverses_id and t.note != SECONDARY_BILLING_NOTE
        }
        for txn in txns[claim.original_claim_id or claim.pk]:
            if (
                txn.kind == TransactionKind.REVERSAL
                or txn.payer_id != primary.payer_id
                or txn.pk in reversed_ids
            ):
                continue
            last_date = max(last_date or txn.effective_date, txn.effective_date)
            if txn.kind == TransactionKind.INSURANCE_PAYMENT:
                paid[txn.line_id] += txn.amount
            elif txn.kind == TransactionKind.REFUND:
                paid[txn.line_id] -= txn.amount
            elif txn.kind in (
                TransactionKind.CONTRACTUAL_ADJUSTMENT,
                TransactionKind.OTHER_ADJUSTMENT,
                TransactionKind.TRANSFER_TO_PATIENT,
                TransactionKind.WRITE_OFF,
            ):
                group, reason = _cas_codes(txn)
                adjustments[txn.line_id][(group, reason)] += txn.amount
        if last_date is None:
            continue
        relationship = primary.relationship
        result[claim.pk] = PriorAdjudication(
            payer_name=primary.payer.name,
            payer_identifier=primary.payer.payer_id,
            filing_indicator=CLAIM_FILING_INDICATOR.get(primary.payer.kind, "CI"),
            member_id=primary.member_id,
            relationship=relationship,
            group_number=primary.group_number,
            subscriber_last=primary.subscriber_last_name
            if relationship != SubscriberRelationship.SELF
            else claim.patient.last_name,
            subscriber_first=primary.subscriber_first_name
            if relationship != SubscriberRelationship.SELF
            else claim.patient.first_name,
            paid_by_line=dict(paid),
            adjustments_by_line={
                line: [(g, r, a) for (g, r), a in adj.items() if a] for line, adj in adjustments.items()
            },
            adjudicated_on=last_date,
        )
    return result


_RESPONSIBILITY_REASON = {"deductible": "1", "coinsurance": "2", "copay": "3"}


def _cas_codes(txn: Transaction) -> tuple[str, str]:
    if txn.group_code and txn.reason_code:
        return txn.group_code, txn.reason_code
    if txn.kind == TransactionKind.TRANSFER_TO_PATIENT:
        return "PR", _RESPONSIBILITY_REASON.get(txn.responsibility, "2")
    if txn.kind == TransactionKind.CONTRACTUAL_ADJUSTMENT:
        return "CO", "45"
    return "OA", "23"


def _name_segment(w: SegmentWriter, entity: str, provider, id_qualifier: str = "XX") -> None:
    if provider.is_organization:
        w.add("NM1", entity, "2", text(provider.last_name, 60), "", "", "", "", id_qualifier, provider.npi)
    else:
        w.add(
            "NM1",
            entity,
            "1",
            text(provider.last_name, 60),
            text(provider.first_name, 35),
            "",
            "",
            "",
            id_qualifier,
            provider.npi,
        )


def _address(w: SegmentWriter, line1, line2, city, state, postal_code) -> None:
    w.add("N3", text(line1, 55), text(line2, 55))
    w.add("N4", text(city, 30), text(state, 2), digits(postal_code))


def _cas_segments(w: SegmentWriter, adjustments: list[tuple[str, str, Decimal]]) -> None:
    """CAS per group code, at most six reason/amount pairs per segment."""
    ordered = sorted(adjustments, key=lambda a: (a[0], a[1]))
    for group, items in groupby(ordered, key=lambda a: a[0]):
        items = list(items)
        for start in range(0, len(items), 6):
            elements = ["CAS", group]
            for _g, reason, value in items[start : start + 6]:
                elements += [reason, amount(value), ""]
            while elements[-1] == "":
                elements.pop()
            w.add(*elements)


def build_837p(
    *, envelope: Envelope, claims: list[Claim], prior: dict[int, PriorAdjudication] | None = None
) -> str:
    """The complete interchange (ISA to IEA) for ``claims`` (all for one payer) as X12 text."""
    prior = prior or {}
    created = envelope.created_at
    isa = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        text(envelope.sender_id).ljust(15)[:15],
        "ZZ",
        text(envelope.receiver_id).ljust(15)[:15],
        created.strftime("%y%m%d"),
        created.strftime("%H%M"),
        REPETITION,
        "00501",
        f"{envelope.interchange_control_number:09d}",
        "1",
        "P" if envelope.production else "T",
        COMPONENT,
    ]
    head = ELEMENT.join(isa)
    gs = ELEMENT.join(
        [
            "GS",
            "HC",
            text(envelope.sender_id),
            text(envelope.receiver_id),
            created.strftime("%Y%m%d"),
            created.strftime("%H%M"),
            str(envelope.group_control_number),
            "X",
            IMPLEMENTATION,
        ]
    )
    w = SegmentWriter()
    st = envelope.transaction_control_number
    w.add("ST", "837", st, IMPLEMENTATION)
    w.add(
        "BHT",
        "0019",
        "00",
        f"B{envelope.interchange_control_number:09d}",
        created.strftime("%Y%m%d"),
        created.strftime("%H%M"),
        "CH",
    )
    w.add("NM1", "41", "2", text(envelope.submitter_name, 60), "", "", "", "", "46", text(envelope.sender_id))
    w.add("PER", "IC", text(envelope.contact_name, 60), "TE", digits(envelope.contact_phone))
    w.add(
        "NM1", "40", "2", text(envelope.receiver_name, 60), "", "", "", "", "46", text(envelope.receiver_id)
    )

    hl = 0
    by_billing = sorted(claims, key=lambda c: (c.billing_provider_id, c.pk))
    for _provider_id, provider_claims in groupby(by_billing, key=lambda c: c.billing_provider_id):
        provider_claims = list(provider_claims)
        first = provider_claims[0]
        practice, billing = first.practice, first.billing_provider
        hl += 1
        billing_hl = hl
        w.add("HL", billing_hl, "", "20", "1")
        w.add("PRV", "BI", "PXC", billing.taxonomy_code)
        _name_segment(w, "85", billing)
        _address(
            w,
            practice.address_line1,
            practice.address_line2,
            practice.city,
            practice.state,
            practice.postal_code,
        )
        w.add("REF", "EI", digits(practice.tax_id))
        for claim in provider_claims:
            hl = _claim_loops(w, claim, hl, billing_hl, prior.get(claim.pk))

    w.add("SE", len(w) + 1, st)
    body = SEGMENT.join(w.segments)
    return (
        f"{head}{SEGMENT}{gs}{SEGMENT}{body}{SEGMENT}"
        f"GE*1*{envelope.group_control_number}{SEGMENT}IEA*1*{envelope.interchange_control_number:09d}{SEGMENT}\n"
    )


def _claim_loops(
    w: SegmentWriter, claim: Claim, hl: int, parent_hl: int, prior: PriorAdjudication | None
) -> int:
    coverage, patient, payer = claim.coverage, claim.patient, claim.coverage.payer
    patient_is_subscriber = coverage.relationship == SubscriberRelationship.SELF
    hl += 1
    subscriber_hl = hl
    w.add("HL", subscriber_hl, parent_hl, "22", "0" if patient_is_subscriber else "1")
    responsibility = {1: "P", 2: "S", 3: "T"}[coverage.priority]
    w.add(
        "SBR",
        responsibility,
        "18" if patient_is_subscriber else "",
        text(coverage.group_number, 50),
        "",
        "",
        "",
        "",
        "",
        CLAIM_FILING_INDICATOR.get(payer.kind, "CI"),
    )
    if patient_is_subscriber:
        w.add(
            "NM1",
            "IL",
            "1",
            text(patient.last_name, 60),
            text(patient.first_name, 35),
            text(patient.middle_name, 25)[:1],
            "",
            "",
            "MI",
            text(coverage.member_id, 80),
        )
        _address(
            w, patient.address_line1, patient.address_line2, patient.city, patient.state, patient.postal_code
        )
        w.add("DMG", "D8", d8(patient.date_of_birth), patient.sex)
    else:
        w.add(
            "NM1",
            "IL",
            "1",
            text(coverage.subscriber_last_name, 60),
            text(coverage.subscriber_first_name, 35),
            "",
            "",
            "",
            "MI",
            text(coverage.member_id, 80),
        )
        if coverage.subscriber_date_of_birth:
            w.add("DMG", "D8", d8(coverage.subscriber_date_of_birth), coverage.subscriber_sex or "U")
    w.add("NM1", "PR", "2", text(payer.name, 60), "", "", "", "", "PI", text(payer.payer_id, 80))
    if not patient_is_subscriber:
        hl += 1
        w.add("HL", hl, subscriber_hl, "23", "0")
        w.add("PAT", coverage.relationship)
        w.add(
            "NM1",
            "QC",
            "1",
            text(patient.last_name, 60),
            text(patient.first_name, 35),
            text(patient.middle_name, 25)[:1],
        )
        _address(
            w, patient.address_line1, patient.address_line2, patient.city, patient.state, patient.postal_code
        )
        w.add("DMG", "D8", d8(patient.date_of_birth), patient.sex)

    lines = list(claim.lines.all())
    total = sum((line.charge for line in lines), Decimal("0"))
    w.add(
        "CLM",
        claim.patient_control_number,
        amount(total),
        "",
        "",
        COMPONENT.join([claim.place_of_service, "B", claim.frequency_code]),
        "Y",
        "A",
        "Y",
        "Y",
    )
    if claim.prior_authorization:
        w.add("REF", "G1", text(claim.prior_authorization, 50))
    if claim.frequency_code in ("7", "8"):
        w.add("REF", "F8", text(claim.payer_claim_number, 50))
    codes = [code.replace(".", "") for code in claim.diagnosis_codes]
    w.add("HI", *[f"{'ABK' if i == 0 else 'ABF'}{COMPONENT}{code}" for i, code in enumerate(codes)])
    rendering = claim.rendering_provider
    if rendering is not None and rendering.npi != claim.billing_provider.npi:
        _name_segment(w, "82", rendering)
        w.add("PRV", "PE", "PXC", rendering.taxonomy_code)
    if prior is not None:
        paid_total = sum(prior.paid_by_line.values(), Decimal("0"))
        w.add(
            "SBR",
            "P",
            prior.relationship if prior.relationship != SubscriberRelationship.SELF else "18",
            text(prior.group_number, 50),
            "",
            "",
            "",
            "",
            "",
            prior.filing_indicator,
        )
        w.add("AMT", "D", amount(paid_total))
        w.add("OI", "", "", "Y", "", "", "Y")
        w.add(
            "NM1",
            "IL",
            "1",
            text(prior.subscriber_last, 60),
            text(prior.subscriber_first, 35),
            "",
            "",
            "",
            "MI",
            text(prior.member_id, 80),
        )
        w.add(
            "NM1",
            "PR",
            "2",
            text(prior.payer_name, 60),
            "",
            "",
            "",
            "",
            "PI",
            text(prior.payer_identifier, 80),
        )
    for number, line in enumerate(lines, 1):
        w.add("LX", number)
        procedure = COMPONENT.join(["HC", line.procedure_code, *line.modifiers])
        pointers = COMPONENT.join(str(p) for p in line.diagnosis_pointers)
        w.add("SV1", procedure, amount(line.charge), "UN", quantity(line.units), "", "", pointers)
        if line.service_date_to and line.service_date_to != line.service_date_from:
            w.add("DTP", "472", "RD8", f"{d8(line.service_date_from)}-{d8(line.service_date_to)}")
        else:
            w.add("DTP", "472", "D8", d8(line.service_date_from))
        w.add("REF", "6R", line.line_control_number)
        if prior is not None:
            w.add(
                "SVD",
                text(prior.payer_identifier, 80),
                amount(prior.paid_by_line.get(line.pk, Decimal("0"))),
                procedure,
                "",
                quantity(line.units),
            )
            _cas_segments(w, prior.adjustments_by_line.get(line.pk, []))
            w.add("DTP", "573", "D8", d8(prior.adjudicated_on))
    return hl
