"""Payers and contracts: create, edit, deactivate; effective dating with overlaps refused; a new rate year
leaves earlier claims' expected amounts as they were; the pages and their permissions."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from rcm.contracts.services import (
    contract_create,
    contract_new_rate_year,
    contract_update,
    payer_create,
    payer_deactivate,
    payer_update,
)
from rcm.models import AuditEvent, FeeScheduleRow, Payer, PayerContract, PricingMethod
from rcm.pricing import contract_in_force, line_expected_allowed
from tests.conftest import login
from tests.rcm.factories import PayerFactory

D = Decimal
JAN1 = datetime.date(2026, 1, 1)


@pytest.fixture
def payer(practice):
    return PayerFactory(practice=practice, name="Acme Health", payer_id="ACME1")


def _contract(practice, payer, **terms):
    terms.setdefault("name", "Acme PPO 2026")
    terms.setdefault("effective_date", JAN1)
    return contract_create(practice=practice, payer=payer, **terms)


def _row(contract, code, amount, **fields):
    return FeeScheduleRow.objects.create(
        practice=contract.practice, contract=contract, procedure_code=code, allowed_amount=D(amount), **fields
    )


# --- Payers ------------------------------------------------------------------------------------


def test_a_payer_is_created_with_its_edi_id_and_kind_and_audited(practice):
    payer = payer_create(practice=practice, name=" Blue Plan ", payer_id="bcbs01", kind="commercial")
    payer.refresh_from_db()
    assert (payer.name, payer.payer_id, payer.kind, payer.is_active) == (
        "Blue Plan",
        "BCBS01",
        "commercial",
        True,
    )
    event = AuditEvent.objects.get(object_type="rcm.payer", object_id=str(payer.pk))
    assert (event.action, event.changes["payer_id"]) == ("create", [None, "BCBS01"])


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"payer_id": "ACME1"}, "payer_id", "Payer ID ACME1 is already used by Acme Health."),
        (
            {"payer_id": "A B"},
            "payer_id",
            "Payer ID 'A B' must be 2 to 20 letters, digits or dashes (the EDI id).",
        ),
        ({"kind": "barter"}, "kind", "Value 'barter' is not a valid choice."),
        ({"name": ""}, "name", "This field cannot be blank."),
    ],
)
def test_a_bad_payer_is_refused_and_nothing_saved(practice, payer, fields, field, message):
    values = {"name": "Other", "payer_id": "OTH01", "kind": "commercial", **fields}
    with pytest.raises(ValidationError) as refused:
        payer_create(practice=practice, **values)
    assert refused.value.message_dict[field] == [message]
    assert list(Payer.objects.values_list("payer_id", flat=True)) == ["ACME1"]


def test_the_same_edi_id_is_fine_in_another_practice(payer, other_practice):
    other = payer_create(practice=other_practice, name="Acme", payer_id="ACME1", kind="commercial")
    assert other.practice == other_practice


def test_edit_and_deactivate_keep_the_payer_and_are_audited(payer):
    payer_update(payer=payer, name="Acme Health Plans", no_response_days=45)
    payer_deactivate(payer=payer)
    payer.refresh_from_db()
    assert (payer.name, payer.no_response_days, payer.is_active) == ("Acme Health Plans", 45, False)
    changes = [
        e.changes for e in AuditEvent.objects.filter(object_type="rcm.payer", action="update").order_by("pk")
    ]
    assert changes == [
        {"name": ["Acme Health", "Acme Health Plans"], "no_response_days": [30, 45]},
        {"is_active": [True, False]},
    ]


# --- Contracts ---------------------------------------------------------------------------------


def test_a_contract_keeps_all_its_terms(practice, payer):
    contract = _contract(
        practice,
        payer,
        end_date=datetime.date(2026, 12, 31),
        in_network=False,
        timely_filing_days=90,
        appeal_limit_days=60,
        prior_auth_codes="20610, 73721 20610 g0283",
        underpayment_tolerance_amount=D("2.50"),
        underpayment_tolerance_percent=D("1.5"),
        multiple_procedure_reduction_percent=D("50"),
        notes="Rates reviewed with the rep.",
        renegotiation_date=datetime.date(2026, 10, 1),
    )
    contract.refresh_from_db()
    assert (
        contract.in_network,
        contract.timely_filing_days,
        contract.appeal_limit_days,
        contract.prior_auth_codes,
        contract.underpayment_tolerance_amount,
        contract.underpayment_tolerance_percent,
        contract.multiple_procedure_reduction_percent,
        contract.notes,
        contract.renegotiation_date,
    ) == (
        False,
        90,
        60,
        ["20610", "73721", "G0283"],
        D("2.50"),
        D("1.50"),
        D("50.00"),
        "Rates reviewed with the rep.",
        datetime.date(2026, 10, 1),
    )


@pytest.mark.parametrize(
    ("terms", "field", "message"),
    [
        (
            {"prior_auth_codes": ["20610", "ABC"]},
            "prior_auth_codes",
            "Not procedure codes (CPT or HCPCS): ABC.",
        ),
        ({"end_date": datetime.date(2025, 12, 1)}, "end_date", "The end date is before the effective date."),
        (
            {"pricing_method": PricingMethod.PERCENT_OF_CHARGES},
            "percent",
            "A percentage method needs the percentage.",
        ),
        (
            {"pricing_method": PricingMethod.PERCENT_OF_BASE, "percent": D("110")},
            "base_payer",
            "The % of a base schedule method needs the base payer.",
        ),
        (
            {"underpayment_tolerance_amount": D("-1")},
            "underpayment_tolerance_amount",
            "The tolerance cannot be negative.",
        ),
        (
            {"multiple_procedure_reduction_percent": D("150")},
            "multiple_procedure_reduction_percent",
            "Ensure this value is less than or equal to 100.",
        ),
    ],
)
def test_bad_terms_are_refused_and_nothing_saved(practice, payer, terms, field, message):
    with pytest.raises(ValidationError) as refused:
        _contract(practice, payer, **terms)
    assert refused.value.message_dict[field] == [message]
    assert PayerContract.objects.count() == 0


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (datetime.date(2026, 6, 1), None),  # starts inside, open-ended
        (datetime.date(2025, 6, 1), datetime.date(2026, 1, 1)),  # ends on the first day of the other
        (datetime.date(2025, 1, 1), None),  # covers it
    ],
)
def test_an_overlapping_contract_for_the_same_payer_is_refused_with_the_other_named(
    practice, payer, start, end
):
    _contract(practice, payer, end_date=datetime.date(2026, 12, 31))
    with pytest.raises(ValidationError) as refused:
        _contract(practice, payer, name="Second", effective_date=start, end_date=end)
    (message,) = refused.value.message_dict["effective_date"]
    assert "overlap the contract “Acme PPO 2026” (01/01/2026 to 12/31/2026)" in message
    assert message.endswith("end the other contract first, or start a new rate year from it.")
    assert PayerContract.objects.count() == 1


def test_contracts_that_meet_end_to_start_and_other_payers_contracts_are_fine(practice, payer):
    _contract(practice, payer, end_date=datetime.date(2026, 12, 31))
    _contract(practice, payer, name="2027", effective_date=datetime.date(2027, 1, 1))
    _contract(practice, PayerFactory(practice=practice), name="Other payer")
    assert PayerContract.objects.count() == 3


def test_an_edit_that_would_overlap_is_refused_and_the_contract_stays(practice, payer):
    first = _contract(practice, payer, end_date=datetime.date(2026, 6, 30))
    _contract(practice, payer, name="H2", effective_date=datetime.date(2026, 7, 1))
    with pytest.raises(ValidationError):
        contract_update(contract=first, end_date=datetime.date(2026, 7, 31))
    first.refresh_from_db()
    assert first.end_date == datetime.date(2026, 6, 30)


def test_a_new_rate_year_copies_terms_and_rows_and_ends_the_old_contract_the_day_before(practice, payer):
    old = _contract(practice, payer, timely_filing_days=90, prior_auth_codes=["20610"], notes="n")
    _row(old, "99213", "92.50")
    _row(old, "99213", "71.20", facility=True)
    new = contract_new_rate_year(contract=old, effective_date=datetime.date(2027, 1, 1), name="Acme PPO 2027")
    old.refresh_from_db()
    assert (old.effective_date, old.end_date) == (JAN1, datetime.date(2026, 12, 31))
    assert (
        new.name,
        new.effective_date,
        new.end_date,
        new.timely_filing_days,
        new.prior_auth_codes,
        new.notes,
    ) == (
        "Acme PPO 2027",
        datetime.date(2027, 1, 1),
        None,
        90,
        ["20610"],
        "n",
    )
    rows = lambda c: sorted(c.fee_rows.values_list("procedure_code", "facility", "allowed_amount"))  # noqa: E731
    assert rows(new) == rows(old) == [("99213", False, D("92.50")), ("99213", True, D("71.20"))]
    assert contract_in_force([old, new], datetime.date(2026, 12, 31)) == old
    assert contract_in_force([old, new], datetime.date(2027, 1, 1)) == new


def test_new_rates_from_a_date_leave_earlier_claims_expected_amounts_as_they_were(practice, payer):
    old = _contract(practice, payer)
    _row(old, "99213", "92.50")
    new = contract_new_rate_year(contract=old, effective_date=datetime.date(2026, 7, 1))
    FeeScheduleRow.objects.filter(contract=new, procedure_code="99213").update(allowed_amount=D("97.00"))

    def expected(day):
        price = line_expected_allowed(
            practice=practice, payer=payer, procedure_code="99213", service_date=day
        )
        return price.amount, price.contract.pk

    assert expected(datetime.date(2026, 6, 30)) == (D("92.50"), old.pk)
    assert expected(datetime.date(2026, 7, 1)) == (D("97.00"), new.pk)
    assert old.fee_rows.get().allowed_amount == D("92.50")


@pytest.mark.parametrize(
    "day", [datetime.date(2026, 1, 1), datetime.date(2025, 12, 1), datetime.date(2027, 1, 1)]
)
def test_a_new_rate_year_must_start_inside_the_contract_it_follows(practice, payer, day):
    old = _contract(practice, payer, end_date=datetime.date(2026, 12, 31))
    with pytest.raises(ValidationError) as refused:
        contract_new_rate_year(contract=old, effective_date=day)
    assert refused.value.message_dict["effective_date"] == [
        "A new rate year starts inside the contract it follows: after 01/01/2026 "
        "and no later than 12/31/2026."
    ]
    old.refresh_from_db()
    assert old.end_date == datetime.date(2026, 12, 31)
    assert PayerContract.objects.count() == 1


# --- Pages -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"), [("biller", 200), ("collections", 403), ("manager", 200), ("admin", 200)]
)
def test_who_may_see_the_payers_page(persona, payer, role, status):
    assert persona(role).get("/payers/").status_code == status


@pytest.mark.parametrize(("role", "status"), [("biller", 403), ("manager", 200), ("admin", 200)])
def test_who_may_create_a_payer(persona, role, status):
    assert persona(role).get("/payers/new/").status_code == status


def test_the_payer_list_shows_the_contract_in_force_today_in_a_fixed_number_of_queries(
    practice, manager, payer, django_assert_num_queries
):
    _contract(practice, payer, name="Acme PPO 2020", effective_date=datetime.date(2020, 1, 1))
    PayerFactory(practice=practice, name="Zeta Care", payer_id="ZETA1")
    client = login(manager)
    # session, user, memberships + payers, contracts
    with django_assert_num_queries(5):
        response = client.get("/payers/")
    rows = [(p.name, p.contract_today.name if p.contract_today else None) for p in response.context["payers"]]
    assert rows == [("Acme Health", "Acme PPO 2020"), ("Zeta Care", None)]


def test_another_practices_payer_and_contract_are_404(practice, outsider, payer):
    contract = _contract(practice, payer)
    client = login(outsider)
    assert client.get(f"/payers/{payer.pk}/").status_code == 404
    assert client.get(f"/payers/contracts/{contract.pk}/").status_code == 404


def test_the_manager_creates_a_payer_and_a_contract_on_the_pages(practice, manager):
    client = login(manager)
    response = client.post(
        "/payers/new/",
        {"name": "Blue Plan", "payer_id": "BP001", "kind": "commercial", "no_response_days": "30"},
    )
    payer = Payer.objects.get(payer_id="BP001")
    assert response["Location"] == f"/payers/{payer.pk}/"
    response = client.post(
        f"/payers/{payer.pk}/contracts/new/",
        {
            "name": "Blue 2026",
            "effective_date": "2026-01-01",
            "in_network": "on",
            "timely_filing_days": "180",
            "appeal_limit_days": "90",
            "prior_auth_codes": "20610 73721",
            "pricing_method": "fee_schedule",
            "underpayment_tolerance_amount": "1.00",
            "underpayment_tolerance_percent": "0",
            "renegotiation_date": "2026-09-01",
        },
    )
    contract = PayerContract.objects.get(payer=payer)
    assert response["Location"] == f"/payers/contracts/{contract.pk}/"
    assert (contract.timely_filing_days, contract.prior_auth_codes, contract.renegotiation_date) == (
        180,
        ["20610", "73721"],
        datetime.date(2026, 9, 1),
    )
    page = client.get(f"/payers/contracts/{contract.pk}/").content.decode()
    assert "180 days from the date of service" in page
    assert "20610 73721" in page


def test_an_overlapping_contract_on_the_page_shows_the_reason_and_saves_nothing(practice, manager, payer):
    _contract(practice, payer)
    response = login(manager).post(
        f"/payers/{payer.pk}/contracts/new/",
        {
            "name": "Again",
            "effective_date": "2026-03-01",
            "timely_filing_days": "365",
            "appeal_limit_days": "180",
            "pricing_method": "fee_schedule",
            "underpayment_tolerance_amount": "1.00",
            "underpayment_tolerance_percent": "0",
        },
    )
    assert response.status_code == 400
    assert "overlap the contract “Acme PPO 2026”" in response.content.decode()
    assert PayerContract.objects.count() == 1


def test_the_rate_year_form_makes_the_new_contract(practice, manager, payer):
    old = _contract(practice, payer)
    response = login(manager).post(
        f"/payers/contracts/{old.pk}/rate-year/", {"effective_date": "2027-01-01", "name": "Acme PPO 2027"}
    )
    new = PayerContract.objects.get(name="Acme PPO 2027")
    assert response["Location"] == f"/payers/contracts/{new.pk}/"
    old.refresh_from_db()
    assert old.end_date == datetime.date(2026, 12, 31)


def test_deactivate_on_the_page(manager, payer):
    login(manager).post(f"/payers/{payer.pk}/active/", {"active": "0"})
    payer.refresh_from_db()
    assert payer.is_active is False


def test_the_contract_page_reads_a_fixed_number_of_queries_whatever_its_rows(
    practice, manager, payer, django_assert_num_queries
):
    contract = _contract(practice, payer)
    client = login(manager)
    # session, user, memberships + contract, row count, files loaded (no rows: no page to read)
    with django_assert_num_queries(6):
        client.get(f"/payers/contracts/{contract.pk}/")
    for code in range(99201, 99261):
        _row(contract, str(code), "10.00")
    with django_assert_num_queries(7):  # + the rows of the page
        response = client.get(f"/payers/contracts/{contract.pk}/")
    assert len(response.context["rows"]) == 60


def test_the_contract_forms_open_with_the_terms_filled_in(practice, manager, payer):
    contract = _contract(practice, payer, prior_auth_codes=["20610", "73721"])
    client = login(manager)
    assert client.get(f"/payers/{payer.pk}/contracts/new/").status_code == 200
    page = client.get(f"/payers/contracts/{contract.pk}/edit/").content.decode()
    assert 'value="20610 73721"' in page
    assert "New rates from a date on are a new rate year" in page


def test_a_rate_year_outside_the_contract_on_the_page_says_why_and_changes_nothing(practice, manager, payer):
    contract = _contract(practice, payer)
    response = login(manager).post(
        f"/payers/contracts/{contract.pk}/rate-year/", {"effective_date": "2025-06-01"}
    )
    assert response.status_code == 400
    assert (
        "A new rate year starts inside the contract it follows: after 01/01/2026."
        in response.content.decode()
    )
    assert PayerContract.objects.count() == 1


@pytest.fixture
def medicare(practice):
    return PayerFactory(practice=practice, name="Medicare Part B", payer_id="15202", kind="medicare")


def _percent_of_medicare(practice, payer, medicare, **terms):
    return _contract(
        practice,
        payer,
        pricing_method=PricingMethod.PERCENT_OF_BASE,
        percent=D("110"),
        base_payer=medicare,
        **terms,
    )


def test_a_percent_of_base_contract_names_its_base_payer_and_loses_it_with_another_method(
    practice, payer, medicare
):
    contract = _percent_of_medicare(practice, payer, medicare)
    contract.refresh_from_db()
    assert (contract.pricing_method, contract.percent, contract.base_payer) == (
        PricingMethod.PERCENT_OF_BASE,
        D("110.00"),
        medicare,
    )
    assert list(medicare.derived_contracts.all()) == [contract]
    contract_update(contract=contract, pricing_method=PricingMethod.PERCENT_OF_CHARGES, percent=D("60"))
    contract.refresh_from_db()
    assert (contract.pricing_method, contract.base_payer) == (PricingMethod.PERCENT_OF_CHARGES, None)


def test_a_contract_cannot_be_based_on_its_own_payer(practice, payer):
    with pytest.raises(ValidationError) as refused:
        _percent_of_medicare(practice, payer, payer)
    assert refused.value.message_dict == {
        "base_payer": [
            "The base payer cannot be the contract's own payer (Acme Health): choose the payer whose "
            "schedule is the base (e.g. Medicare)."
        ]
    }
    assert PayerContract.objects.count() == 0


def test_another_practices_payer_cannot_be_the_base(practice, payer, other_practice):
    theirs = PayerFactory(practice=other_practice, name="Medicare Part B")
    with pytest.raises(ValidationError) as refused:
        _percent_of_medicare(practice, payer, theirs)
    assert refused.value.message_dict == {"base_payer": ["The base payer belongs to another practice."]}
    assert PayerContract.objects.count() == 0


def test_an_edit_to_its_own_payer_as_base_is_refused_and_the_contract_stays(practice, payer, medicare):
    contract = _percent_of_medicare(practice, payer, medicare)
    with pytest.raises(ValidationError) as refused:
        contract_update(contract=contract, base_payer=payer)
    assert list(refused.value.message_dict) == ["base_payer"]
    contract.refresh_from_db()
    assert contract.base_payer == medicare


def test_the_base_payer_s_contracts_are_judged_per_date_of_service_not_locked(practice, payer, medicare):
    """Medicare's contract may change method (a correction): the dates it covers have no base schedule any
    more, so lines of those dates are unknown; nothing is refused and nothing guessed."""
    base = _contract(practice, medicare, name="Medicare 2026")
    _row(base, "99213", "90.00")
    _percent_of_medicare(practice, payer, medicare, name="110% of Medicare")

    def expected():
        price = line_expected_allowed(
            practice=practice, payer=payer, procedure_code="99213", service_date=JAN1
        )
        return None if price is None else price.amount

    assert expected() == D("99.00")
    contract_update(contract=base, pricing_method=PricingMethod.PERCENT_OF_CHARGES, percent=D("50"))
    assert expected() is None


def test_the_contract_page_names_the_base_payer_and_warns_without_its_fee_schedule(
    practice, manager, payer, medicare, django_assert_num_queries
):
    contract = _percent_of_medicare(practice, payer, medicare)
    client = login(manager)
    # session, user, memberships + contract, row count, files loaded + the base payer's fee schedules
    with django_assert_num_queries(7):
        page = client.get(f"/payers/contracts/{contract.pk}/").content.decode()
    assert (
        f'110.00% of <a href="/payers/{medicare.pk}/">Medicare Part B</a> (its contract in force on each '
        "date of service)"
    ) in page
    warning = (
        "Medicare Part B has no contract priced by a fee schedule: every line of this contract is unknown "
        "until Medicare Part B&#x27;s schedule is loaded into a fee schedule contract."
    )
    assert warning in page
    _contract(practice, medicare, name="Medicare 2026")
    assert warning not in client.get(f"/payers/contracts/{contract.pk}/").content.decode()
    assert "of Medicare Part B" in client.get(f"/payers/{payer.pk}/").content.decode()


def test_the_contract_form_offers_the_other_payers_as_base(
    practice, manager, payer, medicare, other_practice
):
    PayerFactory(practice=other_practice, name="Their Medicare")
    client = login(manager)
    response = client.get(f"/payers/{payer.pk}/contracts/new/")
    field = response.context["form"]["base_payer"]
    assert (field.label, field.help_text) == (
        "Base payer",
        "For % of a base schedule: its contract in force on each date of service is the base (e.g. Medicare: "
        "each year's schedule prices that year's lines).",
    )
    assert list(field.field.queryset) == [medicare]
    response = client.post(
        f"/payers/{payer.pk}/contracts/new/",
        {
            "name": "110% of Medicare",
            "effective_date": "2026-01-01",
            "timely_filing_days": "180",
            "appeal_limit_days": "90",
            "pricing_method": "percent_of_base",
            "base_payer": str(medicare.pk),
            "percent": "110",
            "underpayment_tolerance_amount": "1.00",
            "underpayment_tolerance_percent": "0",
        },
    )
    contract = PayerContract.objects.get(payer=payer)
    assert response["Location"] == f"/payers/contracts/{contract.pk}/"
    assert (contract.base_payer, contract.percent) == (medicare, D("110.00"))
    missing = client.post(
        f"/payers/{payer.pk}/contracts/new/",
        {
            "name": "No base",
            "effective_date": "2027-01-01",
            "timely_filing_days": "180",
            "appeal_limit_days": "90",
            "pricing_method": "percent_of_base",
            "percent": "110",
            "underpayment_tolerance_amount": "1.00",
            "underpayment_tolerance_percent": "0",
        },
    )
    assert missing.status_code == 400
    assert missing.context["form"].errors["base_payer"] == [
        "The % of a base schedule method needs the base payer."
    ]
    assert PayerContract.objects.count() == 1
