"""Writes the demo's X12 files, to be imported through ``x12_import``: the payers' 835 remittance advice
(ERA) and the clearinghouse's 277CA claim acknowledgments (``ack_277ca``).

The layout follows what payers send and what ``claims.x12.era.read_835`` reads (the same shape as the test
helper ``tests/claims/era_builder.py``): BPR (payment, BPR16 = the payment date), TRN (EFT trace), N1*PR with
REF*2U = the payer's id, N1*PE with XX = the practice's NPI, then per claim CLP (CLP01 = our patient control
number), claim-level CAS, NM1*QC, AMT*I (interest), and per line SVC, DTM*472, CAS, REF*6R (our line control
number), AMT*B6 (allowed) and LQ*HE (remarks); PLB for provider-level adjustments. Every claim balances the
way the 835 rules ask (SVC02 − ΣCAS = SVC03; CLP03 − ΣCAS = CLP04 − interest) and BPR02 = ΣCLP04 − ΣPLB.
"""

import dataclasses
import datetime
from decimal import Decimal

ZERO = Decimal("0.00")


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


@dataclasses.dataclass
class EraService:
    procedure_code: str
    modifiers: list[str]
    charge: Decimal
    paid: Decimal
    units: Decimal
    service_date: datetime.date
    line_control_number: str
    allowed: Decimal | None = None
    adjustments: list[tuple[str, str, Decimal]] = dataclasses.field(
        default_factory=list
    )  # (group, CARC, amount)
    remarks: list[str] = dataclasses.field(default_factory=list)  # RARCs (LQ*HE)

    @classmethod
    def unpaid(cls, line) -> "EraService":
        """The SVC loop of a claim line as billed, nothing paid yet (the caller fills in the answer)."""
        return cls(
            procedure_code=line.procedure_code,
            modifiers=list(line.modifiers),
            charge=line.charge,
            paid=ZERO,
            units=line.units,
            service_date=line.service_date_from,
            line_control_number=line.line_control_number,
        )


@dataclasses.dataclass
class EraClaim:
    patient_control_number: str
    status_code: str  # 1 primary, 2 secondary, 4 denied, 22 reversal
    charge: Decimal
    payer_claim_number: str
    patient_last: str
    patient_first: str
    member_id: str
    services: list[EraService] = dataclasses.field(default_factory=list)
    adjustments: list[tuple[str, str, Decimal]] = dataclasses.field(default_factory=list)
    interest: Decimal = ZERO

    @property
    def paid(self) -> Decimal:
        """CLP04: the charge less every adjustment (claim and lines), plus interest."""
        adjusted = sum((a[2] for a in self.adjustments), ZERO) + sum(
            (a[2] for s in self.services for a in s.adjustments), ZERO
        )
        return self.charge - adjusted + self.interest

    @property
    def patient_responsibility(self) -> Decimal:
        return sum((a[2] for s in self.services for a in s.adjustments if a[0] == "PR"), ZERO)


@dataclasses.dataclass
class EraFile:
    payer_name: str
    payer_id: str
    payer_tax_id: str  # 9 digits; TRN03 is "1" + it
    payee_name: str
    payee_npi: str
    payee_tax_id: str
    payment_date: datetime.date
    trace_number: str
    interchange_control_number: int
    claims: list[EraClaim] = dataclasses.field(default_factory=list)
    # (reason, reference, amount): a positive amount reduces the payment (a recoupment), negative adds
    # (interest)
    provider_adjustments: list[tuple[str, str, Decimal]] = dataclasses.field(default_factory=list)

    @property
    def payment(self) -> Decimal:
        return sum((c.paid for c in self.claims), ZERO) - sum((p[2] for p in self.provider_adjustments), ZERO)


def _cas(group: str, items: list[tuple[str, str, Decimal]]) -> list[str]:
    """One CAS per group with up to six reason/amount pairs, as payers send them."""
    reasons = [(reason, amount) for g, reason, amount in items if g == group]
    segments = []
    for start in range(0, len(reasons), 6):
        parts = ["CAS", group]
        for reason, amount in reasons[start : start + 6]:
            parts += [reason, _money(amount), ""]
        segments.append("*".join(parts).rstrip("*"))
    return segments


