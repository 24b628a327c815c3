import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from claims import services
from claims.ledger import Entry, ledger_post
from claims.models import Claim, ClaimLine, ClaimStatus, Transaction
from claims.models import TransactionKind as K
from claims.services import LineInput
from claims.state_machine import claim_transition
from rcm.models import AuditEvent
from tests.api import api
from tests.claims.factories import make_claim
from tests.rcm.factories import CoverageFactory, PatientFactory, ProviderFactory

NY = datetime.timezone(datetime.timedelta(hours=-5))
THIRTEEN_CODES = [
    "E11.9",
    "I10",
    "J45.909",
    "E78.5",
    "K21.9",
    "M54.50",
    "R51.9",
    "N39.0",
    "J06.9",
    "F41.1",
    "G47.00",
    "E66.9",
    "Z00.00",
]


def _error(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]


def _balances(
    charge_total="0.00",
    insurance_paid="0.00",
    patient_paid="0.00",
    adjustments="0.00",
    write_offs="0.00",
    insurance_balance="0.00",
    patient_balance="0.00",
    balance="0.00",
):
    return {
        "charge_total": charge_total,
        "insurance_paid": insurance_paid,
        "patient_paid": patient_paid,
        "adjustments": adjustments,
        "write_offs": write_offs,
        "insurance_balance": insurance_balance,
        "patient_balance": patient_balance,
        "balance": balance,
    }


@pytest.fixture
def chart(practice):
    """A patient with a primary coverage and the provider who bills for the practice."""
    coverage = CoverageFactory(practice=practice, member_id="XJ1234567")
    return SimpleNamespace(
        coverage=coverage,
        patient=coverage.patient,
        payer=coverage.payer,
        provider=ProviderFactory(practice=practice),
    )


def _counts():
    return Claim.objects.count(), ClaimLine.objects.count(), Transaction.objects.count()


def _new_claim(chart, **change):
    return {
        "patient": chart.patient.pk,
        "coverage": chart.coverage.pk,
        "billing_provider": chart.provider.pk,
        "rendering_provider": chart.provider.pk,
        "place_of_service": "11",
        "prior_authorization": "",
        "diagnosis_codes": ["E11.9", "I10"],
        "lines": [
            {
                "procedure_code": "99214",
                "modifiers": ["25"],
                "units": "1",
                "charge": "150.00",
                "service_date_from": "2026-03-02",
                "service_date_to": "2026-03-02",
                "diagnosis_pointers": [1, 2],
            },
            {
                "procedure_code": "82947",
                "units": 1,
                "charge": 75.5,
                "service_date_from": "2026-03-02",
                "diagnosis_pointers": [1],
            },
        ],
        **change,
    }


# --- Reading claims ------------------------------------------------------------------------------


# The chart's payer has no contract: the expected amount is unknown, said so, never guessed.
NO_CONTRACT_EXPECTED = {
    "amount": None,
    "status": "no_contract",
    "message": "unknown — no contract in force",
    "contract": None,
    "fee_row": None,
    "method": "",
    "reduction_percent": None,
}


