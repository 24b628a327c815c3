"""Underpayments: each adjudicated line's variance against its contract (through ERA posting and the bulk
recompute), the underpayment found, worked (appeal with its letter, accept, recovered) and recovered by a
later 835; drift findings; pages and API."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from pypdf import PdfReader

from claims.models import LineVariance, Underpayment, UnderpaymentChange, UnderpaymentStatus
from claims.services import LineInput
from claims.underpayments import variances
from claims.underpayments.letters import underpayment_letter_pdf
from claims.underpayments.selectors import drift_findings, underpayment_detail
from claims.underpayments.services import (
    underpayment_accept,
    underpayment_appeal,
    underpayment_mark_recovered,
)
from claims.underpayments.variances import variances_recompute
from rcm.models import FeeScheduleRow, PayerContract, PricingMethod
from tests.claims.conftest import DOS
from tests.claims.era_builder import era
from tests.claims.test_era_posting import post, submitted
from tests.conftest import login

D = Decimal


@pytest.fixture
def priced(billing):
    """Acme's contract: 99214 at $130.00, 36415 at $18.00, tolerance $1.00 (the default)."""
    for code, amount in (("99214", "130.00"), ("36415", "18.00")):
        FeeScheduleRow.objects.create(
            practice=billing.practice,
            contract=billing.contract,
            procedure_code=code,
            allowed_amount=D(amount),
        )
    return billing


def _payment(claim, *, paid_99214="100", pr="20", paid_36415="18", status="1"):
    """99214 paid ``paid_99214`` with ``pr`` coinsurance (allowed = the two), 36415 as given."""
    allowed = D(paid_99214) + D(pr)
    return dict(
        pcn=claim.patient_control_number,
        status=status,
        charge="203",
        paid=str(D(paid_99214) + D(paid_36415)),
        pr=pr,
        services=[
            dict(
                code="99214",
                charge="185",
                paid=paid_99214,
                cas=[("CO", "45", str(185 - allowed)), ("PR", "2", pr)],
            ),
            dict(code="36415", charge="18", paid=paid_36415, cas=[("CO", "45", str(18 - D(paid_36415)))]),
        ],
    )


def _variances(claim):
    return sorted(
        (v.procedure_code, v.expected_allowed, v.allowed, v.paid, v.variance, v.kind)
        for v in LineVariance.objects.filter(claim=claim)
    )


def test_posting_a_short_payment_finds_the_underpayment_with_its_evidence(priced):
    claim = submitted(priced)
    assert post(priced, era(claims=[_payment(claim)])).applied
    assert _variances(claim) == [
        ("36415", D("18.00"), D("18.00"), D("18.00"), D("0.00"), "within"),
        ("99214", D("130.00"), D("120.00"), D("100.00"), D("10.00"), "underpaid"),
    ]
    underpayment = Underpayment.objects.get(claim=claim)
    assert (underpayment.status, underpayment.shortfall, underpayment.found_shortfall) == (
        "open",
        D("10.00"),
        D("10.00"),
    )
    assert underpayment.payer == priced.payer
    assert list(UnderpaymentChange.objects.values_list("from_status", "to_status", "user")) == [
        ("", "open", None)
    ]
    claim.refresh_from_db()
    assert claim.underpaid_amount == D("10.00")
    detail = underpayment_detail(priced.practice, underpayment.pk)
    short = [line for line in detail.evidence if line.kind == "underpaid"]
    assert [(line.contract.name, str(line.fee_row), line.cas) for line in short] == [
        ("Acme PPO 2026", "99214 non-facility $130.00", ["CO-45 65.00", "PR-2 20.00"])
    ]


def test_a_line_allowed_above_the_contract_is_overpaid_and_no_underpayment(priced):
    claim = submitted(priced)
    post(priced, era(claims=[_payment(claim, paid_99214="110", pr="20", paid_36415="18")]))
    # 99214 allowed 130.00: exact; change 36415 to be allowed above the contract
    assert not Underpayment.objects.exists()
    FeeScheduleRow.objects.filter(procedure_code="36415").update(allowed_amount=D("15.00"))
    assert variances_recompute(practice=priced.practice) == 2
    assert _variances(claim) == [
        ("36415", D("15.00"), D("18.00"), D("18.00"), D("-3.00"), "overpaid"),
        ("99214", D("130.00"), D("130.00"), D("110.00"), D("0.00"), "within"),
    ]
    assert not Underpayment.objects.exists()


