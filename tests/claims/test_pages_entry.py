"""Charge entry pages: a new claim and the edit of one through the form, every error beside its field with
nothing saved, the scrubber run on save, the htmx helpers (patient picker, coverages, ICD-10-CM search,
charge master), the claim detail's actions, permissions and tenancy."""

import datetime
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils.html import escape

from claims.models import Claim, ClaimLine, ClaimStatus, ClaimStatusChange, Transaction
from claims.state_machine import claim_transition
from rcm.models import AuditEvent, ChargeMasterEntry, FeeScheduleRow, NumberSequence
from rcm.roles import Role, role_can
from tests.claims.conftest import DOS
from tests.conftest import login
from tests.rcm.factories import CoverageFactory, PatientFactory, PayerFactory, ProviderFactory

TWELVE = 12


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def form_data(billing, *, diagnoses=("E11.9", "I10"), lines=None, **header):
    """The POST the charge entry form sends: header fields, 12 diagnosis inputs, parallel line inputs."""
    lines = (
        lines
        if lines is not None
        else [
            {
                "procedure_code": "99214",
                "modifiers": "25",
                "units": "1",
                "charge": "185.00",
                "service_date_from": DOS.isoformat(),
                "diagnosis_pointers": "1 2",
            },
            {
                "procedure_code": "93000",
                "units": "1",
                "charge": "$1,234.50",
                "service_date_from": DOS.isoformat(),
                "diagnosis_pointers": "2",
            },
        ]
    )
    data = {
        "patient": billing.patient.pk,
        "coverage": billing.coverage.pk,
        "billing_provider": billing.group.pk,
        "rendering_provider": billing.doctor.pk,
        "place_of_service": "11",
        "prior_authorization": "",
        "patient_q": "",
        "diagnosis": list(diagnoses) + [""] * (TWELVE - len(diagnoses)),
    }
    data.update(header)
    for name in (
        "service_date_from",
        "service_date_to",
        "procedure_code",
        "modifiers",
        "units",
        "charge",
        "diagnosis_pointers",
    ):
        data[name] = [line.get(name, "") for line in lines]
    return data


def counts():
    return (
        Claim.objects.count(),
        ClaimLine.objects.count(),
        Transaction.objects.count(),
        NumberSequence.objects.filter(name="claim").count(),
    )


# --- creating a claim --------------------------------------------------------------------------


def test_a_new_claim_is_saved_exactly_as_typed_scrubbed_and_shown(billing, biller):
    client = login(biller)
    assert client.get("/claims/new/").status_code == 200
    response = client.post("/claims/new/", form_data(billing))
    claim = Claim.objects.get()
    assert response.status_code == 302 and response.url == f"/claims/{claim.pk}/"
    assert (claim.patient, claim.coverage, claim.payer, claim.billing_provider, claim.rendering_provider) == (
        billing.patient,
        billing.coverage,
        billing.payer,
        billing.group,
        billing.doctor,
    )
    assert (claim.place_of_service, claim.prior_authorization, claim.diagnosis_codes, claim.service_date) == (
        "11",
        "",
        ["E11.9", "I10"],
        DOS,
    )
    assert [
        (
            line.line_number,
            line.procedure_code,
            line.modifiers,
            line.units,
            line.charge,
            line.service_date_from,
            line.service_date_to,
            line.diagnosis_pointers,
        )
        for line in claim.lines.order_by("line_number")
    ] == [
        (1, "99214", ["25"], Decimal("1.000"), Decimal("185.00"), DOS, DOS, [1, 2]),
        (2, "93000", [], Decimal("1.000"), Decimal("1234.50"), DOS, DOS, [2]),
    ]
    assert claim.charge_total == Decimal("1419.50")
    assert claim.created_by == biller
    # the scrubber ran on save: clean, so the draft became ready
    assert (claim.status, claim.scrub_status, claim.scrub_findings) == (ClaimStatus.READY, "clean", [])
    page = client.get(response.url)
    text = _text(page)
    assert f"Claim {claim.patient_control_number} created." in text
    assert "The scrubber found nothing: the claim is ready to submit." in text