def test_claim_detail_shows_lines_diagnoses_balances_ledger_and_history_and_is_audited(
    biller, practice, chart
):
    claim = make_claim(
        practice,
        coverage=chart.coverage,
        provider=chart.provider,
        user=biller,
        lines=[
            LineInput(
                procedure_code="99213",
                charge=Decimal("150.00"),
                service_date_from=datetime.date(2026, 3, 2),
                modifiers=["25"],
                diagnosis_pointers=[1, 2],
            ),
            LineInput(
                procedure_code="36415",
                charge=Decimal("12.00"),
                service_date_from=datetime.date(2026, 3, 2),
                units=2,
            ),
        ],
    )
    first, second = claim.lines.order_by("line_number")
    ledger_post(
        claim=claim,
        source="remittance",
        user=biller,
        entries=[
            Entry(line=first, kind=K.INSURANCE_PAYMENT, amount=Decimal("80.00")),
            Entry(
                line=first,
                kind=K.CONTRACTUAL_ADJUSTMENT,
                amount=Decimal("45.00"),
                group_code="CO",
                reason_code="45",
            ),
            Entry(line=first, kind=K.TRANSFER_TO_PATIENT, amount=Decimal("25.00"), responsibility="copay"),
        ],
    )
    ready_at = datetime.datetime(2026, 3, 3, 9, 0, tzinfo=NY)
    submitted_at = datetime.datetime(2026, 3, 3, 17, 30, tzinfo=NY)
    claim_transition(
        claim=claim, to_status=ClaimStatus.READY, user=biller, reason="Coding checked", at=ready_at
    )
    claim_transition(claim=claim, to_status=ClaimStatus.SUBMITTED, user=biller, at=submitted_at)

    response = api(biller).get(f"/api/claims/{claim.pk}/")

    assert response.status_code == 200
    body = response.json()
    pcn = claim.patient_control_number
    assert (body["id"], body["patient_control_number"], body["status"]) == (claim.pk, pcn, "submitted")
    assert body["patient"] == {
        "id": chart.patient.pk,
        "account_number": chart.patient.account_number,
        "first_name": "Jordan",
        "last_name": chart.patient.last_name,
    }
    assert body["payer"] == {"id": chart.payer.pk, "name": chart.payer.name, "payer_id": chart.payer.payer_id}
    assert (body["coverage"], body["billing_provider"], body["rendering_provider"]) == (
        chart.coverage.pk,
        chart.provider.pk,
        chart.provider.pk,
    )
    assert (body["service_date"], body["created_by"], body["place_of_service"]) == (
        "2026-03-02",
        "bill",
        "11",
    )
    assert body["diagnoses"] == [
        {"pointer": 1, "code": "E11.9", "description": "Type 2 diabetes mellitus without complications"},
        {"pointer": 2, "code": "I10", "description": "Essential (primary) hypertension"},
    ]
    assert body["balances"] == _balances(
        charge_total="162.00",
        insurance_paid="80.00",
        adjustments="45.00",
        insurance_balance="12.00",
        patient_balance="25.00",
        balance="37.00",
    )
    assert body["lines"] == [
        {
            "id": first.pk,
            "line_number": 1,
            "line_control_number": f"{pcn}-1",
            "procedure_code": "99213",
            "modifiers": ["25"],
            "units": "1.000",
            "charge": "150.00",
            "service_date_from": "2026-03-02",
            "service_date_to": "2026-03-02",
            "diagnosis_pointers": [1, 2],
            "balances": _balances(
                charge_total="150.00",
                insurance_paid="80.00",
                adjustments="45.00",
                patient_balance="25.00",
                balance="25.00",
            ),
            "expected_allowed": NO_CONTRACT_EXPECTED,
        },
        {
            "id": second.pk,
            "line_number": 2,
            "line_control_number": f"{pcn}-2",
            "procedure_code": "36415",
            "modifiers": [],
            "units": "2.000",
            "charge": "12.00",
            "service_date_from": "2026-03-02",
            "service_date_to": "2026-03-02",
            "diagnosis_pointers": [1],
            "balances": _balances(charge_total="12.00", insurance_balance="12.00", balance="12.00"),
            "expected_allowed": NO_CONTRACT_EXPECTED,
        },
    ]
    assert [
        (
            t["line_number"],
            t["kind"],
            t["party"],
            t["amount"],
            t["source"],
            t["group_code"],
            t["reason_code"],
            t["responsibility"],
            t["posted_by"],
        )
        for t in body["transactions"]
    ] == [
        (1, "charge", "insurance", "150.00", "charge_entry", "", "", "", "bill"),
        (2, "charge", "insurance", "12.00", "charge_entry", "", "", "", "bill"),
        (1, "insurance_payment", "insurance", "80.00", "remittance", "", "", "", "bill"),
        (1, "contractual_adjustment", "insurance", "45.00", "remittance", "CO", "45", "", "bill"),
        (1, "transfer_to_patient", "insurance", "25.00", "remittance", "", "", "copay", "bill"),
    ]
    assert [t["id"] for t in body["transactions"]] == list(
        Transaction.objects.order_by("posted_at", "id").values_list("id", flat=True)
    )
    assert [{**row, "at": datetime.datetime.fromisoformat(row["at"])} for row in body["status_history"]] == [
        {
            "from_status": "draft",
            "to_status": "ready",
            "at": ready_at,
            "by": "bill",
            "reason": "Coding checked",
        },
        {"from_status": "ready", "to_status": "submitted", "at": submitted_at, "by": "bill", "reason": ""},
    ]
    event = AuditEvent.objects.get(action="view")
    assert (event.object_type, event.object_id, event.username, event.practice_id, event.source) == (
        "claims.claim",
        str(claim.pk),
        "bill",
        practice.pk,
        "api",
    )


