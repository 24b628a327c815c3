"""Contract pricing: what a payer's contract says a claim line should be allowed. The one home of the rule
(DESIGN.md): ERA posting, charge entry and anything else that needs an expected amount ask here.

The contract in force on the line's date of service prices it by its method: a fixed fee from its own fee
schedule, a percentage of a base payer's fee schedule (e.g. 110% of Medicare), or a percentage of the billed
charge. For a percentage of a base schedule the base is the base payer's contract in force on the same date
of service, read by its own fee schedule: when Medicare's 2027 schedule is loaded as a new Medicare contract,
2027 lines are priced from it and 2026 lines still from the 2026 one. A fee row is looked up by code, first
modifier and facility setting, falling back to the row without modifier and then to the other setting,
because schedules list most codes once. When the contract has a multiple-procedure reduction, the second and
later procedures of a claim are allowed at that percentage.

Unknown stays unknown: with no contract in force, no applicable row, a percentage contract missing its
percentage, or a base payer with no contract in force on the date (or one not priced by a fee schedule), the
price is None and callers show it as unknown; they never guess.

Pricing takes plain values, not claims (rcm does not import claims). A ``PriceBook`` reads one practice's
contracts with one payer, those of the base payers they name, and the fee rows of all these in two queries,
then prices any number of lines from memory: a bulk recompute prices a million lines, so the book remembers
the contract in force on each day (and the base payer's on each day) and the price of each (contract, base
contract, code, modifier, setting, units) it has worked out, and a line is a plain named tuple.
"""

import dataclasses
import datetime
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.db.models import Q

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
    """An expected allowed amount and where it came from: the contract, its method, the fee row read (for % of
    base, the row of the base payer's contract in force on the date of service, so ``fee_row.contract_id``
    names the schedule used; none for % of charges), and the multiple-procedure reduction applied."""

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


def _based_on(contract: PayerContract, base: PayerContract) -> bool:
    """Whether ``base`` can be the base of ``contract`` on some day: ``contract`` is a % of its payer's
    schedule and their dates overlap."""
    return (
        contract.pricing_method == PricingMethod.PERCENT_OF_BASE
        and contract.base_payer_id == base.payer_id
        and base.effective_date <= (contract.end_date or datetime.date.max)
        and contract.effective_date <= (base.end_date or datetime.date.max)
    )


class _Terms(NamedTuple):
    """What prices the lines of a day: the contract in force, the base payer's contract in force for % of
    base, and whether the price depends on the line's charge."""

    contract: PayerContract
    base: PayerContract | None
    by_charge: bool