def test_a_date_range_units_and_cms_1500_letter_pointers_are_read(billing, biller):
    lines = [
        {
            "procedure_code": "97110",
            "modifiers": "GP, KX",
            "units": "4",
            "charge": "300",
            "service_date_from": "03/02/2026",
            "service_date_to": "2026-03-05",
            "diagnosis_pointers": "B,a",
        }
    ]
    response = login(biller).post("/claims/new/", form_data(billing, lines=lines))
    assert response.status_code == 302
    line = ClaimLine.objects.get()
    assert (
        line.procedure_code,
        line.modifiers,
        line.units,
        line.charge,
        line.service_date_from,
        line.service_date_to,
        line.diagnosis_pointers,
    ) == ("97110", ["GP", "KX"], Decimal("4.000"), Decimal("300.00"), DOS, datetime.date(2026, 3, 5), [2, 1])


def test_blank_line_rows_are_ignored_and_self_pay_has_no_coverage(billing, biller):
    lines = [
        {},
        {
            "procedure_code": "99213",
            "charge": "150",
            "service_date_from": DOS.isoformat(),
            "units": "1",
            "diagnosis_pointers": "1",
        },
        {"units": "1", "diagnosis_pointers": "1"},
    ]
    response = login(biller).post("/claims/new/", form_data(billing, lines=lines, coverage=""))
    assert response.status_code == 302
    claim = Claim.objects.get()
    assert (claim.coverage, claim.payer, claim.lines.count()) == (None, None, 1)


# --- bad input: the error beside its field, nothing saved ------------------------------------------

BAD_INPUT = [
    pytest.param(
        {
            "lines": [
                {
                    "procedure_code": "99214",
                    "charge": "0",
                    "units": "1",
                    "service_date_from": DOS.isoformat(),
                    "diagnosis_pointers": "1",
                }
            ]
        },
        "line",
        "charge",
        "The charge must be greater than zero (got $0.00).",
        id="zero-charge",
    ),
    pytest.param(
        {
            "lines": [
                {
                    "procedure_code": "99214",
                    "charge": "",
                    "units": "1",
                    "service_date_from": DOS.isoformat(),
                    "diagnosis_pointers": "1",
                }
            ]
        },
        "line",
        "charge",
        "Enter the charge.",
        id="no-charge",
    ),
    pytest.param(
        {
            "lines": [
                {
                    "procedure_code": "99214",
                    "charge": "185",
                    "units": "1",
                    "service_date_from": DOS.isoformat(),
                    "diagnosis_pointers": "1 3",
                }
            ]
        },
        "line",
        "diagnosis_pointers",
        "Pointer 3 does not point at a diagnosis: the claim has 2.",
        id="pointer",
    ),
    pytest.param(
        {
            "lines": [
                {
                    "procedure_code": "99214",
                    "charge": "185",
                    "units": "1",
                    "service_date_from": "13/45/2026",
                    "diagnosis_pointers": "1",
                }
            ]
        },
        "line",
        "service_date_from",
        "'13/45/2026' is not a date: use MM/DD/YYYY.",
        id="bad-date",
    ),
    pytest.param(
        {
            "lines": [
                {
                    "procedure_code": "99214",
                    "charge": "185",
                    "units": "1",
                    "service_date_from": DOS.isoformat(),
                    "diagnosis_pointers": "1 Z",
                }
            ]
        },
        "line",
        "diagnosis_pointers",
        "Pointer 'Z' is not a diagnosis number: use 1 to 12 (or A to L).",
        id="bad-pointer",
    ),
    pytest.param(
        {"diagnoses": ("E11", "I10")},
        "dx",
        1,
        "E11 (Type 2 diabetes mellitus) is a header code, not billable",
        id="header-icd",
    ),
    pytest.param(
        {"diagnoses": ("E11.9", "", "I10")},
        "dx",
        2,
        "Diagnosis 2 is empty while a later one is filled: fill them in order.",
        id="gap",
    ),
    pytest.param({"diagnoses": ("E11.9", "E11.9")}, "dx", 2, "E11.9 is already diagnosis 1.", id="duplicate"),
]