@pytest.fixture
def three_claims(practice, other_practice, chart):
    """A: chart's patient, 2026-03-02, ready.  B: another patient and payer, 2026-04-10.
    C: chart's patient, self-pay, 2026-01-15.  And one claim of the other practice."""

    def on(day):
        return [LineInput(procedure_code="99213", charge=Decimal("100.00"), service_date_from=day)]

    a = make_claim(
        practice, coverage=chart.coverage, provider=chart.provider, lines=on(datetime.date(2026, 3, 2))
    )
    claim_transition(claim=a, to_status=ClaimStatus.READY)
    b = make_claim(practice, provider=chart.provider, lines=on(datetime.date(2026, 4, 10)))
    c = make_claim(
        practice,
        patient=chart.patient,
        self_pay=True,
        provider=chart.provider,
        lines=on(datetime.date(2026, 1, 15)),
    )
    make_claim(other_practice, lines=on(datetime.date(2026, 5, 1)))
    return SimpleNamespace(a=a, b=b, c=c)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, "bac"),
        ({"ordering": "service_date"}, "cab"),
        ({"ordering": "-service_date"}, "bac"),
        ({"ordering": "id"}, "abc"),
        ({"ordering": "-id"}, "cba"),
        ({"status": "ready"}, "a"),
        ({"status": "draft", "ordering": "id"}, "bc"),
        ({"status": "paid"}, ""),
        ({"patient": "chart", "ordering": "id"}, "ac"),
        ({"payer": "b"}, "b"),
        ({"payer": "b", "status": "ready"}, ""),
    ],
)
def test_claim_list_filters_by_ids_and_status_and_orders(biller, chart, three_claims, query, expected):
    query = dict(query)
    if query.get("patient") == "chart":
        query["patient"] = chart.patient.pk
    if query.get("payer") == "b":
        query["payer"] = three_claims.b.payer_id
    body = api(biller).get("/api/claims/", query).json()
    assert [row["id"] for row in body["results"]] == [getattr(three_claims, name).pk for name in expected]


def test_claim_list_rows(biller, chart, three_claims):
    rows = {row["id"]: row for row in api(biller).get("/api/claims/").json()["results"]}
    a, c = three_claims.a, three_claims.c
    row = rows[a.pk]
    assert (
        datetime.datetime.fromisoformat(row.pop("status_changed_at"))
        == Claim.objects.get(pk=a.pk).status_changed_at
    )
    assert datetime.datetime.fromisoformat(row.pop("created_at")) == a.created_at
    assert row == {
        "id": a.pk,
        "patient_control_number": a.patient_control_number,
        "status": "ready",
        "service_date": "2026-03-02",
        "patient": {
            "id": chart.patient.pk,
            "account_number": chart.patient.account_number,
            "first_name": "Jordan",
            "last_name": chart.patient.last_name,
        },
        "coverage": chart.coverage.pk,
        "payer": {"id": chart.payer.pk, "name": chart.payer.name, "payer_id": chart.payer.payer_id},
        "billing_provider": chart.provider.pk,
        "rendering_provider": chart.provider.pk,
        "frequency_code": "1",
        "balances": _balances(charge_total="100.00", insurance_balance="100.00", balance="100.00"),
    }
    assert (rows[c.pk]["coverage"], rows[c.pk]["payer"]) == (None, None)
    assert rows[c.pk]["balances"] == _balances(
        charge_total="100.00", patient_balance="100.00", balance="100.00"
    )


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"status": "bogus"}, "status", '"bogus" is not a valid choice.'),
        ({"payer": "Acme"}, "payer", "A valid integer is required."),
        ({"ordering": "last_name"}, "ordering", '"last_name" is not a valid choice.'),
    ],
)
def test_claim_list_refuses_bad_filters(biller, query, field, message):
    error = _error(api(biller).get("/api/claims/", query), 400)
    assert error["fields"] == {field: [message]}