def _adjustment_segments(items: list[tuple[str, str, Decimal]]) -> list[str]:
    segments = []
    for group in dict.fromkeys(g for g, _r, _a in items):
        segments += _cas(group, items)
    return segments


def era_835(era: EraFile) -> str:
    """The whole interchange text for one ERA (one ST/SE transaction set)."""
    day = era.payment_date.strftime("%Y%m%d")
    body = [
        f"BPR*I*{_money(era.payment)}*C*ACH*CCP*01*041000124*DA*4421907716*1{era.payer_tax_id}**01*044000037*DA*"
        f"{era.payee_npi[-6:]}*{day}",
        f"TRN*1*{era.trace_number}*1{era.payer_tax_id}",
        f"DTM*405*{day}",
        f"N1*PR*{era.payer_name.upper()}",
        "N3*PO BOX 1840",
        "N4*COLUMBUS*OH*432161840",
        f"REF*2U*{era.payer_id}",
        f"N1*PE*{era.payee_name.upper()}*XX*{era.payee_npi}",
        f"REF*TJ*{era.payee_tax_id}",
        "LX*1",
    ]
    for claim in era.claims:
        body.append(
            "*".join(
                [
                    "CLP",
                    claim.patient_control_number,
                    claim.status_code,
                    _money(claim.charge),
                    _money(claim.paid),
                    _money(claim.patient_responsibility),
                    "12",
                    claim.payer_claim_number,
                    "11",
                    "1",
                ]
            )
        )
        body += _adjustment_segments(claim.adjustments)
        body.append(
            f"NM1*QC*1*{claim.patient_last.upper()}*{claim.patient_first.upper()}****MI*{claim.member_id}"
        )
        if claim.interest:
            body.append(f"AMT*I*{_money(claim.interest)}")
        for service in claim.services:
            composite = ":".join(["HC", service.procedure_code, *service.modifiers])
            body.append(
                "*".join(
                    [
                        "SVC",
                        composite,
                        _money(service.charge),
                        _money(service.paid),
                        "",
                        f"{service.units.normalize():f}",
                    ]
                )
            )
            body.append(f"DTM*472*{service.service_date:%Y%m%d}")
            body += _adjustment_segments(service.adjustments)
            body.append(f"REF*6R*{service.line_control_number}")
            if service.allowed is not None:
                body.append(f"AMT*B6*{_money(service.allowed)}")
            body += [f"LQ*HE*{remark}" for remark in service.remarks]
    for reason, reference, amount in era.provider_adjustments:
        body.append(f"PLB*{era.payee_npi}*{era.payment_date.year}1231*{reason}:{reference}*{_money(amount)}")
    st = "0001"
    segments = [f"ST*835*{st}*005010X221A1", *body, f"SE*{len(body) + 2}*{st}"]
    control = f"{era.interchange_control_number:09d}"
    sender = era.payer_id.ljust(15)
    receiver = era.payee_npi.ljust(15)
    stamp = datetime.datetime.combine(era.payment_date, datetime.time(6, 0))
    envelope = [
        (
            f"ISA*00*          *00*          *ZZ*{sender}*ZZ*{receiver}*"
            f"{stamp:%y%m%d}*{stamp:%H%M}*^*00501*{control}*0*P*:"
        ),
        f"GS*HP*{era.payer_id}*{era.payee_npi}*{stamp:%Y%m%d}*{stamp:%H%M}*{era.interchange_control_number}*X*005010X221A1",
        *segments,
        f"GE*1*{era.interchange_control_number}",
        f"IEA*1*{control}",
    ]
    return "~\n".join(envelope) + "~\n"


@dataclasses.dataclass
class AckClaim:
    """One claim's status in a 277CA: STC01 ``category:status`` (A2:20 accepted, A7:164 rejected...)."""

    patient_control_number: str
    status: str
    charge: Decimal
    service_date: datetime.date
    patient_last: str
    patient_first: str
    member_id: str
    payer_claim_number: str = ""