@pytest.mark.parametrize(("change", "where", "field", "message"), BAD_INPUT)
def test_bad_input_is_shown_beside_its_field_and_nothing_is_saved(
    billing, biller, change, where, field, message
):
    before = counts()
    data = form_data(billing, **change)
    response = login(biller).post("/claims/new/", data)
    assert response.status_code == 200
    assert counts() == before
    html = response.content.decode()
    assert "Nothing was saved: correct the fields marked in red." in html
    if where == "line":
        (row,) = response.context["line_rows"]
        assert row.errors[field] == message
        assert re.search(
            rf'<li data-field="{field}"><strong>[^<]+:</strong> {re.escape(escape(message))}', html
        )
        assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', html)
    else:
        row = response.context["diagnosis_rows"][field - 1]
        assert row.error.startswith(message)
        assert re.search(rf'id="dx-{field}-error">{re.escape(escape(message))}', html)
    # what was typed is still there
    assert 'value="E11' in html or 'value="I10"' in html
    assert f'value="{billing.patient.pk}"' in html


def test_header_errors_are_beside_their_fields(billing, biller):
    before = counts()
    response = login(biller).post(
        "/claims/new/", form_data(billing, place_of_service="1", billing_provider="")
    )
    assert response.status_code == 200 and counts() == before
    html = response.content.decode()
    assert 'id="billing-provider-error">Pick the billing provider.' in html
    # the form's own check stops before the service: fix the provider, then the service speaks about the place
    response = login(biller).post("/claims/new/", form_data(billing, place_of_service="1"))
    assert counts() == before
    assert 'id="place-of-service-error">Place of service &#x27;1&#x27; must be a two-digit CMS code' in (
        response.content.decode()
    )


def test_a_coverage_of_another_patient_is_refused_beside_the_coverage(billing, biller):
    other = CoverageFactory(practice=billing.practice, payer=billing.payer)
    before = counts()
    response = login(biller).post("/claims/new/", form_data(billing, coverage=other.pk))
    assert counts() == before
    assert 'id="coverage-error">The coverage belongs to another patient.' in response.content.decode()


def test_no_patient_chosen_is_refused_beside_the_picker(billing, biller):
    response = login(biller).post("/claims/new/", form_data(billing, patient=""))
    assert Claim.objects.count() == 0
    assert (
        'id="patient-error">Pick the patient: search by account number or name.' in response.content.decode()
    )


def test_scrub_on_save_shows_the_finding_on_the_detail_page(billing, biller):
    lines = [
        {
            "procedure_code": "20610",
            "charge": "250",
            "units": "1",
            "service_date_from": DOS.isoformat(),
            "diagnosis_pointers": "1",
        }
    ]
    client = login(biller)
    response = client.post(
        "/claims/new/", form_data(billing, diagnoses=("M17.11",), lines=lines), follow=True
    )
    claim = Claim.objects.get()
    assert (claim.status, claim.scrub_status) == (ClaimStatus.DRAFT, "errors")
    assert [(f["rule"], f["line"]) for f in claim.scrub_findings] == [("PRIOR_AUTH_MISSING", 1)]
    text = _text(response)
    assert "The scrubber found 1 error to fix before submission." in text
    assert "Line 1: 20610 needs prior authorization under this contract." in text
    assert "Enter the payer&#x27;s prior authorization number" in text
    # fixing it on the edit page makes the claim ready
    data = form_data(billing, diagnoses=("M17.11",), lines=lines, prior_authorization="PA-77")
    del data["patient"]
    client.post(f"/claims/{claim.pk}/edit/", data)
    claim.refresh_from_db()
    assert (claim.status, claim.scrub_status, claim.prior_authorization) == (
        ClaimStatus.READY,
        "clean",
        "PA-77",
    )