def test_claim_list_offers_no_search_by_name(biller, chart, three_claims):
    body = api(biller).get("/api/claims/", {"search": chart.patient.last_name}).json()
    assert body["count"] == 3


def test_another_practices_claim_is_a_404(biller, outsider, practice, other_practice, chart):
    ours = make_claim(practice, coverage=chart.coverage, provider=chart.provider)
    theirs = make_claim(other_practice)
    error = _error(api(biller).get(f"/api/claims/{theirs.pk}/"), 404)
    assert error == {"status": 404, "code": "not_found", "message": "Not found.", "fields": {}}
    assert _error(api(outsider).get(f"/api/claims/{ours.pk}/"), 404)["code"] == "not_found"
    assert not AuditEvent.objects.filter(action="view").exists()


def test_collections_reads_claims_but_cannot_enter_them(collections_user, practice, chart):
    claim = make_claim(practice, coverage=chart.coverage, provider=chart.provider)
    client = api(collections_user)
    assert client.get("/api/claims/").json()["count"] == 1
    assert client.get(f"/api/claims/{claim.pk}/").status_code == 200
    before = _counts()
    assert (
        _error(client.post("/api/claims/", _new_claim(chart), format="json"), 403)["code"]
        == "permission_denied"
    )
    assert _counts() == before


def test_manager_cannot_enter_a_claim(manager, chart):
    error = _error(api(manager).post("/api/claims/", _new_claim(chart), format="json"), 403)
    assert error == {
        "status": 403,
        "code": "permission_denied",
        "message": "Your role in this practice does not allow this.",
        "fields": {},
    }
    assert _counts() == (0, 0, 0)


# --- Entering claims -----------------------------------------------------------------------------


def test_entering_a_claim_posts_its_charges_and_returns_the_claim(biller, practice, chart):
    response = api(biller).post("/api/claims/", _new_claim(chart), format="json")

    assert response.status_code == 201, response.content
    claim = Claim.objects.get()
    body = response.json()
    assert (body["id"], body["status"], body["patient_control_number"]) == (
        claim.pk,
        "draft",
        f"{practice.pk:03d}000000001",
    )
    assert body["balances"] == _balances(charge_total="225.50", insurance_balance="225.50", balance="225.50")
    assert claim.charge_total == sum(line.charge for line in claim.lines.all()) == Decimal("225.50")
    assert [
        (
            line["line_number"],
            line["procedure_code"],
            line["modifiers"],
            line["units"],
            line["charge"],
            line["service_date_to"],
            line["diagnosis_pointers"],
            line["balances"]["insurance_balance"],
        )
        for line in body["lines"]
    ] == [
        (1, "99214", ["25"], "1.000", "150.00", "2026-03-02", [1, 2], "150.00"),
        (2, "82947", [], "1.000", "75.50", "2026-03-02", [1], "75.50"),
    ]
    assert [(t["kind"], t["party"], t["amount"], t["line_number"]) for t in body["transactions"]] == [
        ("charge", "insurance", "150.00", 1),
        ("charge", "insurance", "75.50", 2),
    ]
    assert [d["code"] for d in body["diagnoses"]] == ["E11.9", "I10"]
    assert (body["created_by"], body["status_history"]) == ("bill", [])
    assert (claim.practice_id, claim.payer_id, claim.created_by_id) == (
        practice.pk,
        chart.payer.pk,
        biller.pk,
    )


