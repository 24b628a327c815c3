"""What the contract expects the payer to allow for each line of a claim, at charge time: the amount and
where it came from (the contract in force on the line's date of service and the fee schedule row read), or
why it is unknown. Priced by ``rcm.pricing`` (the one home of the rule) as ERA posting prices it: the whole
claim at once, so the multiple-procedure reduction ranks its lines. Unknown is shown as unknown, never
guessed.
"""

import dataclasses
from decimal import Decimal

from claims.models import Claim, ClaimLine
from rcm.formats import day_text
from rcm.models import FeeScheduleRow, PayerContract, PricingMethod
from rcm.pricing import LineToPrice, PriceBook, is_facility

NO_CONTRACT = "no_contract"
NO_RATE = "no_rate"
SELF_PAY = "self_pay"
PRICED = "priced"


@dataclasses.dataclass(frozen=True)
class LineExpectation:
    """``amount`` is None when unknown; ``status`` says why (``priced``, ``no_contract``, ``no_rate``,
    ``self_pay``) and ``message`` says it in words."""

    status: str
    message: str
    amount: Decimal | None = None
    contract: PayerContract | None = None
    fee_row: FeeScheduleRow | None = None
    method: str = ""
    reduction_percent: Decimal | None = None

    @property
    def known(self) -> bool:
        return self.amount is not None


def _unknown(book: PriceBook, claim: Claim, line: ClaimLine) -> LineExpectation:
    if claim.payer_id is None:
        return LineExpectation(SELF_PAY, "unknown — self-pay, no payer contract")
    contract = book.contract_on(line.service_date_from)
    if contract is None:
        return LineExpectation(NO_CONTRACT, "unknown — no contract in force")
    if contract.pricing_method == PricingMethod.PERCENT_OF_CHARGES:
        why = "the contract has no percentage"
    elif contract.pricing_method == PricingMethod.PERCENT_OF_BASE and contract.percent is None:
        why = "the contract has no percentage"
    elif contract.pricing_method == PricingMethod.PERCENT_OF_BASE:
        base = book.base_contract_on(contract.base_payer_id, line.service_date_from)
        if contract.base_payer is None:
            why = "the contract names no base payer"
        elif base is None:
            why = (
                f"{contract.base_payer.name}, the base payer, has no fee schedule contract in force on "
                f"{day_text(line.service_date_from)}"
            )
        else:
            why = f"no row for {line.procedure_code} in the base schedule, {base.name}"
    else:
        why = f"no fee schedule row for {line.procedure_code}"
    return LineExpectation(NO_RATE, f"unknown — {why} ({contract.name})", contract=contract)


def claim_lines_expected(claim: Claim, lines: list[ClaimLine]) -> dict[int, LineExpectation]:
    """Each line's expectation by line id (removed lines are left out). Two queries at most: the payer's
    contracts and the fee rows of the claim's codes."""
    lines = [line for line in lines if not line.removed]
    if not lines:
        return {}
    book = PriceBook.load(
        practice=claim.practice_id,
        payer=claim.payer_id,
        procedure_codes={line.procedure_code for line in lines},
    )
    facility = is_facility(claim.place_of_service)
    prices = book.price_claim(
        [
            LineToPrice(
                procedure_code=line.procedure_code,
                service_date=line.service_date_from,
                modifiers=tuple(line.modifiers),
                units=line.units,
                charge=line.charge,
                facility=facility,
            )
            for line in lines
        ]
    )
    expected = {}
    for line, price in zip(lines, prices, strict=True):
        if price is None:
            expected[line.pk] = _unknown(book, claim, line)
        else:
            expected[line.pk] = LineExpectation(
                PRICED,
                "",
                amount=price.amount,
                contract=price.contract,
                fee_row=price.fee_row,
                method=price.method,
                reduction_percent=price.reduction_percent,
            )
    return expected