# --- editing ---------------------------------------------------------------------------------------


def test_the_edit_page_shows_the_claim_and_saves_changes(billing, biller):
    claim = billing.claim()
    client = login(biller)
    page = client.get(f"/claims/{claim.pk}/edit/")
    assert page.status_code == 200
    (row,) = page.context["line_rows"]
    assert (row.procedure_code, row.charge, row.units, row.service_date_from, row.diagnosis_pointers) == (
        "99214",
        "185.00",
        "1",
        "2026-03-02",
        "1 2",
    )
    assert [r.code for r in page.context["diagnosis_rows"][:3]] == ["E11.9", "I10", ""]
    lines = [
        {
            "procedure_code": "99214",
            "charge": "200.00",
            "units": "1",
            "service_date_from": DOS.isoformat(),
            "diagnosis_pointers": "1",
        },
        {
            "procedure_code": "36415",
            "charge": "12.00",
            "units": "1",
            "service_date_from": DOS.isoformat(),
            "diagnosis_pointers": "1",
        },
    ]
    data = form_data(billing, lines=lines, diagnoses=("E11.9",))
    del data["patient"]
    response = client.post(f"/claims/{claim.pk}/edit/", data)
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.diagnosis_codes == ["E11.9"]
    assert [
        (line.procedure_code, line.charge, line.removed) for line in claim.lines.order_by("line_number")
    ] == [("99214", Decimal("200.00"), False), ("36415", Decimal("12.00"), False)]
    assert claim.charge_total == Decimal("212.00")


def test_edit_errors_change_nothing(billing, biller):
    claim = billing.claim()
    before = (counts(), list(ClaimLine.objects.values_list("charge", flat=True)))
    data = form_data(
        billing,
        lines=[
            {
                "procedure_code": "99214",
                "charge": "-5",
                "units": "1",
                "service_date_from": DOS.isoformat(),
                "diagnosis_pointers": "1",
            }
        ],
    )
    del data["patient"]
    response = login(biller).post(f"/claims/{claim.pk}/edit/", data)
    assert response.status_code == 200
    assert (
        response.context["line_rows"][0].errors["charge"]
        == "The charge must be greater than zero (got -$5.00)."
    )
    assert (counts(), list(ClaimLine.objects.values_list("charge", flat=True))) == before


def test_a_submitted_claim_is_not_editable_and_the_page_says_why(billing, biller):
    claim = billing.claim()
    for status in ("ready", "submitted"):
        claim_transition(claim=claim, to_status=status)
    client = login(biller)
    response = client.get(f"/claims/{claim.pk}/edit/", follow=True)
    text = _text(response)
    assert response.redirect_chain == [(f"/claims/{claim.pk}/", 302)]
    assert "This claim is submitted: only drafts, ready, rejected and corrected claims can be edited." in text
    assert f'href="/claims/{claim.pk}/edit/"' not in response.content.decode()
    data = form_data(billing)
    del data["patient"]
    client.post(f"/claims/{claim.pk}/edit/", data)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED and claim.lines.count() == 1


def test_the_detail_page_offers_edit_and_scrub_only_while_editable(billing, biller):
    claim = billing.claim()
    client = login(biller)
    html = client.get(f"/claims/{claim.pk}/").content.decode()
    assert f'href="/claims/{claim.pk}/edit/"' in html and f'action="/claims/{claim.pk}/scrub/"' in html
    response = client.post(f"/claims/{claim.pk}/scrub/", follow=True)
    claim.refresh_from_db()
    assert (claim.status, claim.scrub_status) == (ClaimStatus.READY, "clean")
    assert "The scrubber found nothing: the claim is ready to submit." in _text(response)