def test_shortfalls_within_the_contracts_tolerance_are_not_underpaid(priced):
    priced.contract.underpayment_tolerance_percent = D("10.00")  # 10% of 130.00 = 13.00 > 10.00 short
    priced.contract.save()
    claim = submitted(priced)
    post(priced, era(claims=[_payment(claim)]))
    assert LineVariance.objects.get(claim=claim, procedure_code="99214").kind == "within"
    assert not Underpayment.objects.exists()
    claim.refresh_from_db()
    assert claim.underpaid_amount == D("0.00")


def test_a_remit_for_a_date_with_no_contract_leaves_the_expected_amount_unknown(priced, manager):
    priced.contract.end_date = datetime.date(2026, 1, 31)  # the service is on 2026-03-02
    priced.contract.save()
    claim = submitted(priced)
    post(priced, era(claims=[_payment(claim)]))
    assert _variances(claim) == [
        ("36415", None, D("18.00"), D("18.00"), None, "unknown"),
        ("99214", None, D("120.00"), D("100.00"), None, "unknown"),
    ]
    assert list(
        LineVariance.objects.filter(claim=claim).values_list("contract", "fee_row").order_by().distinct()
    ) == [(None, None)]
    assert not Underpayment.objects.exists()
    page = login(manager).get("/underpayments/").content.decode()
    assert "2 paid lines had no contract or fee schedule row for their date of service" in page


def test_a_later_835_paying_the_difference_recovers_the_underpayment(priced):
    claim = submitted(priced)
    post(priced, era(trace="EFT1", claims=[_payment(claim)]), "first.835")
    underpayment = Underpayment.objects.get(claim=claim)
    underpayment_appeal(underpayment=underpayment, note="Sent the letter")
    reversal = dict(
        pcn=claim.patient_control_number,
        status="22",
        charge="-203",
        paid="-118",
        pr="-20",
        services=[
            dict(code="99214", charge="-185", paid="-100", cas=[("CO", "45", "-65"), ("PR", "2", "-20")]),
            dict(code="36415", charge="-18", paid="-18"),
        ],
    )
    corrected = _payment(claim, paid_99214="110")
    result = post(priced, era(trace="EFT2", claims=[reversal, corrected], control="000000102"), "second.835")
    assert result.applied, result.file.error
    underpayment.refresh_from_db()
    assert (underpayment.status, underpayment.shortfall, underpayment.recovered_amount) == (
        "recovered",
        D("0.00"),
        D("10.00"),
    )
    assert list(underpayment.changes.values_list("from_status", "to_status", "reason")) == [
        ("", "open", "Found: paid short of the contract beyond its tolerance"),
        ("open", "appealed", "Sent the letter"),
        ("appealed", "recovered", "Recovered: a later payment brought the lines up to the contract"),
    ]
    claim.refresh_from_db()
    assert claim.underpaid_amount == D("0.00")
    assert _variances(claim) == [
        ("36415", D("18.00"), D("18.00"), D("18.00"), D("0.00"), "within"),
        ("99214", D("130.00"), D("130.00"), D("110.00"), D("0.00"), "within"),
    ]


def test_accept_needs_a_reason_and_a_refused_action_changes_nothing(priced, manager):
    claim = submitted(priced)
    post(priced, era(claims=[_payment(claim)]))
    underpayment = Underpayment.objects.get(claim=claim)
    with pytest.raises(ValidationError, match="Say why the shortfall is accepted"):
        underpayment_accept(underpayment=underpayment, reason="  ", user=manager)
    underpayment.refresh_from_db()
    assert underpayment.status == "open" and underpayment.changes.count() == 1
    underpayment_accept(underpayment=underpayment, reason="Rate cut agreed in the renewal", user=manager)
    underpayment.refresh_from_db()
    assert (underpayment.status, underpayment.note) == (
        "accepted",
        "Accepted: Rate cut agreed in the renewal",
    )
    claim.refresh_from_db()
    assert claim.underpaid_amount == D("0.00")  # out of the underpaid queue
    with pytest.raises(ValidationError, match="accepted: it cannot become appealed"):
        underpayment_appeal(underpayment=underpayment, user=manager)
    with pytest.raises(ValidationError, match="accepted: it cannot become recovered"):
        underpayment_mark_recovered(underpayment=underpayment, user=manager)
    assert underpayment.changes.count() == 2
    assert list(underpayment.changes.values_list("to_status", "user")) == [
        ("open", None),
        ("accepted", manager.pk),
    ]


