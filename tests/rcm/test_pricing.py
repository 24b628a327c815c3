"""Contract pricing (rcm.pricing): each method, the fallbacks, the contract in force by date, the multiple-
procedure reduction, and a fixed number of queries however many lines are priced."""

import datetime
from decimal import Decimal

import pytest

from rcm.contracts.services import contract_new_rate_year
from rcm.models import FeeScheduleRow, PayerContract, PricingMethod
from rcm.pricing import LineToPrice, Price, PriceBook, contract_in_force, is_facility, line_expected_allowed
from tests.rcm.factories import PayerFactory

D = Decimal
DOS = datetime.date(2026, 3, 2)


@pytest.fixture
def payer(practice):
    return PayerFactory(practice=practice, name="Acme Health")


@pytest.fixture
def medicare(practice):
    return PayerFactory(practice=practice, name="Medicare Part B", kind="medicare")


def contract(payer, effective=datetime.date(2025, 1, 1), **fields):
    return PayerContract.objects.create(
        practice=payer.practice,
        payer=payer,
        name=f"{payer.name} {effective}",
        effective_date=effective,
        **fields,
    )


def row(contract, code, amount, modifier="", facility=False):
    return FeeScheduleRow.objects.create(
        practice=contract.practice,
        contract=contract,
        procedure_code=code,
        modifier=modifier,
        facility=facility,
        allowed_amount=D(amount),
    )


def price(practice, payer, code, **line):
    line.setdefault("service_date", DOS)
    return line_expected_allowed(practice=practice, payer=payer, procedure_code=code, **line)


def test_a_fee_schedule_contract_allows_its_row_times_the_units(practice, payer):
    acme = contract(payer)
    fee = row(acme, "99214", "128.40")
    assert price(practice, payer, "99214") == Price(
        amount=D("128.40"), contract=acme, method=PricingMethod.FEE_SCHEDULE, fee_row=fee
    )
    assert price(practice, payer, "99214", units=D(2)).amount == D("256.80")
    assert price(practice, payer, "99213") is None


def test_the_first_modifier_picks_the_row_else_the_row_without_modifier(practice, payer):
    acme = contract(payer)
    row(acme, "93000", "17.00")
    professional = row(acme, "93000", "8.50", modifier="26")
    assert price(practice, payer, "93000", modifiers=("26", "59")).fee_row == professional
    assert price(practice, payer, "93000", modifiers=("26", "59")).amount == D("8.50")
    # Only the first modifier prices: 59 has no row, so the row without modifier applies.
    assert price(practice, payer, "93000", modifiers=("59", "26")).amount == D("17.00")
    assert price(practice, payer, "93000").amount == D("17.00")


def test_the_facility_setting_picks_the_row_else_the_other_setting(practice, payer):
    acme = contract(payer)
    row(acme, "20610", "68.00")
    row(acme, "20610", "45.00", facility=True)
    row(acme, "99214", "128.40")
    assert price(practice, payer, "20610", facility=True).amount == D("45.00")
    assert price(practice, payer, "20610", facility=False).amount == D("68.00")
    assert price(practice, payer, "99214", facility=True).amount == D("128.40")
    assert [is_facility(pos) for pos in ("11", "19", "22", " 21 ", "")] == [False, True, True, True, False]


def test_a_percentage_of_a_base_schedule_is_rounded_once_for_all_units(practice, payer, medicare):
    base = contract(medicare)
    office_visit = row(base, "99214", "110.00")
    row(base, "36415", "33.33")
    acme = contract(
        payer, pricing_method=PricingMethod.PERCENT_OF_BASE, base_payer=medicare, percent=D("125.00")
    )
    assert price(practice, payer, "99214") == Price(
        amount=D("137.50"), contract=acme, method=PricingMethod.PERCENT_OF_BASE, fee_row=office_visit
    )
    # 33.33 x 110% x 3 = 109.989, not 3 x 36.66
    acme.percent = D("110.00")
    acme.save()
    assert price(practice, payer, "36415", units=D(3)).amount == D("109.99")


