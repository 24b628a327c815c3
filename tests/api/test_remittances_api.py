"""The remittance API: remittances with claim payments, words, PLBs and reconciliation; exceptions and
resolving them; roles, tenancy, the error format, fixed query counts and the schema."""

from decimal import Decimal

import pytest
import yaml

from claims.models import ClaimStatus, ExceptionStatus, RemittanceException
from claims.remittances.posting import exception_resolve
from claims.scrubber.ncci import ncci_load_samples
from rcm.models import AuditEvent
from rcm.roles import Role
from tests.api import api
from tests.claims.conftest import Billing
from tests.claims.test_pages_remittances import (
    accepted_claim,
    era_payment,
    import_era,
    resolution_state,
    unknown_payment,
)
from tests.conftest import _member, login

D = Decimal


@pytest.fixture
def billing(practice):
    ncci_load_samples()
    return Billing(practice)


@pytest.fixture
def two_remittances(billing):
    """EFT1: one claim paid in full ($138.00). EFT2: one claim paid $108.00 and $50.00 for a claim we do
    not have, left in an exception; BPR02 $158.00."""
    first, second = accepted_claim(billing), accepted_claim(billing)
    eft1 = import_era(billing, trace="EFT1", payment_date="20260310", claims=[era_payment(first)])
    eft2 = import_era(
        billing,
        trace="EFT2",
        payment_date="20260320",
        claims=[era_payment(second, paid="90"), unknown_payment()],
    )
    return eft1, eft2, first, second


def _error(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]


def _resolve(user, exception, **body):
    return api(user).post(f"/api/remittance-exceptions/{exception.pk}/resolve/", body, format="json")


# --- remittances ---------------------------------------------------------------------------------


def test_the_list_gives_each_remittance_with_its_exact_totals(billing, biller, two_remittances):
    body = api(biller).get("/api/remittances/").json()
    assert body["count"] == 2
    assert [
        (
            r["trace_number"],
            r["payment_amount"],
            r["posted_payments"],
            r["claim_count"],
            r["exception_count"],
            r["open_exception_count"],
            r["status"],
            r["payment_date"],
            r["payment_method"],
        )
        for r in body["results"]
    ] == [
        ("EFT2", "158.00", "108.00", 2, 1, 1, "exceptions", "2026-03-20", "ACH"),
        ("EFT1", "138.00", "138.00", 1, 0, 0, "posted", "2026-03-10", "ACH"),
    ]
    assert body["results"][0]["payer"] == {"id": billing.payer.pk, "name": "Acme Health", "payer_id": "ACME1"}


def test_the_list_filters_by_status_and_payer_and_sorts_by_date(billing, biller, two_remittances):
    client = api(biller)

    def traces(query):
        return [r["trace_number"] for r in client.get(f"/api/remittances/?{query}").json()["results"]]

    assert traces("status=exceptions") == ["EFT2"]
    assert traces("status=posted") == ["EFT1"]
    assert traces(f"payer={billing.medicare.pk}") == []
    assert traces(f"payer={billing.payer.pk}&ordering=payment_date") == ["EFT1", "EFT2"]
    error = _error(client.get("/api/remittances/?status=paid"), 400)
    assert error["message"] == 'status: "paid" is not a valid choice.'