# --- htmx helpers ----------------------------------------------------------------------------------


def test_the_patient_picker_searches_by_post_and_never_by_get(billing, biller):
    client = login(biller)
    assert client.get("/claims/entry/patients/", {"patient_q": "Garcia"}).status_code == 405
    response = client.post("/claims/entry/patients/", {"patient_q": "Garcia"})
    html = response.content.decode()
    assert "Garcia, Elena" in html
    assert f'hx-get="/claims/entry/patients/{billing.patient.pk}/"' in html
    by_account = client.post("/claims/entry/patients/", {"patient_q": billing.patient.account_number})
    assert "Garcia, Elena" in by_account.content.decode()
    nobody = client.post("/claims/entry/patients/", {"patient_q": "Zzyzx"})
    assert "No patient matches" in nobody.content.decode()


def test_picking_a_patient_gives_their_coverages_active_first(billing, biller):
    ended = CoverageFactory(
        practice=billing.practice,
        patient=billing.patient,
        payer=billing.medicare,
        member_id="OLD1",
        effective_date=datetime.date(2020, 1, 1),
        end_date=datetime.date(2024, 12, 31),
    )
    response = login(biller).get(f"/claims/entry/patients/{billing.patient.pk}/")
    html = response.content.decode()
    assert [c.pk for c in response.context["coverages"]] == [billing.coverage.pk, ended.pk]
    assert (
        f'<option value="{billing.coverage.pk}" selected>Acme Health · primary · member XJH123456789</option>'
        in html
    )
    assert "ended 12/31/2024" in html
    assert 'id="patient-chosen" hx-swap-oob="true"' in html
    assert f'<input type="hidden" name="patient" value="{billing.patient.pk}">' in html


def test_icd_search_by_code_prefix_lists_exactly_those_codes(db, biller):
    response = login(biller).get("/claims/entry/icd10/", {"q": "E11.6"})
    codes = [entry.code for entry in response.context["entries"]]
    assert codes == [
        "E11.6",
        "E11.61",
        "E11.610",
        "E11.618",
        "E11.62",
        "E11.620",
        "E11.621",
        "E11.622",
        "E11.628",
        "E11.63",
        "E11.630",
        "E11.638",
        "E11.64",
        "E11.641",
        "E11.649",
        "E11.65",
        "E11.69",
    ]
    html = response.content.decode()
    assert 'data-pick-code="E11.65"' in html
    assert 'data-pick-code="E11.6"' not in html  # a header code cannot be picked
    same = login(biller).get("/claims/entry/icd10/", {"diagnosis": "e116", "row": "3"})
    assert [entry.code for entry in same.context["entries"]] == codes


def test_icd_search_marks_header_codes(db, biller):
    response = login(biller).get("/claims/entry/icd10/", {"q": "E11"})
    first = response.context["entries"][0]
    assert (first.code, first.billable) == ("E11", False)
    assert response.context["truncated"] is True
    html = _text(response)
    assert (
        '<li class="suggest-header" aria-disabled="true"><span class="mono code">E11</span> Type 2 diabetes '
        "mellitus <em>header — pick a more specific code</em></li>"
    ) in html
    assert 'data-pick-code="E11"' not in html


def test_icd_search_by_words_in_the_description(db, biller):
    response = login(biller).get("/claims/entry/icd10/", {"q": "type 2 diabetes foot ulcer"})
    assert [(e.code, e.billable) for e in response.context["entries"]] == [("E11.621", True)]
    assert (
        "No ICD-10-CM code matches"
        in login(biller).get("/claims/entry/icd10/", {"q": "qqqzzz"}).content.decode()
    )