def test_a_percentage_of_a_base_schedule_without_the_base_row_is_unknown(practice, payer, medicare):
    base = contract(medicare)
    row(base, "99214", "110.00")
    contract(payer, pricing_method=PricingMethod.PERCENT_OF_BASE, base_payer=medicare, percent=D("125.00"))
    assert price(practice, payer, "20610") is None


def test_a_percentage_of_medicare_prices_each_year_from_medicare_s_contract_of_that_year(
    practice, payer, medicare, django_assert_num_queries
):
    """110% of Medicare: a 2026 line from Medicare's 2026 schedule, a 2027 line from the 2027 schedule
    loaded as Medicare's new rate year, and the 2026 line's price the same before and after it was loaded."""
    medicare_2026 = contract(medicare, effective=datetime.date(2026, 1, 1))
    visit_2026 = row(medicare_2026, "99214", "110.00")
    acme = contract(
        payer,
        effective=datetime.date(2026, 1, 1),
        pricing_method=PricingMethod.PERCENT_OF_BASE,
        base_payer=medicare,
        percent=D("110.00"),
    )
    in_2026, in_2027 = datetime.date(2026, 11, 30), datetime.date(2027, 2, 1)
    before = price(practice, payer, "99214", service_date=in_2026)
    assert before == Price(
        amount=D("121.00"), contract=acme, method=PricingMethod.PERCENT_OF_BASE, fee_row=visit_2026
    )
    assert price(practice, payer, "99214", service_date=in_2027).fee_row == visit_2026  # 2026 is open-ended

    medicare_2027 = contract_new_rate_year(contract=medicare_2026, effective_date=datetime.date(2027, 1, 1))
    visit_2027 = medicare_2027.fee_rows.get(procedure_code="99214")
    visit_2027.allowed_amount = D("115.50")
    visit_2027.save()

    after = price(practice, payer, "99214", service_date=in_2026)
    assert after == before
    assert price(practice, payer, "99214", service_date=in_2027) == Price(
        amount=D("127.05"), contract=acme, method=PricingMethod.PERCENT_OF_BASE, fee_row=visit_2027
    )
    # One book asked for both years (as a bulk recompute asks): each line from its own year's schedule,
    # though the contract, code and units are the same; still two queries.
    lines = [
        LineToPrice(procedure_code="99214", service_date=day, units=D(2))
        for day in (in_2026, in_2027, in_2026, datetime.date(2027, 12, 31), datetime.date(2025, 12, 31))
    ]
    with django_assert_num_queries(2):
        book = PriceBook.load(practice=practice, payer=payer, procedure_codes=["99214"])
        prices = [book.price(line) for line in lines]
    assert [p and (p.amount, p.fee_row) for p in prices] == [
        (D("242.00"), visit_2026),
        (D("254.10"), visit_2027),
        (D("242.00"), visit_2026),
        (D("254.10"), visit_2027),
        None,  # before Acme's contract
    ]
    assert book.base_contract_on(medicare.pk, in_2027) == medicare_2027


def test_a_percentage_of_base_is_unknown_without_a_base_fee_schedule_in_force_on_the_date(
    practice, payer, medicare
):
    medicare_2026 = contract(medicare, effective=datetime.date(2026, 1, 1))
    medicare_2026.end_date = datetime.date(2026, 12, 31)
    medicare_2026.save()
    row(medicare_2026, "99214", "110.00")
    contract(
        payer,
        effective=datetime.date(2025, 1, 1),
        pricing_method=PricingMethod.PERCENT_OF_BASE,
        base_payer=medicare,
        percent=D("110.00"),
    )
    assert price(practice, payer, "99214", service_date=datetime.date(2025, 12, 31)) is None
    assert price(practice, payer, "99214", service_date=datetime.date(2026, 12, 31)).amount == D("121.00")
    assert price(practice, payer, "99214", service_date=datetime.date(2027, 1, 1)) is None
    # Medicare's contract in force in 2027 is not priced by a fee schedule: no base for 2027, even with rows.
    medicare_2027 = contract(
        medicare,
        effective=datetime.date(2027, 1, 1),
        pricing_method=PricingMethod.PERCENT_OF_CHARGES,
        percent=D("40.00"),
    )
    row(medicare_2027, "99214", "115.50")
    assert price(practice, payer, "99214", service_date=datetime.date(2027, 1, 1), charge=D("200")) is None
    assert price(practice, payer, "99214", service_date=datetime.date(2026, 6, 1)).amount == D("121.00")