def test_a_self_pay_claim_bills_the_patient(biller, chart):
    response = api(biller).post("/api/claims/", _new_claim(chart, coverage=None), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["coverage"], body["payer"]) == (None, None)
    assert body["balances"] == _balances(charge_total="225.50", patient_balance="225.50", balance="225.50")


def test_money_reaches_the_service_as_decimal_never_float(biller, chart, monkeypatch):
    seen = []

    def spy(**kwargs):
        seen.extend((line.charge, line.units) for line in kwargs["lines"])
        return services.claim_create(**kwargs)

    monkeypatch.setattr("claims.api.claims.claim_create", spy)
    body = _new_claim(chart)
    body["lines"][0].update(charge=19.99, units=2)
    assert api(biller).post("/api/claims/", body, format="json").status_code == 201
    assert seen == [(Decimal("19.99"), Decimal("2")), (Decimal("75.5"), Decimal("1"))]
    assert all(isinstance(value, Decimal) for pair in seen for value in pair)
    assert Claim.objects.get().charge_total == Decimal("95.49")


def _unknown_code(body, world):
    body["diagnosis_codes"] = ["XYZ.1", "I10"]
    return "diagnosis_codes", "'XYZ.1' is not an ICD-10-CM code."


def _header_code(body, world):
    body["diagnosis_codes"] = ["E11", "I10"]
    return "diagnosis_codes", (
        "E11 (Type 2 diabetes mellitus) is a header code, not billable: use a more specific code under it "
        "(for example E11.0, E11.1, E11.2)."
    )


def _thirteen_diagnoses(body, world):
    body["diagnosis_codes"] = THIRTEEN_CODES
    return "diagnosis_codes", "A claim has at most 12 diagnosis codes; 13 given."


def _pointer_to_missing_diagnosis(body, world):
    body["lines"][0]["diagnosis_pointers"] = [1, 3]
    return "lines[1].diagnosis_pointers", "Pointer 3 does not point at a diagnosis: the claim has 2."


def _zero_charge(body, world):
    body["lines"][1]["charge"] = "0"
    return "lines[2].charge", "The charge must be greater than zero (got $0.00)."


def _zero_charge_as_json_number(body, world):
    body["lines"][0]["charge"] = 0
    return "lines[1].charge", "The charge must be greater than zero (got $0.00)."


def _negative_charge(body, world):
    body["lines"][0]["charge"] = "-20.00"
    return "lines[1].charge", "The charge must be greater than zero (got -$20.00)."


def _charge_not_a_number(body, world):
    body["lines"][0]["charge"] = "150,00"
    return "lines[1].charge", "A valid number is required."


def _charge_with_three_places(body, world):
    body["lines"][0]["charge"] = "10.005"
    return "lines[1].charge", "Ensure that there are no more than 2 decimal places."


def _zero_units(body, world):
    body["lines"][0]["units"] = 0
    return "lines[1].units", "Units must be at least 1 (got 0)."


def _five_modifiers(body, world):
    body["lines"][0]["modifiers"] = ["25", "59", "GT", "76", "77"]
    return "lines[1].modifiers", "A line has at most 4 modifiers; 5 given."


def _pointer_not_an_integer(body, world):
    body["lines"][1]["diagnosis_pointers"] = ["first"]
    return "lines[2].diagnosis_pointers[1]", "A valid integer is required."


def _future_service_date(body, world):
    body["lines"][0].update(service_date_from="2099-01-04", service_date_to="2099-01-04")
    return "lines[1].service_date_from", "The date of service 2099-01-04 is in the future."


def _no_lines(body, world):
    body["lines"] = []
    return "lines", "A claim needs at least one service line."


def _coverage_left_out(body, world):
    del body["coverage"]
    return "coverage", "This field is required."


def _coverage_of_another_patient(body, world):
    body["coverage"] = world.other_patients_coverage.pk
    return "coverage", "The coverage belongs to another patient."


def _coverage_of_another_practice(body, world):
    body["coverage"] = world.their_coverage.pk
    return "coverage", f"No coverage with id {world.their_coverage.pk} in this practice."


