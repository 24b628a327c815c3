"""Contract pricing: what a payer's contract says a claim line should be allowed. The one home of the rule
(DESIGN.md): ERA posting, charge entry and anything else that needs an expected amount ask here.

The contract in force on the line's date of service prices it by its method: a fixed fee from its own fee
schedule, a percentage of a base contract's fee schedule (e.g. 110% of Medicare), or a percentage of the
billed charge. A fee row is looked up by code, first modifier and facility setting, falling back to the row
without modifier and then to the other setting, because schedules list most codes once. When the contract has
a multiple-procedure reduction, the second and later procedures of a claim are allowed at that percentage.

Unknown stays unknown: with no contract in force, no applicable row or a percentage contract missing its
percentage, the price is None and callers show it as unknown; they never guess.

Pricing takes plain values, not claims (rcm does not import claims). A ``PriceBook`` reads one practice's
contracts with one payer and their fee rows in two queries, then prices any number of lines from memory: a
bulk recompute prices a million lines, so the book remembers the contract in force on each day and the price
of each (contract, code, modifier, setting, units) it has worked out, and a line is a plain named tuple.
"""

import dataclasses
import datetime
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from rcm.models import FeeScheduleRow, Payer, PayerContract, Practice, PricingMethod

CENT = Decimal("0.01")
HUNDRED = Decimal(100)

# Places of service paid at the facility rate of a fee schedule (CMS: the facility setting bears the
# practice expense, so the professional fee is lower).
FACILITY_PLACES_OF_SERVICE = frozenset(
    {"19", "21", "22", "23", "24", "26", "31", "34", "41", "42", "51", "52", "53", "56", "61"}
)


def is_facility(place_of_service: str) -> bool:
    """Whether a place of service is paid at the facility rate."""
    return (place_of_service or "").strip() in FACILITY_PLACES_OF_SERVICE


class LineToPrice(NamedTuple):
    """A claim line as pricing sees it. ``charge`` is the line's billed charge (all units); only the % of
    charges method needs it. (A named tuple: built for every line of a bulk run, three times cheaper than a
    frozen dataclass.)"""

    procedure_code: str
    service_date: datetime.date
    modifiers: tuple[str, ...] = ()
    units: Decimal = Decimal(1)
    charge: Decimal | None = None
    facility: bool = False


@dataclasses.dataclass(frozen=True)
class Price:
    """An expected allowed amount and where it came from: the contract, its method, the fee row read (the base
    contract's row for % of base; none for % of charges), and the multiple-procedure reduction applied."""

    amount: Decimal
    contract: PayerContract
    method: str
    fee_row: FeeScheduleRow | None = None
    reduction_percent: Decimal | None = None


def _money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def contract_in_force(contracts: Iterable[PayerContract], day: datetime.date) -> PayerContract | None:
    """The contract covering ``day``: the latest effective one when several do."""
    covering = [c for c in contracts if c.effective_date <= day and (c.end_date is None or day <= c.end_date)]
    return max(covering, key=lambda c: (c.effective_date, c.pk or 0), default=None)


