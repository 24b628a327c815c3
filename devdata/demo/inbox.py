"""The demo's inbox: X12 files the payers and the clearinghouse "sent" after the demo's last day, left in
``var/demo-inbox/`` for a newcomer to upload on the X12 files page and watch post.

For the practice's claims still waiting on the payer, written with the demo's own writers
(``devdata.demo.era``): a 277CA accepting the claims submitted and not yet acknowledged, and per payer an
835 answering the accepted claims it has owed longest (at most ``CLAIMS_PER_ERA``, so the follow-up queues
keep work), where most are paid at the contract's allowed amount, a claim of
two lines or more is partly paid (its last line denied, CO-96), the first claim is denied (CO-50), and the
first payer's file takes back one earlier payment (a reversal, CLP02 22). Which claim gets what is decided
by claim id, so the same demo writes the same files."""

import dataclasses
import datetime
import itertools
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from django.db.models import Exists, OuterRef

from claims.models import Claim, ClaimStatus, Clearinghouse, RemittanceClaim
from devdata.demo.era import AckClaim, AckFile, EraClaim, EraFile, EraService, ack_277ca, era_835
from rcm.models import Practice
from rcm.pricing import LineToPrice, PriceBook, is_facility

ZERO = Decimal("0.00")
DENIAL_CARC = "50"  # not deemed a medical necessity
LINE_DENIAL_CARC = "96"  # non-covered charge
CONTROL_NUMBERS_FROM = 900_000_001  # far above the demo's own files
CLAIMS_PER_ERA = 8


@dataclasses.dataclass
class InboxPlan:
    """What the inbox files say, by claim id: the outcome of each claim the 835s answer, and the 277CA's."""

    files: list[Path] = dataclasses.field(default_factory=list)
    paid: list[int] = dataclasses.field(default_factory=list)
    partly_paid: list[int] = dataclasses.field(default_factory=list)
    denied: list[int] = dataclasses.field(default_factory=list)
    reversed: list[int] = dataclasses.field(default_factory=list)
    acknowledged: list[int] = dataclasses.field(default_factory=list)