def test_the_detail_gives_claim_payments_lines_words_plbs_and_the_reconciliation(billing, biller):
    claim = accepted_claim(billing)
    l1, l2 = claim.lines.order_by("line_number")
    remittance = import_era(
        billing,
        trace="EFT9",
        claims=[era_payment(claim), unknown_payment()],
        plb=[("WO", "OVERPAY123", "25.00"), ("L6", "INT1", "-1.25")],
    )
    body = api(biller).get(f"/api/remittances/{remittance.pk}/").json()
    assert (body["payment_amount"], body["provider_adjustment_total"], body["status"]) == (
        "164.25",
        "23.75",
        "exceptions",
    )
    paid, unknown = body["claims"]
    assert (
        paid["claim"],
        paid["status_code"],
        paid["status_words"],
        paid["charge"],
        paid["paid"],
        paid["posted"],
    ) == (claim.pk, "1", "processed as primary", "203.00", "138.00", True)
    first_line = paid["lines"][0]
    assert {
        key: first_line[key]
        for key in (
            "claim_line",
            "claim_line_number",
            "procedure_code",
            "charge",
            "paid",
            "allowed",
            "expected_allowed",
            "short_by",
            "match_reason",
        )
    } == {
        "claim_line": l1.pk,
        "claim_line_number": 1,
        "procedure_code": "99214",
        "charge": "185.00",
        "paid": "120.00",
        "allowed": "120.00",
        "expected_allowed": None,
        "short_by": None,
        "match_reason": f"line control number {l1.line_control_number} (REF*6R)",
    }
    assert first_line["adjustments"] == [
        {
            "group_code": "CO",
            "reason_code": "45",
            "amount": "65.00",
            "quantity": "",
            "words": "CO-45: charge exceeds the fee schedule or contracted amount "
            "(contractual obligation (the practice absorbs it))",
        }
    ]
    assert first_line["remarks"] == [
        {"code": "N130", "words": "consult plan benefit documents or guidelines for coverage information"}
    ]
    assert paid["lines"][1]["claim_line"] == l2.pk
    assert (unknown["claim"], unknown["posted"], unknown["paid"]) == (None, False, "50.00")
    assert [
        (p["reason_code"], p["words"], p["reference"], p["amount"]) for p in body["provider_adjustments"]
    ] == [("WO", "overpayment recovery", "OVERPAY123", "25.00"), ("L6", "interest owed", "INT1", "-1.25")]
    assert body["reconciliation"] == {
        "payment_amount": "164.25",
        "posted": "138.00",
        "posted_count": 1,
        "not_posted": "50.00",
        "not_posted_count": 1,
        "provider_adjustments": "23.75",
        "posted_net": "114.25",
        "difference": "50.00",
        "unexplained": "0.00",
        "paid_count": 1,
        "denied_count": 0,
        "interest": "1.25",  # no AMT*I on the claim; PLB L6 -1.25 added 1.25 to the payment
        "interest_claims": "0.00",
        "interest_provider_level": "1.25",
    }
    assert [(e["kind"], e["status"], e["remittance_claim"]) for e in body["exceptions"]] == [
        ("unmatched", "open", unknown["id"])
    ]
    event = AuditEvent.objects.get(action="view")
    assert (event.object_type, event.object_id, event.source) == (
        "claims.remittance",
        str(remittance.pk),
        "api",
    )


def test_a_fully_posted_remittance_reconciles_to_zero(billing, biller):
    remittance = import_era(billing, trace="EFT3", claims=[era_payment(accepted_claim(billing))])
    reconciliation = api(biller).get(f"/api/remittances/{remittance.pk}/").json()["reconciliation"]
    assert (reconciliation["payment_amount"], reconciliation["posted_net"], reconciliation["difference"]) == (
        "138.00",
        "138.00",
        "0.00",
    )


def test_another_practices_remittance_is_a_404_in_the_error_format(billing, outsider, two_remittances):
    error = _error(api(outsider).get(f"/api/remittances/{two_remittances[1].pk}/"), 404)
    assert (error["status"], error["code"]) == (404, "not_found")
    assert api(outsider).get("/api/remittances/").json()["count"] == 0
    assert not AuditEvent.objects.filter(action="view").exists()


# --- exceptions ----------------------------------------------------------------------------------


def test_exceptions_are_listed_open_by_default(billing, biller, two_remittances):
    eft2 = two_remittances[1]
    exception = RemittanceException.objects.get()
    body = api(biller).get("/api/remittance-exceptions/").json()
    assert body["count"] == 1
    row = body["results"][0]
    assert {key: row[key] for key in ("id", "kind", "status", "message", "remittance", "resolved_by")} == {
        "id": exception.pk,
        "kind": "unmatched",
        "status": "open",
        "message": "No claim NOSUCHCLAIM in this practice "
        "(payer claim number PCNNOSUCHCLAIM, charge $50.00).",
        "remittance": {
            "id": eft2.pk,
            "payer_name": "ACME HEALTH",
            "trace_number": "EFT2",
            "payment_date": "2026-03-20",
        },
        "resolved_by": None,
    }
    assert (
        row["claim_payment"]["claim"],
        row["claim_payment"]["patient_control_number"],
        row["claim_payment"]["paid"],
    ) == (None, "NOSUCHCLAIM", "50.00")
    assert api(biller).get("/api/remittance-exceptions/?status=resolved").json()["count"] == 0
    assert _error(api(biller).get("/api/remittance-exceptions/?status=closed"), 400)["fields"] == {
        "status": ['"closed" is not a valid choice.']
    }