class PriceBook:
    """One practice's contracts with one payer and their fee rows (those of the base contracts too), read
    once and asked per line."""

    def __init__(self, contracts: Iterable[PayerContract], rows: Iterable[FeeScheduleRow]):
        self.contracts = list(contracts)
        self.rows: dict[tuple[int, str, str, bool], FeeScheduleRow] = {
            (row.contract_id, row.procedure_code, row.modifier, row.facility): row for row in rows
        }
        # What the book has worked out, since its contracts and rows never change once read: the contract
        # in force on a day, and a line's price, whole and reduced, by everything the price depends on.
        self._contracts_on: dict[datetime.date, PayerContract | None] = {}
        self._prices: dict[tuple, tuple[Price, Price] | None] = {}

    @classmethod
    def load(
        cls, *, practice: Practice, payer: Payer | None, procedure_codes: Iterable[str] | None = None
    ) -> "PriceBook":
        """Two queries whatever the number of lines: the contracts, then the rows of these contracts and of
        their base contracts (for ``procedure_codes`` only when given)."""
        if payer is None:
            return cls([], [])
        contracts = list(PayerContract.objects.filter(practice=practice, payer=payer))
        contract_ids = {c.pk for c in contracts} | {
            c.base_contract_id for c in contracts if c.base_contract_id
        }
        rows = FeeScheduleRow.objects.filter(contract_id__in=contract_ids)
        if procedure_codes is not None:
            rows = rows.filter(procedure_code__in={code.strip().upper() for code in procedure_codes})
        return cls(contracts, rows if contract_ids else [])

    def contract_on(self, day: datetime.date) -> PayerContract | None:
        try:
            return self._contracts_on[day]
        except KeyError:
            contract = self._contracts_on[day] = contract_in_force(self.contracts, day)
            return contract

    def fee_row(self, contract_id: int | None, line: LineToPrice) -> FeeScheduleRow | None:
        """The contract's row for the line: its first modifier, else no modifier; its facility setting, else
        the other one."""
        code = line.procedure_code.strip().upper()
        modifier = line.modifiers[0].strip().upper() if line.modifiers else ""
        for mod in dict.fromkeys((modifier, "")):
            for facility in (line.facility, not line.facility):
                row = self.rows.get((contract_id, code, mod, facility))
                if row is not None:
                    return row
        return None

    def price(self, line: LineToPrice, *, rank: int = 1) -> Price | None:
        """The line's expected allowed amount, or None when unknown. ``rank`` is the line's place among the
        claim's procedures, highest expected amount first: from 2 on the contract's multiple-procedure
        reduction applies (see ``price_claim``, which ranks a claim's lines)."""
        contract = self.contract_on(line.service_date)
        if contract is None:
            return None
        method = contract.pricing_method
        # Equal units or charges (1 and 1.000) give the same rounded amount, so they may share a key.
        key = (
            id(contract),  # one of self.contracts, alive as long as the book
            line.procedure_code,
            line.modifiers[0] if line.modifiers else "",
            line.facility,
            line.units,
            None if method in (PricingMethod.FEE_SCHEDULE, PricingMethod.PERCENT_OF_BASE) else line.charge,
        )
        try:
            prices = self._prices[key]
        except KeyError:
            price = self._price(contract, line)
            prices = self._prices[key] = None if price is None else (price, _reduced(price))
        if prices is None:
            return None
        return prices[1] if rank > 1 else prices[0]

    def _price(self, contract: PayerContract, line: LineToPrice) -> Price | None:
        method, row = contract.pricing_method, None
        if method == PricingMethod.FEE_SCHEDULE:
            row = self.fee_row(contract.pk, line)
            amount = None if row is None else row.allowed_amount * line.units
        elif method == PricingMethod.PERCENT_OF_BASE:
            row = self.fee_row(contract.base_contract_id, line)
            amount = (
                None
                if row is None or contract.percent is None
                else row.allowed_amount * contract.percent / HUNDRED * line.units
            )
        else:
            amount = (
                None
                if line.charge is None or contract.percent is None
                else line.charge * contract.percent / HUNDRED
            )
        if amount is None:
            return None
        return Price(amount=_money(amount), contract=contract, method=method, fee_row=row)

    def price_claim(self, lines: Sequence[LineToPrice]) -> list[Price | None]:
        """Each line's price, in the order given, with the multiple-procedure reduction of the claim: the
        line with the highest expected amount keeps it all (the first such line on a tie), the others get
        their contract's reduced percentage when it has one. Unpriced lines take no rank."""
        prices = [self.price(line) for line in lines]
        if len(prices) < 2:
            return prices
        ranked = sorted(
            (i for i, price in enumerate(prices) if price is not None), key=lambda i: -prices[i].amount
        )
        for rank, i in enumerate(ranked[1:], start=2):
            prices[i] = self.price(lines[i], rank=rank)
        return prices


def _reduced(price: Price) -> Price:
    percent = price.contract.multiple_procedure_reduction_percent
    if percent is None:
        return price
    return dataclasses.replace(
        price, amount=_money(price.amount * percent / HUNDRED), reduction_percent=percent
    )


def line_expected_allowed(
    *,
    practice: Practice,
    payer: Payer | None,
    procedure_code: str,
    service_date: datetime.date,
    modifiers: Sequence[str] = (),
    units: Decimal = Decimal(1),
    charge: Decimal | None = None,
    facility: bool = False,
    rank: int = 1,
) -> Price | None:
    """One line's expected allowed amount (for a page showing one line); batches use a ``PriceBook``."""
    if not procedure_code:
        return None
    book = PriceBook.load(practice=practice, payer=payer, procedure_codes=[procedure_code])
    line = LineToPrice(
        procedure_code=procedure_code,
        service_date=service_date,
        modifiers=tuple(modifiers),
        units=units,
        charge=charge,
        facility=facility,
    )
    return book.price(line, rank=rank)