def test_mark_recovered_records_the_whole_shortfall(priced, biller):
    claim = submitted(priced)
    post(priced, era(claims=[_payment(claim)]))
    underpayment = underpayment_mark_recovered(
        underpayment=Underpayment.objects.get(claim=claim), user=biller, note="Paid by paper check 4411"
    )
    assert (underpayment.status, underpayment.recovered_amount, underpayment.note) == (
        "recovered",
        D("10.00"),
        "Paid by paper check 4411",
    )


def test_the_appeal_letter_names_the_contract_row_and_amounts(priced):
    claim = submitted(priced)
    post(priced, era(claims=[_payment(claim)]))
    underpayment = underpayment_detail(priced.practice, Underpayment.objects.get(claim=claim).pk)
    text = " ".join(
        PdfReader(io.BytesIO(underpayment_letter_pdf(underpayment))).pages[0].extract_text().split()
    )
    assert "Request for reprocessing: payment below the contracted rate" in text
    assert f"Claim {claim.patient_control_number}" in text
    assert "contract “Acme PPO 2026”, in force from 01/01/2025" in text
    assert (
        "99214 03/02/2026 99214 non-facility $130.00 $130.00 $120.00 $100.00 CO-45 65.00, PR-2 20.00 $10.00"
        in text
    )
    assert "Total underpaid $10.00" in text
    assert "36415" not in text  # only the short lines
    assert "(180 days)" in text


def test_recompute_follows_a_corrected_fee_schedule_and_is_idempotent(priced, tmp_path):
    claim = submitted(priced)
    post(priced, era(claims=[_payment(claim)]))
    FeeScheduleRow.objects.filter(procedure_code="99214").update(allowed_amount=D("125.00"))
    out = io.StringIO()
    call_command("compute_variances", practice=priced.practice.slug, stdout=out)
    assert out.getvalue().startswith("Variances of 2 adjudicated lines recomputed")
    call_command("compute_variances", stdout=io.StringIO())
    assert LineVariance.objects.count() == 2
    underpayment = Underpayment.objects.get(claim=claim)
    assert (underpayment.shortfall, underpayment.found_shortfall, underpayment.recovered_amount) == (
        D("5.00"),
        D("10.00"),
        D("5.00"),
    )
    claim.refresh_from_db()
    assert claim.underpaid_amount == D("5.00")


def _claims_paying_97110(billing, count, allowed):
    FeeScheduleRow.objects.get_or_create(
        practice=billing.practice,
        contract=billing.contract,
        procedure_code="97110",
        defaults={"allowed_amount": D("31.40")},
    )
    payments = []
    for i in range(count):
        claim = submitted(
            billing,
            lines=[
                LineInput(
                    procedure_code="97110",
                    charge=D("90.00"),
                    units=D(2),
                    service_date_from=DOS + datetime.timedelta(days=i),
                    diagnosis_pointers=[1],
                )
            ],
        )
        paid = 2 * D(allowed)
        payments.append(
            dict(
                pcn=claim.patient_control_number,
                charge="90",
                paid=str(paid),
                services=[
                    dict(
                        code="97110",
                        charge="90",
                        paid=str(paid),
                        units=2,
                        date=(DOS + datetime.timedelta(days=i)).strftime("%Y%m%d"),
                        cas=[("CO", "45", str(90 - paid))],
                    )
                ],
            )
        )
    return payments


def test_a_payer_allowing_a_code_below_contract_across_claims_is_one_drift_finding(priced):
    payments = _claims_paying_97110(priced, 4, "28.12")
    assert post(priced, era(claims=payments)).applied
    assert drift_findings(priced.practice) == []  # 4 lines: under the default threshold
    (finding,) = drift_findings(priced.practice, min_lines=4, min_claims=4)
    assert finding.sentence == (
        "Acme Health allows 97110 at $28.12 since March 2026; contract says $31.40: 4 lines, $26.24 short"
    )
    assert (finding.claims, finding.since, finding.last) == (4, DOS, DOS + datetime.timedelta(days=3))


# --- pages and API -------------------------------------------------------------------------------


def test_the_underpaid_list_shows_evidence_in_a_fixed_number_of_queries(
    priced, manager, django_assert_num_queries
):
    for _ in range(3):
        claim = submitted(priced)
        post(
            priced,
            era(trace=f"T{claim.pk}", claims=[_payment(claim)], control=f"{claim.pk:09d}"),
            f"{claim.pk}.835",
        )
    client = login(manager)
    client.get("/underpayments/")
    with django_assert_num_queries(12):
        response = client.get("/underpayments/")
    page = response.content.decode()
    assert page.count("99214 non-facility $130.00") == 3
    assert page.count("CO-45 65.00, PR-2 20.00") == 3
    assert [tab["count"] for tab in response.context["tabs"]] == [3, 0, 0, 0, 0]


