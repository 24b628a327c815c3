"""The payers and contracts API: create, change, deactivate payers; contracts with effective dating and
overlaps refused; a new rate year; role and practice checks."""

import datetime

from rcm.models import AuditEvent, FeeScheduleRow, Payer, PayerContract
from tests.api import api
from tests.rcm.factories import PayerFactory


def _error(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]


CONTRACT = {"name": "Acme PPO 2026", "effective_date": "2026-01-01", "timely_filing_days": 90}


def test_a_manager_creates_changes_and_deactivates_a_payer(manager, practice):
    client = api(manager)
    body = client.post(
        "/api/payers/", {"name": "Blue Plan", "payer_id": "bp001", "kind": "commercial"}, format="json"
    ).json()
    payer = Payer.objects.get(practice=practice)
    assert body == {
        "id": payer.pk,
        "name": "Blue Plan",
        "payer_id": "BP001",
        "kind": "commercial",
        "address_line1": "",
        "city": "",
        "state": "",
        "postal_code": "",
        "phone": "",
        "no_response_days": 30,
        "is_active": True,
    }
    body = client.patch(f"/api/payers/{payer.pk}/", {"no_response_days": 45}, format="json").json()
    assert (body["no_response_days"], body["name"]) == (45, "Blue Plan")
    assert client.post(f"/api/payers/{payer.pk}/deactivate/").json()["is_active"] is False
    assert [e.action for e in AuditEvent.objects.filter(object_type="rcm.payer").order_by("pk")] == [
        "create",
        "update",
        "update",
    ]


def test_a_duplicate_edi_id_is_refused_in_the_error_format(manager, practice):
    PayerFactory(practice=practice, name="Acme Health", payer_id="ACME1")
    error = _error(
        api(manager).post(
            "/api/payers/", {"name": "X", "payer_id": "ACME1", "kind": "commercial"}, format="json"
        ),
        400,
    )
    assert error["fields"] == {"payer_id": ["Payer ID ACME1 is already used by Acme Health."]}
    assert Payer.objects.count() == 1


def test_a_biller_reads_payers_but_cannot_write(biller, practice):
    payer = PayerFactory(practice=practice)
    client = api(biller)
    assert client.get("/api/payers/").json()["count"] == 1
    assert (
        client.post(
            "/api/payers/", {"name": "X", "payer_id": "X1", "kind": "commercial"}, format="json"
        ).status_code
        == 403
    )
    assert client.patch(f"/api/payers/{payer.pk}/", {"name": "Y"}, format="json").status_code == 403
    assert client.post(f"/api/payers/{payer.pk}/deactivate/").status_code == 403


def test_contracts_are_created_listed_by_payer_and_overlaps_refused(manager, practice):
    payer = PayerFactory(practice=practice, name="Acme Health")
    other = PayerFactory(practice=practice)
    client = api(manager)
    body = client.post(
        "/api/contracts/", {**CONTRACT, "payer": payer.pk, "prior_auth_codes": ["20610"]}, format="json"
    ).json()
    contract = PayerContract.objects.get()
    assert (
        body["id"],
        body["payer"],
        body["timely_filing_days"],
        body["prior_auth_codes"],
        body["end_date"],
    ) == (
        contract.pk,
        payer.pk,
        90,
        ["20610"],
        None,
    )
    error = _error(
        client.post("/api/contracts/", {**CONTRACT, "payer": payer.pk, "name": "Again"}, format="json"), 400
    )
    assert error["message"].startswith(
        "effective_date: These dates (01/01/2026 to open-ended) overlap the contract"
    )
    client.post("/api/contracts/", {**CONTRACT, "payer": other.pk}, format="json")
    listed = client.get(f"/api/contracts/?payer={payer.pk}").json()
    assert [c["id"] for c in listed["results"]] == [contract.pk]


def test_a_new_rate_year_through_the_api(manager, practice):
    payer = PayerFactory(practice=practice)
    client = api(manager)
    contract_id = client.post("/api/contracts/", {**CONTRACT, "payer": payer.pk}, format="json").json()["id"]
    FeeScheduleRow.objects.create(
        practice=practice, contract_id=contract_id, procedure_code="99213", allowed_amount="92.50"
    )
    response = client.post(
        f"/api/contracts/{contract_id}/new-rate-year/", {"effective_date": "2027-01-01"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["effective_date"], body["timely_filing_days"]) == (
        "Acme PPO 2026 from 01/01/2027",
        "2027-01-01",
        90,
    )
    assert client.get(f"/api/contracts/{contract_id}/").json()["end_date"] == "2026-12-31"
    assert FeeScheduleRow.objects.filter(contract_id=body["id"]).count() == 1


def test_the_patch_of_a_contract_checks_the_overlap_too(manager, practice):
    payer = PayerFactory(practice=practice)
    client = api(manager)
    first = client.post(
        "/api/contracts/", {**CONTRACT, "payer": payer.pk, "end_date": "2026-06-30"}, format="json"
    ).json()
    client.post(
        "/api/contracts/",
        {**CONTRACT, "payer": payer.pk, "name": "H2", "effective_date": "2026-07-01"},
        format="json",
    )
    response = client.patch(f"/api/contracts/{first['id']}/", {"end_date": None}, format="json")
    assert _error(response, 400)["fields"]["effective_date"][0].startswith(
        "These dates (01/01/2026 to open-ended)"
    )
    assert PayerContract.objects.get(pk=first["id"]).end_date == datetime.date(2026, 6, 30)


def test_another_practices_payer_is_refused_like_a_missing_one(manager, other_practice):
    payer = PayerFactory(practice=other_practice)
    client = api(manager)
    assert client.get(f"/api/payers/{payer.pk}/").status_code == 404
    error = _error(client.post("/api/contracts/", {**CONTRACT, "payer": payer.pk}, format="json"), 400)
    assert error["fields"] == {"payer": [f"No payer with id {payer.pk} in this practice."]}


def test_a_percent_of_base_contract_names_its_base_payer(manager, practice, other_practice):
    payer = PayerFactory(practice=practice, name="Acme Health")
    medicare = PayerFactory(practice=practice, name="Medicare Part B", kind="medicare")
    theirs = PayerFactory(practice=other_practice, name="Their Medicare")
    client = api(manager)
    body = {**CONTRACT, "payer": payer.pk, "pricing_method": "percent_of_base", "percent": "110.00"}
    created = client.post("/api/contracts/", {**body, "base_payer": medicare.pk}, format="json")
    assert created.status_code == 201, created.content
    contract = PayerContract.objects.get()
    assert (created.json()["base_payer"], created.json()["percent"], contract.base_payer_id) == (
        medicare.pk,
        "110.00",
        medicare.pk,
    )
    assert client.get(f"/api/contracts/{contract.pk}/").json()["base_payer"] == medicare.pk
    body["name"], body["effective_date"] = "2027", "2027-01-01"
    refusals = [
        _error(client.post("/api/contracts/", {**body, **base}, format="json"), 400)["fields"]
        for base in ({"base_payer": theirs.pk}, {"base_payer": payer.pk}, {})
    ]
    assert refusals == [
        {"base_payer": [f"No payer with id {theirs.pk} in this practice."]},
        {
            "base_payer": [
                "The base payer cannot be the contract's own payer (Acme Health): choose the payer whose "
                "schedule is the base (e.g. Medicare)."
            ]
        },
        {"base_payer": ["The % of a base schedule method needs the base payer."]},
    ]
    assert PayerContract.objects.count() == 1