def test_only_the_base_payer_s_fee_schedules_overlapping_the_contract_are_read(practice, payer, medicare):
    old = contract(medicare, effective=datetime.date(2020, 1, 1))
    old.end_date = datetime.date(2020, 12, 31)
    old.save()
    row(old, "99214", "90.00")
    current = contract(medicare, effective=datetime.date(2026, 1, 1))
    visit = row(current, "99214", "110.00")
    contract(
        payer,
        effective=datetime.date(2026, 1, 1),
        pricing_method=PricingMethod.PERCENT_OF_BASE,
        base_payer=medicare,
        percent=D("110.00"),
    )
    contract(PayerFactory(practice=practice), effective=datetime.date(2026, 1, 1))  # no one's base
    book = PriceBook.load(practice=practice, payer=payer)
    assert (book.base_contracts, list(book.rows.values())) == ({medicare.pk: [current]}, [visit])


def test_a_percentage_of_charges_rounds_half_up(practice, payer):
    acme = contract(payer, pricing_method=PricingMethod.PERCENT_OF_CHARGES, percent=D("50.00"))
    assert price(practice, payer, "99214", charge=D("185.00")) == Price(
        amount=D("92.50"), contract=acme, method=PricingMethod.PERCENT_OF_CHARGES
    )
    assert price(practice, payer, "36415", charge=D("10.05")).amount == D("5.03")
    assert price(practice, payer, "36415") is None  # no charge to take a percentage of


def test_the_contract_in_force_on_the_date_of_service_prices_the_line(practice, payer):
    older = contract(payer, effective=datetime.date(2024, 1, 1))
    newer = contract(payer, effective=datetime.date(2026, 1, 1))
    row(older, "99214", "120.00")
    row(newer, "99214", "128.40")
    assert price(practice, payer, "99214", service_date=datetime.date(2025, 12, 31)).amount == D("120.00")
    assert price(practice, payer, "99214", service_date=datetime.date(2026, 1, 1)).amount == D("128.40")
    assert price(practice, payer, "99214", service_date=datetime.date(2023, 12, 31)) is None
    older.end_date = datetime.date(2024, 6, 30)
    older.save()
    assert price(practice, payer, "99214", service_date=datetime.date(2025, 12, 31)) is None
    assert contract_in_force([older, newer], datetime.date(2024, 6, 30)) == older


def test_without_a_contract_nothing_is_guessed(practice, payer, other_practice):
    other_payer = PayerFactory(practice=other_practice)
    row(contract(other_payer), "99214", "128.40")
    assert price(practice, payer, "99214") is None
    assert price(practice, None, "99214") is None
    assert price(practice, payer, "") is None


def test_the_multiple_procedure_reduction_keeps_the_highest_line_whole(practice, payer):
    acme = contract(payer, multiple_procedure_reduction_percent=D("50.00"))
    row(acme, "99214", "128.40")
    row(acme, "20610", "68.00")
    row(acme, "93000", "17.01")
    book = PriceBook.load(practice=practice, payer=payer)
    lines = [
        LineToPrice(procedure_code=code, service_date=DOS) for code in ("93000", "99214", "20610", "99999")
    ]
    prices = book.price_claim(lines)
    assert [p and (p.amount, p.reduction_percent) for p in prices] == [
        (D("8.51"), D("50.00")),  # 17.01 x 50% = 8.505, half up
        (D("128.40"), None),
        (D("34.00"), D("50.00")),
        None,
    ]
    # Two lines at the same amount: the first keeps it all.
    twins = book.price_claim([LineToPrice(procedure_code="20610", service_date=DOS)] * 2)
    assert [p.amount for p in twins] == [D("68.00"), D("34.00")]
    # One line priced alone, told its rank.
    assert book.price(lines[1], rank=2).amount == D("64.20")
    assert book.price(lines[1], rank=1).amount == D("128.40")