def test_manager_appeals_from_the_page_and_downloads_the_letter(priced, manager):
    claim = submitted(priced)
    post(priced, era(claims=[_payment(claim)]))
    underpayment = Underpayment.objects.get(claim=claim)
    client = login(manager)
    page = client.get(f"/underpayments/{underpayment.pk}/").content.decode()
    assert "Appeal the underpayment" in page and "$130.00" in page
    response = client.post(f"/underpayments/{underpayment.pk}/appeal/", {"reason": ""})
    assert response.status_code == 302
    underpayment.refresh_from_db()
    assert underpayment.status == "appealed"
    refused = client.post(f"/underpayments/{underpayment.pk}/accept/", {"reason": ""}, follow=True)
    assert "Say why the shortfall is accepted." in refused.content.decode()
    underpayment.refresh_from_db()
    assert underpayment.status == "appealed"
    letter = client.get(f"/underpayments/{underpayment.pk}/letter.pdf")
    assert letter["Content-Type"] == "application/pdf"
    assert letter.content.startswith(b"%PDF")


def test_pages_are_scoped_and_role_checked(priced, outsider, collections_user):
    claim = submitted(priced)
    post(priced, era(claims=[_payment(claim)]))
    pk = Underpayment.objects.get(claim=claim).pk
    assert login(outsider).get(f"/underpayments/{pk}/").status_code == 404
    assert login(outsider).post(f"/underpayments/{pk}/appeal/").status_code == 404
    assert login(collections_user).get("/underpayments/").status_code == 403
    assert Underpayment.objects.get(pk=pk).status == UnderpaymentStatus.OPEN


def test_api_lists_acts_and_refuses_with_a_clear_message(priced, manager, outsider):
    claim = submitted(priced)
    post(priced, era(claims=[_payment(claim)]))
    pk = Underpayment.objects.get(claim=claim).pk
    client = login(manager)
    listed = client.get("/api/underpayments/").json()
    assert [(u["claim_number"], u["shortfall"], u["status"]) for u in listed["results"]] == [
        (claim.patient_control_number, "10.00", "open")
    ]
    assert [
        (line["procedure_code"], line["expected_allowed"], line["allowed"], line["cas"])
        for line in listed["results"][0]["evidence"]
    ] == [("99214", "130.00", "120.00", ["CO-45 65.00", "PR-2 20.00"])]
    refused = client.post(f"/api/underpayments/{pk}/accept/", {"reason": ""}, content_type="application/json")
    assert refused.status_code == 400
    assert "Say why the shortfall is accepted." in str(refused.json())
    done = client.post(f"/api/underpayments/{pk}/appeal/", {}, content_type="application/json")
    assert done.status_code == 200 and done.json()["status"] == "appealed"
    assert client.get(f"/api/underpayments/{pk}/letter/").content.startswith(b"%PDF")
    assert login(outsider).get(f"/api/underpayments/{pk}/").status_code == 404
    assert client.get("/api/underpayment-drift/").json() == []
    lines = client.get(f"/api/line-variances/?claim={claim.pk}").json()["results"]
    assert [
        (v["line_number"], v["expected_allowed"], v["allowed"], v["variance"], v["kind"]) for v in lines
    ] == [
        (1, "130.00", "120.00", "10.00", "underpaid"),
        (2, "18.00", "18.00", "0.00", "within"),
    ]
    assert client.get("/api/line-variances/?kind=nonsense").status_code == 400