def _patient_of_another_practice(body, world):
    body["patient"] = world.their_patient.pk
    return "patient", f"No patient with id {world.their_patient.pk} in this practice."


def _provider_of_another_practice(body, world):
    body["billing_provider"] = world.their_provider.pk
    return "billing_provider", f"No provider with id {world.their_provider.pk} in this practice."


@pytest.mark.parametrize(
    "mistake",
    [
        _unknown_code,
        _header_code,
        _thirteen_diagnoses,
        _pointer_to_missing_diagnosis,
        _zero_charge,
        _zero_charge_as_json_number,
        _negative_charge,
        _charge_not_a_number,
        _charge_with_three_places,
        _zero_units,
        _five_modifiers,
        _pointer_not_an_integer,
        _future_service_date,
        _no_lines,
        _coverage_left_out,
        _coverage_of_another_patient,
        _coverage_of_another_practice,
        _patient_of_another_practice,
        _provider_of_another_practice,
    ],
    ids=lambda mistake: mistake.__name__.strip("_"),
)
def test_a_bad_claim_is_refused_naming_the_field_and_nothing_is_saved(
    biller, practice, other_practice, chart, mistake
):
    world = SimpleNamespace(
        other_patients_coverage=CoverageFactory(practice=practice),
        their_coverage=CoverageFactory(practice=other_practice),
        their_patient=PatientFactory(practice=other_practice),
        their_provider=ProviderFactory(practice=other_practice),
    )
    body = _new_claim(chart)
    field, message = mistake(body, world)
    before = _counts()

    error = _error(api(biller).post("/api/claims/", body, format="json"), 400)

    assert error["fields"] == {field: [message]}
    assert error["message"] == f"{field}: {message}"
    assert (error["status"], error["code"]) == (400, "invalid")
    assert _counts() == before


# --- Query counts --------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 5])
def test_claim_list_takes_a_fixed_number_of_queries(biller, practice, chart, django_assert_num_queries, rows):
    for _ in range(rows):
        make_claim(practice, provider=chart.provider)
    client = api(biller)
    # membership + count + page (patient and payer joined)
    with django_assert_num_queries(3):
        body = client.get("/api/claims/").json()
    assert body["count"] == rows


@pytest.mark.parametrize("lines", [1, 4])
def test_claim_detail_takes_a_fixed_number_of_queries(
    biller, practice, chart, django_assert_num_queries, lines
):
    claim = make_claim(
        practice,
        coverage=chart.coverage,
        provider=chart.provider,
        lines=[
            LineInput(
                procedure_code="99213", charge=Decimal("10.00"), service_date_from=datetime.date(2026, 3, 2)
            )
            for _ in range(lines)
        ],
    )
    claim_transition(claim=claim, to_status=ClaimStatus.READY, user=biller)
    client = api(biller)
    # membership + claim + lines + ledger + history + the audit row + the payer's contracts (none here)
    with django_assert_num_queries(7):
        body = client.get(f"/api/claims/{claim.pk}/").json()
    assert (len(body["lines"]), len(body["transactions"]), len(body["status_history"])) == (lines, lines, 1)


def test_claim_list_count_is_exact_with_and_without_filters(biller, practice, chart):
    claims = [make_claim(practice, coverage=chart.coverage, provider=chart.provider) for _ in range(3)]
    claim_transition(claim=claims[0], to_status="ready")
    other_payer = make_claim(practice, provider=chart.provider)
    client = api(biller)
    counts = {
        query: client.get(f"/api/claims/{query}").json()["count"]
        for query in (
            "",
            "?status=draft",
            "?status=ready",
            "?status=paid",
            f"?payer={chart.coverage.payer_id}",
            f"?status=draft&payer={other_payer.payer_id}",
            f"?patient={chart.coverage.patient_id}",
        )
    }
    assert counts == {
        "": 4,
        "?status=draft": 3,
        "?status=ready": 1,
        "?status=paid": 0,
        f"?payer={chart.coverage.payer_id}": 3,
        f"?status=draft&payer={other_payer.payer_id}": 1,
        f"?patient={chart.coverage.patient_id}": 3,
    }