def test_without_a_multiple_procedure_reduction_every_line_is_whole(practice, payer):
    acme = contract(payer)
    row(acme, "99214", "128.40")
    row(acme, "20610", "68.00")
    book = PriceBook.load(practice=practice, payer=payer)
    prices = book.price_claim(
        [LineToPrice(procedure_code=code, service_date=DOS) for code in ("99214", "20610")]
    )
    assert [(p.amount, p.reduction_percent) for p in prices] == [(D("128.40"), None), (D("68.00"), None)]
    assert book.price(LineToPrice(procedure_code="20610", service_date=DOS), rank=3).amount == D("68.00")


def test_many_lines_are_priced_from_two_queries(practice, payer, medicare, django_assert_num_queries):
    base = contract(medicare)
    older = contract(payer, effective=datetime.date(2024, 1, 1))
    contract(
        payer,
        effective=datetime.date(2026, 1, 1),
        pricing_method=PricingMethod.PERCENT_OF_BASE,
        base_payer=medicare,
        percent=D("110.00"),
    )
    codes = [f"{99200 + n}" for n in range(50)]
    for n, code in enumerate(codes):
        row(base, code, f"{100 + n}.00")
        row(older, code, f"{90 + n}.00")
    lines = [
        LineToPrice(procedure_code=code, service_date=day, units=D(2))
        for code in codes
        for day in (datetime.date(2025, 5, 1), DOS)
    ] * 2
    with django_assert_num_queries(2):
        book = PriceBook.load(practice=practice, payer=payer, procedure_codes=codes)
        prices = book.price_claim(lines)
    assert len(prices) == 200
    assert (prices[0].amount, prices[1].amount) == (D("180.00"), D("220.00"))
    assert sum(p.amount for p in prices) == D("50290.00")


def test_a_book_asked_again_prices_each_line_as_a_fresh_book_does(practice, payer):
    """The book remembers the contract of each day and the price of each (contract, code, modifier,
    setting, units) and, for % of charges, charge: lines that share some of these but not all still get
    their own price, the same as a new book gives each alone."""
    fees = contract(
        payer, effective=datetime.date(2025, 1, 1), multiple_procedure_reduction_percent=D("50.00")
    )
    fees.end_date = datetime.date(2025, 12, 31)
    fees.save()
    contract(
        payer,
        effective=datetime.date(2026, 1, 1),
        pricing_method=PricingMethod.PERCENT_OF_CHARGES,
        percent=D("60.00"),
    )
    row(fees, "99214", "128.40")
    row(fees, "99214", "140.00", modifier="25")
    row(fees, "99214", "120.00", facility=True)
    in_2025, in_2026 = datetime.date(2025, 6, 2), DOS
    lines = [
        LineToPrice(
            procedure_code="99214",
            service_date=day,
            modifiers=modifiers,
            units=units,
            charge=charge,
            facility=facility,
        )
        for day in (in_2025, in_2026)
        for modifiers in ((), ("25",))
        for units in (D(1), D("1.000"), D(2))
        for charge in (D("185.00"), D("90.00"))
        for facility in (False, True)
    ]
    book = PriceBook.load(practice=practice, payer=payer)
    warm = [book.price(line) for line in lines] + [book.price(line, rank=2) for line in lines]
    fresh = [PriceBook.load(practice=practice, payer=payer).price(line) for line in lines] + [
        PriceBook.load(practice=practice, payer=payer).price(line, rank=2) for line in lines
    ]
    assert warm == fresh
    amounts = {
        (line.service_date, line.modifiers, line.units, line.charge, line.facility): p.amount
        for line, p in zip(lines, warm[: len(lines)], strict=True)
    }
    assert amounts[(in_2025, (), D(1), D("185.00"), False)] == D("128.40")
    assert amounts[(in_2025, ("25",), D(2), D("90.00"), False)] == D("280.00")
    assert amounts[(in_2025, (), D("1.000"), D("90.00"), True)] == D("120.00")
    assert amounts[(in_2026, (), D(1), D("185.00"), False)] == D("111.00")
    assert amounts[(in_2026, ("25",), D(2), D("90.00"), True)] == D("54.00")
    assert [p.amount for p in warm[len(lines) :]][:2] == [D("64.20"), D("60.00")]  # 2025's reduction, rank 2
    assert book.price_claim(lines[:2]) == [warm[0], warm[len(lines) + 1]]