def test_the_charge_comes_from_the_charge_master(billing, biller):
    ChargeMasterEntry.objects.create(
        practice=billing.practice, procedure_code="99214", charge=Decimal("185.00")
    )
    ChargeMasterEntry.objects.create(
        practice=billing.practice, procedure_code="99214", modifier="25", charge=Decimal("195.00")
    )
    FeeScheduleRow.objects.create(
        practice=billing.practice,
        contract=billing.contract,
        procedure_code="99214",
        allowed_amount=Decimal("128.40"),
    )
    client = login(biller)
    plain = client.get("/claims/entry/charge/", {"procedure_code": "99214", "units": "1"})
    assert 'data-charge="185.00"' in plain.content.decode()
    assert plain.context["charge"] == Decimal("185.00")
    with_modifier = client.get(
        "/claims/entry/charge/",
        {
            "procedure_code": "99214",
            "modifiers": "25 59",
            "units": "2",
            "coverage": billing.coverage.pk,
            "place_of_service": "11",
        },
    )
    assert with_modifier.context["charge"] == Decimal("390.00")
    assert "allows $128.40" in with_modifier.content.decode()
    unknown = client.get("/claims/entry/charge/", {"procedure_code": "99999"})
    assert unknown.context["charge"] is None and "data-charge" not in unknown.content.decode()


def test_the_charge_master_of_another_practice_is_not_used(billing, biller, other_practice):
    ChargeMasterEntry.objects.create(
        practice=other_practice, procedure_code="99214", charge=Decimal("999.00")
    )
    response = login(biller).get("/claims/entry/charge/", {"procedure_code": "99214"})
    assert response.context["charge"] is None


# --- assignment from the detail page ---------------------------------------------------------------


def test_assigning_a_claim_from_its_page(billing, biller, admin_user):
    claim = billing.claim()
    client = login(biller)
    response = client.post(f"/claims/{claim.pk}/assign/", {"assignee": admin_user.pk}, follow=True)
    claim.refresh_from_db()
    assert claim.assigned_to == admin_user
    assert f"Claim {claim.patient_control_number} assigned to" in _text(response)
    client.post(f"/claims/{claim.pk}/assign/", {"assignee": ""})
    claim.refresh_from_db()
    assert claim.assigned_to is None


def test_a_user_of_another_practice_cannot_be_assigned(billing, biller, outsider):
    claim = billing.claim()
    assert login(biller).post(f"/claims/{claim.pk}/assign/", {"assignee": outsider.pk}).status_code == 404
    claim.refresh_from_db()
    assert claim.assigned_to is None


# --- permissions and tenancy ---------------------------------------------------------------------


@pytest.mark.parametrize("role", Role.values)
def test_charge_entry_follows_the_claims_edit_permission(role, billing, persona):
    claim = billing.claim()
    client = persona(role)
    expected = 200 if role_can(role, "claims.edit") else 403
    assert client.get("/claims/new/").status_code == expected
    assert client.get(f"/claims/{claim.pk}/edit/").status_code == expected
    assert client.get("/claims/entry/icd10/", {"q": "I10"}).status_code == expected
    assert client.get("/claims/entry/charge/", {"procedure_code": "99214"}).status_code == expected
    assert client.post("/claims/entry/patients/", {"patient_q": "Garcia"}).status_code == expected
    assert client.post(f"/claims/{claim.pk}/scrub/").status_code == (302 if expected == 200 else 403)
    before = counts()
    status = client.post("/claims/new/", form_data(billing)).status_code
    assert status == (302 if expected == 200 else 403)
    if expected == 403:
        assert counts() == before


@pytest.mark.parametrize("role", [Role.COLLECTIONS, Role.MANAGER])
def test_collections_and_managers_get_403_on_charge_entry(role, billing, persona):
    client = persona(role)
    assert client.get("/claims/new/").status_code == 403
    assert client.post("/claims/new/", form_data(billing)).status_code == 403
    assert Claim.objects.count() == 0


def test_anonymous_visitors_are_sent_to_sign_in(billing):
    response = Client().get("/claims/new/")
    assert response.status_code == 302 and response.url == "/login/?next=/claims/new/"