def test_the_recompute_prices_a_line_by_its_first_modifier(priced):
    FeeScheduleRow.objects.create(
        practice=priced.practice,
        contract=priced.contract,
        procedure_code="99214",
        modifier="25",
        allowed_amount=D("140.00"),
    )
    claim = submitted(
        priced,
        lines=[
            LineInput(
                procedure_code="99214", charge=D("185.00"), service_date_from=DOS, modifiers=["25", "GT"]
            ),
            LineInput(procedure_code="36415", charge=D("18.00"), service_date_from=DOS),
        ],
    )
    payment = _payment(claim)
    payment["services"][0]["mods"] = ["25", "GT"]
    assert post(priced, era(claims=[payment])).applied
    variance = LineVariance.objects.get(claim=claim, procedure_code="99214")
    assert (variance.expected_allowed, variance.variance, str(variance.fee_row)) == (
        D("140.00"),
        D("20.00"),
        "99214-25 non-facility $140.00",
    )
    variances_recompute(practice=priced.practice)  # the bulk path reads the modifier as text
    variance = LineVariance.objects.get(claim=claim, procedure_code="99214")
    assert (variance.expected_allowed, variance.variance) == (D("140.00"), D("20.00"))


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="reads ahead on a second connection (PostgreSQL)"
)
@pytest.mark.django_db(transaction=True)
def test_the_recompute_read_ahead_or_in_two_processes_writes_what_one_connection_writes(priced, monkeypatch):
    # Claims of several chunks, short, exact and over: the chunk after the current one is read by another
    # connection (outside any transaction of the caller), and the rows are the same as read in turn.
    claims = [submitted(priced) for _ in range(5)]
    post(
        priced,
        era(
            claims=[
                _payment(claims[0], paid_99214="90"),
                _payment(claims[1]),
                _payment(claims[2], paid_99214="120"),
                _payment(claims[3], paid_99214="100", pr="30"),
                _payment(claims[4], paid_99214="95"),
            ]
        ),
    )
    monkeypatch.setattr(variances, "CHUNK_CLAIMS", 2)
    ahead = []
    real = variances._reads_ahead
    monkeypatch.setattr(variances, "_reads_ahead", lambda chunks: ahead.append(len(chunks)) or real(chunks))

    def state():
        rows = sorted(
            LineVariance.objects.values_list(
                "claim_id", "procedure_code", "expected_allowed", "allowed", "variance", "kind"
            )
        )
        owed = sorted(Underpayment.objects.values_list("claim_id", "status", "shortfall"))
        return rows, owed

    LineVariance.objects.all().delete()
    assert variances_recompute(practice=priced.practice) == 10
    read_ahead = state()
    assert ahead and ahead[0] >= 3  # several chunks, read ahead
    # Shared among two forked processes (each reading ahead in turn): the same rows.
    LineVariance.objects.all().delete()
    assert variances_recompute(practice=priced.practice, workers=2) == 10
    assert state() == read_ahead
    monkeypatch.setattr(variances, "_reads_ahead", lambda chunks: [variances._chunk_reads(c) for c in chunks])
    LineVariance.objects.all().delete()
    assert variances_recompute(practice=priced.practice) == 10
    assert state() == read_ahead
    rows, owed = read_ahead
    assert [row[-1] for row in rows if row[1] == "99214"] == [
        "underpaid",
        "underpaid",
        "overpaid",
        "within",
        "underpaid",
    ]
    assert [(claim_id, shortfall) for claim_id, _status, shortfall in owed] == [
        (claims[0].pk, D("20.00")),
        (claims[1].pk, D("10.00")),
        (claims[4].pk, D("15.00")),
    ]


def test_the_evidence_names_the_base_payers_schedule_a_percent_of_base_line_came_from(billing, manager):
    # Acme pays 130% of Medicare; Medicare's schedule of the date of service allows 99214 at $100.00.
    schedule = PayerContract.objects.create(
        practice=billing.practice,
        payer=billing.medicare,
        name="Medicare 2025",
        effective_date=datetime.date(2025, 1, 1),
    )
    for code, amount in (("99214", "100.00"), ("36415", "13.85")):
        FeeScheduleRow.objects.create(
            practice=billing.practice, contract=schedule, procedure_code=code, allowed_amount=D(amount)
        )
    PayerContract.objects.filter(pk=billing.contract.pk).update(
        pricing_method=PricingMethod.PERCENT_OF_BASE, base_payer=billing.medicare, percent=D("130.00")
    )
    claim = submitted(billing)
    post(billing, era(claims=[_payment(claim)]))  # 99214 allowed 120.00 against 130.00
    underpayment = underpayment_detail(billing.practice, Underpayment.objects.get(claim=claim).pk)
    short = [line for line in underpayment.evidence if line.kind == "underpaid"]
    assert [(line.procedure_code, line.expected_allowed, line.basis) for line in short] == [
        ("99214", D("130.00"), "130.00% of Medicare Part B (Medicare 2025): row 99214 non-facility $100.00")
    ]
    page = login(manager).get(f"/underpayments/{underpayment.pk}/").content.decode()
    assert "130.00% of Medicare Part B (Medicare 2025): row 99214 non-facility $100.00" in page