@dataclasses.dataclass
class AckFile:
    clearinghouse_name: str
    clearinghouse_id: str
    provider_name: str
    provider_npi: str
    date: datetime.date
    interchange_control_number: int
    claims: list[AckClaim] = dataclasses.field(default_factory=list)


def ack_277ca(ack: AckFile) -> str:
    """The whole interchange text of a 277CA (005010X214): the clearinghouse (HL 20), the practice as
    receiver (HL 21) and billing provider (HL 19), then per claim (HL PT) its TRN*2 (our patient control
    number), STC status and, when accepted, the payer's claim number (REF*1K), as
    ``claims.edi.acks.read_277ca`` reads them."""
    day = f"{ack.date:%Y%m%d}"
    reference = f"{ack.interchange_control_number:09d}"
    accepted = sum((c.charge for c in ack.claims if c.status.split(":")[0] in ("A1", "A2")), ZERO)
    rejected = sum((c.charge for c in ack.claims if c.status.split(":")[0] not in ("A1", "A2")), ZERO)
    body = [
        f"BHT*0085*08*{reference}*{day}*0630*TH",
        "HL*1**20*1",
        f"NM1*PR*2*{ack.clearinghouse_name.upper()}*****46*{ack.clearinghouse_id}",
        f"TRN*1*{reference}",
        f"DTP*050*D8*{day}",
        f"DTP*009*D8*{day}",
        "HL*2*1*21*1",
        f"NM1*41*2*{ack.provider_name.upper()}*****46*{ack.provider_npi}",
        f"TRN*2*{reference}",
        f"STC*A1:19*{day}*WQ*{_money(accepted + rejected)}",
        f"QTY*90*{sum(1 for c in ack.claims if c.status.split(':')[0] in ('A1', 'A2'))}",
        f"QTY*AA*{sum(1 for c in ack.claims if c.status.split(':')[0] not in ('A1', 'A2'))}",
        f"AMT*YU*{_money(accepted)}",
        f"AMT*YY*{_money(rejected)}",
        "HL*3*2*19*1",
        f"NM1*85*2*{ack.provider_name.upper()}*****XX*{ack.provider_npi}",
    ]
    for number, claim in enumerate(ack.claims, 4):
        body += [
            f"HL*{number}*3*PT",
            f"NM1*QC*1*{claim.patient_last.upper()}*{claim.patient_first.upper()}****MI*{claim.member_id}",
            f"TRN*2*{claim.patient_control_number}",
            f"STC*{claim.status}*{day}*{'WQ' if claim.status.startswith(('A1', 'A2')) else 'U'}*"
            f"{_money(claim.charge)}",
        ]
        if claim.payer_claim_number:
            body.append(f"REF*1K*{claim.payer_claim_number}")
        body.append(f"DTP*472*D8*{claim.service_date:%Y%m%d}")
    body = [segment for segment in body if not segment.endswith(("QTY*90*0", "QTY*AA*0", "*0.00"))]
    st = "0001"
    segments = [f"ST*277*{st}*005010X214", *body, f"SE*{len(body) + 2}*{st}"]
    control = f"{ack.interchange_control_number:09d}"
    stamp = datetime.datetime.combine(ack.date, datetime.time(6, 30))
    envelope = [
        (
            f"ISA*00*          *00*          *ZZ*{ack.clearinghouse_id.ljust(15)}*ZZ*"
            f"{ack.provider_npi.ljust(15)}*{stamp:%y%m%d}*{stamp:%H%M}*^*00501*{control}*0*P*:"
        ),
        f"GS*HN*{ack.clearinghouse_id}*{ack.provider_npi}*{stamp:%Y%m%d}*{stamp:%H%M}*"
        f"{ack.interchange_control_number}*X*005010X214",
        *segments,
        f"GE*1*{ack.interchange_control_number}",
        f"IEA*1*{control}",
    ]
    return "~\n".join(envelope) + "~\n"