def test_an_unmatched_payment_is_posted_against_the_claim_given(billing, biller):
    claim = accepted_claim(billing)
    wrong = era_payment(claim)
    wrong["pcn"] = "TYPO" + claim.patient_control_number
    remittance = import_era(billing, trace="EFT7", claims=[wrong])
    exception = RemittanceException.objects.get()
    response = _resolve(biller, exception, action="post", claim=claim.pk, note="PCN typo at the payer")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (
        body["status"],
        body["resolved_by"],
        body["resolution_note"],
        body["claim_payment"]["claim"],
        body["claim_payment"]["posted"],
    ) == ("posted", "bill", "PCN typo at the payer", claim.pk, True)
    claim.refresh_from_db()
    assert (claim.status, claim.insurance_paid) == (ClaimStatus.PAID, D("138.00"))
    reconciliation = api(biller).get(f"/api/remittances/{remittance.pk}/").json()["reconciliation"]
    assert (reconciliation["posted"], reconciliation["difference"]) == ("138.00", "0.00")


def test_dismissing_needs_a_note_and_a_refusal_changes_nothing(billing, biller, two_remittances):
    exception = RemittanceException.objects.get()
    before = resolution_state()
    error = _error(_resolve(biller, exception, action="dismiss", note="  "), 400)
    assert (error["code"], error["message"], error["fields"]) == (
        "invalid",
        "note: Say why the exception is dismissed.",
        {"note": ["Say why the exception is dismissed."]},
    )
    assert resolution_state() == before
    body = _resolve(biller, exception, action="dismiss", note="not our patient; payer notified").json()
    assert (body["status"], body["resolution_note"]) == ("dismissed", "not our patient; payer notified")
    error = _error(_resolve(biller, exception, action="dismiss", note="again"), 400)
    assert error["message"] == "This exception was already resolved."
    exception.refresh_from_db()
    assert (exception.status, exception.resolution_note) == (
        ExceptionStatus.DISMISSED,
        "not our patient; payer notified",
    )


def test_a_claim_of_another_practice_is_refused_like_a_missing_one(
    billing, biller, other_practice, two_remittances
):
    from tests.claims.factories import make_claim

    theirs = make_claim(other_practice)
    exception = RemittanceException.objects.get()
    before = resolution_state()
    error = _error(_resolve(biller, exception, action="post", claim=theirs.pk), 400)
    assert error["fields"] == {"claim": [f"No claim with id {theirs.pk} in this practice."]}
    error = _error(_resolve(biller, exception, action="post", claim=None), 400)
    assert (
        error["message"]
        == "No claim NOSUCHCLAIM in this practice (payer claim number PCNNOSUCHCLAIM, charge $50.00)."
    )
    error = _error(_resolve(biller, exception, action="void"), 400)
    assert error["fields"] == {"action": ['"void" is not a valid choice.']}
    assert resolution_state() == before


@pytest.mark.parametrize("role", [Role.MANAGER, Role.COLLECTIONS])
def test_roles_without_claims_edit_read_but_cannot_resolve(role, billing, practice, two_remittances):
    user = _member(practice, role, f"{role}-user")
    exception = RemittanceException.objects.get()
    assert api(user).get("/api/remittance-exceptions/").json()["count"] == 1
    assert api(user).get(f"/api/remittances/{two_remittances[1].pk}/").status_code == 200
    before = resolution_state()
    error = _error(_resolve(user, exception, action="dismiss", note="not ours"), 403)
    assert error["status"] == 403
    assert resolution_state() == before