def demo_inbox_write(*, practice: Practice, directory: Path, day: datetime.date) -> InboxPlan:
    """Write the inbox files of ``practice`` dated ``day`` into ``directory`` (created if missing; files of
    an earlier run there are replaced). Reads only; changes nothing in the database."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in itertools.chain(directory.glob("*.835"), directory.glob("*.277")):
        old.unlink()
    plan = InboxPlan()
    control = itertools.count(CONTROL_NUMBERS_FROM)
    submitted = list(
        Claim.objects.filter(practice=practice, status=ClaimStatus.SUBMITTED)
        .select_related("patient", "coverage")
        .order_by("pk")
    )
    if submitted:
        clearinghouse = Clearinghouse.objects.filter(practice=practice).order_by("pk").first()
        ack = AckFile(
            clearinghouse_name=clearinghouse.receiver_name if clearinghouse else "CLEARINGHOUSE",
            clearinghouse_id=clearinghouse.receiver_id if clearinghouse else "CLEARINGHOUSE",
            provider_name=practice.name,
            provider_npi=practice.npi,
            date=day,
            interchange_control_number=next(control),
        )
        for claim in submitted:
            ack.claims.append(
                AckClaim(
                    patient_control_number=claim.patient_control_number,
                    status="A2:20",
                    charge=claim.charge_total,
                    service_date=claim.service_date,
                    patient_last=claim.patient.last_name,
                    patient_first=claim.patient.first_name,
                    member_id=claim.coverage.member_id if claim.coverage else "",
                )
            )
            plan.acknowledged.append(claim.pk)
        path = directory / f"277CA-{day:%Y%m%d}.277"
        path.write_text(ack_277ca(ack))
        plan.files.append(path)

    waiting = (
        Claim.objects.filter(practice=practice, status=ClaimStatus.ACCEPTED, payer__isnull=False)
        .exclude(Exists(RemittanceClaim.objects.filter(claim=OuterRef("pk"), posted=True)))
        .select_related("patient", "coverage", "payer")
        .order_by("pk")
    )
    by_payer = defaultdict(list)
    for claim in waiting.order_by("last_submitted_at", "pk"):
        if len(by_payer[claim.payer]) < CLAIMS_PER_ERA:
            by_payer[claim.payer].append(claim)
    first_claim = min((c.pk for claims in by_payer.values() for c in claims), default=None)
    partly_done = False
    for number, (payer, claims) in enumerate(sorted(by_payer.items(), key=lambda item: item[0].pk)):
        era = EraFile(
            payer_name=payer.name,
            payer_id=payer.payer_id,
            payer_tax_id=f"{payer.pk % 900_000_000 + 100_000_000}",
            payee_name=practice.name,
            payee_npi=practice.npi,
            payee_tax_id=practice.tax_id,
            payment_date=day,
            trace_number=f"{payer.payer_id}{day:%y%m%d}INBOX",
            interchange_control_number=next(control),
        )
        lines = {
            claim.pk: [ln for ln in claim.lines.order_by("line_number") if not ln.removed] for claim in claims
        }
        book = PriceBook.load(
            practice=practice,
            payer=payer,
            procedure_codes=sorted(
                {ln.procedure_code for claim_lines in lines.values() for ln in claim_lines}
            ),
        )
        for claim in claims:
            claim_lines = lines[claim.pk]
            if claim.pk == first_claim:
                era.claims.append(_era_claim(claim, claim_lines, "4", denied=set(range(len(claim_lines)))))
                plan.denied.append(claim.pk)
                continue
            prices = book.price_claim(
                [
                    LineToPrice(
                        procedure_code=ln.procedure_code,
                        service_date=ln.service_date_from,
                        modifiers=tuple(ln.modifiers),
                        units=ln.units,
                        charge=ln.charge,
                        facility=is_facility(claim.place_of_service),
                    )
                    for ln in claim_lines
                ]
            )
            denied = set()
            if not partly_done and len(claim_lines) > 1:
                denied, partly_done = {len(claim_lines) - 1}, True
                plan.partly_paid.append(claim.pk)
            else:
                plan.paid.append(claim.pk)
            era.claims.append(_era_claim(claim, claim_lines, "1", denied=denied, prices=prices))
        if number == 0:
            reversal = _reversal(practice, payer)
            if reversal is not None:
                era.claims.append(reversal[1])
                plan.reversed.append(reversal[0])
        path = directory / f"{payer.payer_id}-{day:%Y%m%d}.835"
        path.write_text(era_835(era))
        plan.files.append(path)
    return plan


def _era_claim(claim: Claim, lines, status: str, *, denied: set[int], prices=None) -> EraClaim:
    """A claim payment: denied lines carry the whole charge as a CO adjustment; paid lines are allowed the
    contract's price (the charge when the contract does not price the line), the rest CO-45."""
    era_claim = EraClaim(
        patient_control_number=claim.patient_control_number,
        status_code=status,
        charge=claim.charge_total,
        payer_claim_number=claim.payer_claim_number or f"{claim.payer.payer_id[:3]}{claim.pk:011d}",
        patient_last=claim.patient.last_name,
        patient_first=claim.patient.first_name,
        member_id=claim.coverage.member_id if claim.coverage else "",
    )
    for index, line in enumerate(lines):
        service = EraService.unpaid(line)
        if index in denied:
            carc = DENIAL_CARC if status == "4" else LINE_DENIAL_CARC
            service.adjustments = [("CO", carc, line.charge)]
        else:
            price = prices[index] if prices else None
            allowed = min(price.amount, line.charge) if price is not None else line.charge
            service.paid, service.allowed = allowed, allowed
            if line.charge > allowed:
                service.adjustments = [("CO", "45", line.charge - allowed)]
        era_claim.services.append(service)
    return era_claim


def _reversal(practice: Practice, payer) -> tuple[int, EraClaim] | None:
    """The payer takes back its latest plain payment of a paid claim (CLP02 22, every amount negated):
    the claim goes back to accepted, its balance owed by the payer again."""
    payment = (
        RemittanceClaim.objects.filter(
            claim__practice=practice,
            claim__payer=payer,
            claim__status=ClaimStatus.PAID,
            claim__secondary_pending=False,
            status_code="1",
            posted=True,
            reversed_by__isnull=True,
            interest=0,
            patient_responsibility=0,
            paid__gt=0,
        )
        .select_related("claim", "claim__patient", "claim__coverage")
        .order_by("-remittance__received_at", "-pk")
        .first()
    )
    if payment is None:
        return None
    claim = payment.claim
    later = RemittanceClaim.objects.filter(claim=claim, posted=True, pk__gt=payment.pk).exists()
    if later:
        return None
    era_claim = EraClaim(
        patient_control_number=claim.patient_control_number,
        status_code="22",
        charge=-payment.charge,
        payer_claim_number=payment.payer_claim_number,
        patient_last=claim.patient.last_name,
        patient_first=claim.patient.first_name,
        member_id=claim.coverage.member_id if claim.coverage else "",
        adjustments=[("CO", "45", -(payment.charge - payment.paid))]
        if payment.charge != payment.paid
        else [],
    )
    return claim.pk, era_claim