class PriceBook:
    """One practice's contracts with one payer, the contracts of the base payers they name, and the fee rows
    of all these, read once and asked per line."""

    def __init__(
        self,
        contracts: Iterable[PayerContract],
        rows: Iterable[FeeScheduleRow],
        base_contracts: Iterable[PayerContract] = (),
    ):
        self.contracts = list(contracts)
        self.base_contracts: dict[int, list[PayerContract]] = {}
        for contract in base_contracts:
            self.base_contracts.setdefault(contract.payer_id, []).append(contract)
        self.rows: dict[tuple[int, str, str, bool], FeeScheduleRow] = {
            (row.contract_id, row.procedure_code, row.modifier, row.facility): row for row in rows
        }
        # What the book has worked out, since its contracts and rows never change once read: the contract
        # in force on a day, the base payer's contract in force on a day, the terms of a day (one object per
        # (contract, base contract) pair, so that lines of different days share prices), and a line's price,
        # whole and reduced, by everything the price depends on.
        self._contracts_on: dict[datetime.date, PayerContract | None] = {}
        self._bases_on: dict[tuple[int | None, datetime.date], PayerContract | None] = {}
        self._terms_on: dict[datetime.date, _Terms | None] = {}
        self._terms_of: dict[tuple[int, int], _Terms] = {}
        self._prices: dict[tuple, tuple[Price, Price] | None] = {}

    @classmethod
    def load(
        cls,
        *,
        practice: Practice | int,
        payer: Payer | int | None,
        procedure_codes: Iterable[str] | None = None,
    ) -> "PriceBook":
        """Two queries whatever the number of lines: the payer's contracts with those of the base payers they
        name, then the fee rows of those priced by fee schedule (for ``procedure_codes`` only when given).
        A base payer's contracts are kept only when they overlap the dates of a contract based on them, so
        a long history of base schedules costs nothing it cannot price."""
        if payer is None:
            return cls([], [])
        payer_id = payer if isinstance(payer, int) else payer.pk
        named_bases = PayerContract.objects.filter(
            practice=practice,
            payer=payer,
            pricing_method=PricingMethod.PERCENT_OF_BASE,
            base_payer__isnull=False,
        ).values("base_payer_id")
        everything = list(
            PayerContract.objects.filter(practice=practice)
            .filter(Q(payer=payer) | Q(payer_id__in=named_bases))
            .select_related("base_payer")  # its name, for why a line is unknown
        )
        contracts = [c for c in everything if c.payer_id == payer_id]
        base_contracts = [
            base
            for base in everything
            if base.payer_id != payer_id and any(_based_on(contract, base) for contract in contracts)
        ]
        contract_ids = {
            c.pk for c in (*contracts, *base_contracts) if c.pricing_method == PricingMethod.FEE_SCHEDULE
        }
        rows = FeeScheduleRow.objects.filter(contract_id__in=contract_ids)
        if procedure_codes is not None:
            rows = rows.filter(procedure_code__in={code.strip().upper() for code in procedure_codes})
        return cls(contracts, rows if contract_ids else [], base_contracts)

    def contract_on(self, day: datetime.date) -> PayerContract | None:
        try:
            return self._contracts_on[day]
        except KeyError:
            contract = self._contracts_on[day] = contract_in_force(self.contracts, day)
            return contract

    def base_contract_on(self, base_payer_id: int | None, day: datetime.date) -> PayerContract | None:
        """The base payer's contract in force on ``day`` when it is priced by its own fee schedule (the base
        of a % of base contract), else None."""
        key = (base_payer_id, day)
        try:
            return self._bases_on[key]
        except KeyError:
            base = contract_in_force(self.base_contracts.get(base_payer_id, ()), day)
            if base is not None and base.pricing_method != PricingMethod.FEE_SCHEDULE:
                base = None
            self._bases_on[key] = base
            return base

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
        try:
            terms = self._terms_on[line.service_date]
        except KeyError:
            terms = self._terms_on[line.service_date] = self._terms(line.service_date)
        if terms is None:
            return None
        # Equal units or charges (1 and 1.000) give the same rounded amount, so they may share a key. The
        # terms are the contract and, for % of base, the base contract of the day: one % of base contract
        # spans several of the base payer's rate years.
        key = (
            id(terms),  # one per (contract, base contract), alive as long as the book
            line.procedure_code,
            line.modifiers[0] if line.modifiers else "",
            line.facility,
            line.units,
            line.charge if terms.by_charge else None,
        )
        try:
            prices = self._prices[key]
        except KeyError:
            price = self._price(terms.contract, terms.base, line)
            prices = self._prices[key] = None if price is None else (price, _reduced(price))
        if prices is None:
            return None
        return prices[1] if rank > 1 else prices[0]

    def _terms(self, day: datetime.date) -> "_Terms | None":
        """What prices the lines of ``day``, or None when nothing can: no contract in force, or a % of base
        contract whose base payer has no fee schedule contract in force that day."""
        contract = self.contract_on(day)
        if contract is None:
            return None
        base = None
        if contract.pricing_method == PricingMethod.PERCENT_OF_BASE:
            base = self.base_contract_on(contract.base_payer_id, day)
            if base is None:
                return None
        by_charge = contract.pricing_method not in (PricingMethod.FEE_SCHEDULE, PricingMethod.PERCENT_OF_BASE)
        return self._terms_of.setdefault((id(contract), id(base)), _Terms(contract, base, by_charge))

    def _price(self, contract: PayerContract, base: PayerContract | None, line: LineToPrice) -> Price | None:
        method, row = contract.pricing_method, None
        if method == PricingMethod.FEE_SCHEDULE:
            row = self.fee_row(contract.pk, line)
            amount = None if row is None else row.allowed_amount * line.units
        elif method == PricingMethod.PERCENT_OF_BASE:
            row = None if base is None else self.fee_row(base.pk, line)
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