def test_exceptions_are_filtered_by_kind_and_remittance(billing, biller, two_remittances):
    """The page's two filters in the API: one kind (here a duplicate payment of EFT3 and the unmatched
    payment of EFT2) and one remittance; a kind that does not exist is a 400 naming it."""
    eft1, eft2, first, _second = two_remittances
    eft3 = import_era(billing, trace="EFT3", payment_date="20260325", claims=[era_payment(first)])
    client = api(biller)

    def listed(query):
        return [(row["kind"], row["remittance"]["id"]) for row in client.get(query).json()["results"]]

    assert sorted(listed("/api/remittance-exceptions/")) == [("duplicate", eft3.pk), ("unmatched", eft2.pk)]
    assert listed("/api/remittance-exceptions/?kind=duplicate") == [("duplicate", eft3.pk)]
    assert listed(f"/api/remittance-exceptions/?remittance={eft2.pk}") == [("unmatched", eft2.pk)]
    assert listed(f"/api/remittance-exceptions/?remittance={eft1.pk}") == []
    assert listed(f"/api/remittance-exceptions/?kind=duplicate&remittance={eft2.pk}") == []
    assert _error(client.get("/api/remittance-exceptions/?kind=lost"), 400)["fields"] == {
        "kind": ['"lost" is not a valid choice.']
    }


def test_another_practices_exception_is_a_404(billing, outsider, two_remittances):
    exception = RemittanceException.objects.get()
    before = resolution_state()
    assert (
        _error(api(outsider).get(f"/api/remittance-exceptions/{exception.pk}/"), 404)["code"] == "not_found"
    )
    assert (
        _error(_resolve(outsider, exception, action="dismiss", note="mine now"), 404)["code"] == "not_found"
    )
    assert api(outsider).get("/api/remittance-exceptions/").json()["count"] == 0
    assert resolution_state() == before


def test_a_resolved_exception_is_still_found_by_id(billing, biller, two_remittances):
    exception = RemittanceException.objects.get()
    exception_resolve(exception=exception, action="dismiss", user=biller, note="not ours")
    body = api(biller).get(f"/api/remittance-exceptions/{exception.pk}/").json()
    assert (body["status"], body["resolved_by"]) == ("dismissed", "bill")


# --- query counts --------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 10])
def test_the_remittance_list_takes_a_fixed_number_of_queries(
    billing, biller, django_assert_num_queries, rows
):
    for n in range(rows):
        import_era(
            billing, trace=f"T{n}", claims=[era_payment(accepted_claim(billing)), unknown_payment(f"NO{n}")]
        )
    client = api(biller)
    with django_assert_num_queries(3):  # membership + count + page (open exceptions counted in SQL)
        body = client.get("/api/remittances/").json()
    assert body["count"] == rows


@pytest.mark.parametrize("claims", [1, 10])
def test_the_remittance_detail_takes_a_fixed_number_of_queries(
    billing, biller, django_assert_num_queries, claims
):
    remittance = import_era(
        billing,
        trace="D1",
        claims=[era_payment(accepted_claim(billing)) for _ in range(claims)],
        plb=[("WO", "X1", "1.00")],
    )
    client = api(biller)
    # membership + remittance + claim payments, claim-level CAS, lines, line CAS, PLBs, exceptions
    # + the audit row
    with django_assert_num_queries(9):
        body = client.get(f"/api/remittances/{remittance.pk}/").json()
    assert len(body["claims"]) == claims


@pytest.mark.parametrize("rows", [1, 10])
def test_the_exception_list_takes_a_fixed_number_of_queries(billing, biller, django_assert_num_queries, rows):
    for n in range(rows):
        import_era(billing, trace=f"X{n}", claims=[unknown_payment(f"NO{n}")])
    client = api(biller)
    with django_assert_num_queries(3):  # membership + count + page
        body = client.get("/api/remittance-exceptions/").json()
    assert body["count"] == rows


# --- schema --------------------------------------------------------------------------------------