def test_another_practices_rows_are_404s_or_refused(billing, outsider, other_practice):
    claim = billing.claim()
    client = login(outsider)
    assert client.get(f"/claims/{claim.pk}/edit/").status_code == 404
    assert client.post(f"/claims/{claim.pk}/scrub/").status_code == 404
    assert client.post(f"/claims/{claim.pk}/assign/", {"assignee": ""}).status_code == 404
    assert client.get(f"/claims/entry/patients/{billing.patient.pk}/").status_code == 404
    assert (
        "Garcia, Elena"
        not in client.post("/claims/entry/patients/", {"patient_q": "Garcia"}).content.decode()
    )
    # a form naming our patient, coverage and providers is refused field by field, nothing saved
    before = counts()
    ProviderFactory(practice=other_practice)
    response = client.post("/claims/new/", form_data(billing))
    assert response.status_code == 200 and counts() == before
    errors = response.context["form"].errors
    assert set(errors) == {"patient", "coverage", "billing_provider", "rendering_provider"}
    claim.refresh_from_db()
    assert claim.assigned_to is None


def test_a_coverage_of_another_practice_is_refused(billing, biller, other_practice):
    foreign = CoverageFactory(
        practice=other_practice,
        payer=PayerFactory(practice=other_practice),
        patient=PatientFactory(practice=other_practice),
    )
    before = counts()
    response = login(biller).post("/claims/new/", form_data(billing, coverage=foreign.pk))
    assert counts() == before
    assert response.context["form"].errors["coverage"] == ["Pick one of the patient's coverages."]


def test_saving_writes_the_audit_trail_and_no_names_in_urls(billing, biller):
    client = login(biller)
    response = client.post("/claims/new/", form_data(billing))
    claim = Claim.objects.get()
    assert "Garcia" not in response.url
    created = AuditEvent.objects.filter(
        action="create",
        object_type="claims.claim",
        object_id=str(claim.pk),
        user=biller,
        changes__has_key="patient_control_number",
    )
    assert [event.changes["patient_control_number"] for event in created] == [
        [None, claim.patient_control_number]
    ]
    assert ClaimStatusChange.objects.filter(claim=claim, to_status="ready", by=biller).count() == 1


# --- the claim detail page with its new panels --------------------------------------------------------

# session, user, memberships (middleware) + claim, audit insert, lines, ledger, history
# + acknowledgments, batches, the assignees of the "Assign to" select
# + the payer's contracts and their fee rows for the claim's codes (each line's expected allowed amount)
CLAIM_DETAIL_QUERIES = 3 + 5 + 3 + 2


def test_the_claim_detail_query_count_does_not_grow_with_acknowledgments_and_batches(
    billing, biller, django_assert_num_queries
):
    from claims.edi.intake import x12_import
    from claims.submission.batches import claims_submit
    from tests.claims.test_acknowledgments import sample

    client = login(biller)
    claim = billing.claim()
    with django_assert_num_queries(CLAIM_DETAIL_QUERIES):
        assert client.get(f"/claims/{claim.pk}/").status_code == 200
    claim_transition(claim=claim, to_status="ready")
    claims_submit(practice=billing.practice, user=biller)
    Claim.objects.filter(pk=claim.pk).update(patient_control_number="5781")
    x12_import(
        practice=billing.practice, file_name="a.277", content=sample("acks/imsweb-x12_277CA_accepted.277")
    )
    with django_assert_num_queries(CLAIM_DETAIL_QUERIES):
        response = client.get(f"/claims/{claim.pk}/")
    assert [(ack.accepted, ack.reasons) for ack in response.context["acknowledgments"]] == [
        (True, ["Accepted into adjudication: accepted for processing"])
    ]
    assert len(response.context["batches"]) == 1
    assert "Accepted into adjudication: accepted for processing" in response.content.decode()
