"""Reading 999 implementation acknowledgments and 277CA claim acknowledgments."""

import dataclasses

from claims.edi.codes import (
    ACCEPTED_CATEGORIES,
    IK3_SEGMENT_ERRORS,
    IK4_ELEMENT_ERRORS,
    IK5_ERRORS,
    REJECTED_CATEGORIES,
    status_in_words,
)
from claims.edi.reader import Delimiters, TransactionSet, X12Error


@dataclasses.dataclass
class SetResponse:
    """A 999's answer for one transaction set we sent (AK2 ... IK5)."""

    group_control_number: str
    transaction_code: str
    transaction_control_number: str
    status: str  # IK5-01
    errors: list[str]

    @property
    def accepted(self) -> bool:
        return self.status in ("A", "E")


def read_999(transaction: TransactionSet, delimiters: Delimiters) -> list[SetResponse]:
    responses: list[SetResponse] = []
    group_control = ""
    current: SetResponse | None = None
    segment_context = ""
    for segment in transaction.segments:
        if segment.id == "AK1":
            group_control = segment.get(2)
            if segment.get(1) != "HC":
                raise X12Error(
                    f"Segment {segment.position} (AK1): this 999 answers a {segment.get(1)!r} group, "
                    "not claims (HC)."
                )
        elif segment.id == "AK2":
            current = SetResponse(
                group_control_number=group_control,
                transaction_code=segment.get(1),
                transaction_control_number=segment.get(2),
                status="",
                errors=[],
            )
        elif segment.id == "IK3" and current is not None:
            segment_context = f"segment {segment.get(1)} at position {segment.get(2)}"
            if segment.get(3):
                segment_context += f" (loop {segment.get(3)})"
            if segment.get(4):
                current.errors.append(
                    f"{segment_context}: {IK3_SEGMENT_ERRORS.get(segment.get(4), 'code ' + segment.get(4))}"
                )
        elif segment.id == "IK4" and current is not None:
            position = segment.get(1).split(delimiters.component)[0]
            code = segment.get(3)
            bad = f", value {segment.get(4)!r}" if segment.get(4) else ""
            current.errors.append(
                f"{segment_context}, element {position}: {IK4_ELEMENT_ERRORS.get(code, 'code ' + code)}{bad}"
            )
        elif segment.id == "IK5" and current is not None:
            current.status = segment.get(1)
            for extra in segment.elements[2:]:
                if extra:
                    current.errors.append(f"transaction set: {IK5_ERRORS.get(extra, 'code ' + extra)}")
            responses.append(current)
            current = None
    if not responses:
        raise X12Error("The 999 answers no transaction set (no AK2/IK5 pair).")
    return responses


@dataclasses.dataclass
class ClaimStatusResponse:
    patient_control_number: str
    payer_claim_number: str
    codes: list[str]  # "A7:562:85"
    reasons: list[str]
    accepted: bool
    charge: str


def read_277ca(transaction: TransactionSet, delimiters: Delimiters) -> list[ClaimStatusResponse]:
    """One response per claim (HL level PT): its TRN02 (our patient control number), STC statuses, REF*1K."""
    claims: list[ClaimStatusResponse] = []
    current: ClaimStatusResponse | None = None
    level = ""
    for segment in transaction.segments:
        if segment.id == "HL":
            level = segment.get(3)
            current = None
        elif segment.id == "TRN" and level == "PT" and segment.get(1) == "2":
            current = ClaimStatusResponse(
                patient_control_number=segment.get(2),
                payer_claim_number="",
                codes=[],
                reasons=[],
                accepted=False,
                charge="",
            )
            claims.append(current)
        elif segment.id == "STC" and current is not None:
            parts = segment.get(1).split(delimiters.component)
            category, status, entity = (parts + ["", "", ""])[:3]
            current.codes.append(":".join(p for p in (category, status, entity) if p))
            current.reasons.append(status_in_words(category, status, entity))
            if segment.get(4):
                current.charge = segment.get(4)
            for extra in (segment.get(10), segment.get(11)):
                if extra:
                    more = (extra.split(delimiters.component) + ["", "", ""])[:3]
                    current.codes.append(":".join(p for p in more if p))
                    current.reasons.append(status_in_words(*more))
        elif segment.id == "REF" and current is not None and segment.get(1) == "1K":
            current.payer_claim_number = segment.get(2)
    for claim in claims:
        categories = {code.split(":")[0] for code in claim.codes}
        if categories & REJECTED_CATEGORIES:
            claim.accepted = False
        elif categories & ACCEPTED_CATEGORIES:
            claim.accepted = True
        else:
            raise X12Error(
                f"The 277CA status for claim {claim.patient_control_number} "
                f"({', '.join(claim.codes) or 'none'}) is neither an acceptance nor a rejection."
            )
    if not claims:
        raise X12Error("The 277CA holds no claim-level (PT) status.")
    return claims