def test_the_operations_are_in_the_schema_with_their_errors(manager):
    schema = yaml.safe_load(login(manager).get("/api/schema/").content)
    error = {"$ref": "#/components/schemas/Error"}
    expected = {
        ("/api/remittances/", "get"): {"200", "400", "403"},
        ("/api/remittances/{id}/", "get"): {"200", "403", "404"},
        ("/api/remittance-exceptions/", "get"): {"200", "400", "403"},
        ("/api/remittance-exceptions/{id}/", "get"): {"200", "403", "404"},
        ("/api/remittance-exceptions/{id}/resolve/", "post"): {"200", "400", "403", "404"},
        ("/api/remittance-exceptions/{id}/suggestions/", "get"): {"200", "403", "404"},
        ("/api/remittance-exceptions/dismiss/", "post"): {"200", "400", "403"},
    }
    for (path, method), codes in expected.items():
        operation = schema["paths"][path][method]
        codes = codes | {"401", "429"}  # every signed-in operation: no valid token or session; throttled
        assert set(operation["responses"]) == codes, path
        for code in codes - {"200"}:
            assert operation["responses"][code]["content"]["application/json"]["schema"] == error
    resolve = schema["paths"]["/api/remittance-exceptions/{id}/resolve/"]["post"]["requestBody"]["content"]
    body = schema["components"]["schemas"][resolve["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    assert set(body["properties"]) == {"action", "claim", "note"}
    assert body["required"] == ["action"]
    assert schema["components"]["schemas"]["ResolveActionEnum"]["enum"] == ["post", "dismiss"]
    query = {
        parameter["name"]
        for path, _method in expected
        for parameter in schema["paths"][path][_method].get("parameters", [])
        if parameter["in"] == "query"
    }
    assert query == {
        "page",
        "page_size",
        "status",
        "payer",
        "ordering",
        "kind",
        "remittance",
    }  # no patient details in URLs


# --- suggestions and bulk dismiss --------------------------------------------------------------------


def test_an_unmatched_payment_has_suggested_claims_to_post_to(billing, biller, outsider):
    from tests.claims.test_pages_remittances import _claim_of

    right = _claim_of(billing)
    dearer = _claim_of(billing, charge="195.00")
    payment = era_payment(right)
    payment["pcn"] = "TYPO" + right.patient_control_number
    for service in payment["services"]:
        service.pop("lcn")
    import_era(billing, trace="EFT8", claims=[payment])
    exception = RemittanceException.objects.get()
    response = api(biller).get(f"/api/remittance-exceptions/{exception.pk}/suggestions/")
    assert response.status_code == 200, response.content
    assert response.json() == [
        {
            "claim": right.pk,
            "patient_control_number": right.patient_control_number,
            "patient_name": "Garcia, Elena",
            "service_date": "2026-03-02",
            "charge": "203.00",
            "payer": "Acme Health",
            "status": "accepted",
            "score": 110,
            "reason": "same member id, patient name, date of service, procedures and charge",
        },
        {
            "claim": dearer.pk,
            "patient_control_number": dearer.patient_control_number,
            "patient_name": "Garcia, Elena",
            "service_date": "2026-03-02",
            "charge": "213.00",
            "payer": "Acme Health",
            "status": "accepted",
            "score": 100,
            "reason": "same member id, patient name, date of service and procedures, "
            "charge differs by $10.00",
        },
    ]
    assert _error(api(outsider).get(f"/api/remittance-exceptions/{exception.pk}/suggestions/"), 404)
    body = _resolve(biller, exception, action="post", claim=right.pk).json()
    assert (body["status"], body["claim_payment"]["claim"]) == ("posted", right.pk)
    assert api(biller).get(f"/api/remittance-exceptions/{exception.pk}/suggestions/").json() == []


def test_several_exceptions_are_dismissed_with_one_note_all_or_none(billing, biller, outsider):
    import_era(billing, trace="X1", claims=[unknown_payment("NOPE1"), unknown_payment("NOPE2")])
    first, second = RemittanceException.objects.order_by("pk")
    url = "/api/remittance-exceptions/dismiss/"
    before = resolution_state()
    error = _error(api(outsider).post(url, {"exception_ids": [first.pk], "note": "x"}, format="json"), 400)
    assert error["message"] == f"exception_ids: No exception {first.pk} in this practice; nothing dismissed."
    error = _error(api(biller).post(url, {"exception_ids": [first.pk], "note": ""}, format="json"), 400)
    assert error["fields"] == {"note": ["This field may not be blank."]}
    assert resolution_state() == before
    response = api(biller).post(url, {"exception_ids": [first.pk, second.pk], "note": "tests"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"dismissed": [first.pk, second.pk]}
    assert set(RemittanceException.objects.values_list("status", "resolution_note")) == {
        ("dismissed", "tests")
    }
    error = _error(api(biller).post(url, {"exception_ids": [first.pk], "note": "again"}, format="json"), 400)
    assert error["message"] == f"exception_ids: Exception {first.pk} was already resolved; nothing dismissed."
