"""The claim list and claim detail pages: access, tenancy, audit, exact values, query counts, CSV."""

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from claims.ledger import Entry, ledger_post, transaction_reverse
from claims.models import TransactionKind as K
from claims.services import LineInput
from claims.state_machine import claim_transition
from rcm.models import AuditEvent, Provider
from rcm.roles import Role, role_can
from rcm.templatetags.rcm_tags import money
from tests.claims import factories
from tests.conftest import login
from tests.rcm.factories import CoverageFactory, PayerFactory, ProviderFactory, UserFactory

# Pinned query counts: session, user, memberships (middleware) + what the page itself reads.
CLAIM_LIST_QUERIES = 6  # + status counts (which give the page count), page rows, payers
CLAIM_DETAIL_QUERIES = (
    12  # + claim, audit insert, lines, ledger, history, acknowledgments, batches, assignees, contracts
)


def make_claim(practice, **kwargs):
    """``factories.make_claim`` with the practice's one provider (the factory's NPI is unique per
    practice)."""
    kwargs.setdefault(
        "provider", Provider.objects.filter(practice=practice).first() or ProviderFactory(practice=practice)
    )
    return factories.make_claim(practice, **kwargs)


def _move(claim, *statuses, user=None):
    for status in statuses:
        claim_transition(claim=claim, to_status=status, user=user, reason=f"to {status}")
    return claim


def _paid_claim(practice, biller):
    """Two lines, $150.00 + $1,234.50; the payer pays $980.00, adjusts $300.00 and leaves $104.50 to the
    patient, who pays $50.00."""
    dos = datetime.date(2026, 3, 2)
    claim = make_claim(
        practice,
        user=biller,
        lines=[
            LineInput(procedure_code="99213", charge=Decimal("150.00"), service_date_from=dos),
            LineInput(
                procedure_code="93000",
                charge=Decimal("1234.50"),
                service_date_from=dos,
                modifiers=["25"],
                diagnosis_pointers=[1, 2],
            ),
        ],
    )
    line1, line2 = claim.lines.order_by("line_number")
    _move(claim, "ready", "submitted", user=biller)
    ledger_post(
        claim=claim,
        source="remittance",
        user=biller,
        entries=[
            Entry(line=line1, kind=K.INSURANCE_PAYMENT, amount=Decimal("80.00")),
            Entry(
                line=line1,
                kind=K.CONTRACTUAL_ADJUSTMENT,
                amount=Decimal("45.00"),
                group_code="CO",
                reason_code="45",
            ),
            Entry(
                line=line1,
                kind=K.TRANSFER_TO_PATIENT,
                amount=Decimal("25.00"),
                group_code="PR",
                reason_code="3",
                responsibility="copay",
            ),
            Entry(
                line=line2, kind=K.INSURANCE_PAYMENT, amount=Decimal("900.00"), remark_codes=["N130", "MA01"]
            ),
            Entry(
                line=line2,
                kind=K.CONTRACTUAL_ADJUSTMENT,
                amount=Decimal("255.00"),
                group_code="CO",
                reason_code="45",
            ),
            Entry(
                line=line2,
                kind=K.TRANSFER_TO_PATIENT,
                amount=Decimal("79.50"),
                group_code="PR",
                reason_code="2",
                responsibility="coinsurance",
            ),
        ],
    )
    ledger_post(
        claim=claim,
        source="payment",
        user=biller,
        entries=[
            Entry(line=line1, kind=K.PATIENT_PAYMENT, party="patient", amount=Decimal("50.00")),
        ],
    )
    _move(claim, "partially_paid", user=biller)
    claim.refresh_from_db()
    return claim


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _listed(response) -> list[int]:
    return [claim.pk for claim in response.context["page"].object_list]


def _csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


# --- access ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", Role.values)
def test_claim_pages_follow_the_claims_view_permission(role, practice, persona):
    claim = make_claim(practice)
    client = persona(role)
    expected = 200 if role_can(role, "claims.view") else 403
    assert client.get("/claims/").status_code == expected
    assert client.get(f"/claims/{claim.pk}/").status_code == expected


def test_a_user_without_a_practice_is_refused(practice, db):
    claim = make_claim(practice)
    client = login(UserFactory(username="nomad"))
    assert client.get("/claims/").status_code == 403
    assert client.get(f"/claims/{claim.pk}/").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(practice):
    claim = make_claim(practice)
    for url in ("/claims/", f"/claims/{claim.pk}/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response.url == f"/login/?next={url}"


def test_another_practices_claim_is_a_404_and_not_listed(practice, outsider, biller):
    ours = make_claim(practice)
    client = login(outsider)
    assert client.get(f"/claims/{ours.pk}/").status_code == 404
    response = client.get("/claims/")
    assert _listed(response) == []
    assert ours.patient_control_number not in response.content.decode()
    assert not AuditEvent.objects.filter(action="view", object_type="claims.claim").exists()


def test_navigation_shows_patients_and_claims_before_the_audit_log(manager):
    response = login(manager).get("/claims/")
    labels = [item["label"] for item in response.context["nav_items"]]
    assert labels == [
        "Home",
        "Claims",
        "Patients",
        "Batches",
        "X12 files",
        "Remittances",
        "Denials",
        "Underpayments",
        "Collections",
        "Payment plans",
        "KPIs",
        "Denial analytics",
        "Payer scorecard",
        "Payers",
        "Audit log",
    ]
    assert [item["label"] for item in response.context["nav_items"] if item["active"]] == ["Claims"]


# --- claim detail -----------------------------------------------------------------------------


def test_opening_a_claim_writes_exactly_one_view_event(practice, biller):
    claim = make_claim(practice)
    client = login(biller)
    before = AuditEvent.objects.count()
    client.get(f"/claims/{claim.pk}/")
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.get(action="view", object_type="claims.claim")
    assert (event.object_id, event.user, event.practice_id) == (str(claim.pk), biller, practice.pk)


def test_claim_detail_shows_the_exact_money_per_line_and_in_total(practice, biller):
    claim = _paid_claim(practice, biller)
    response = login(biller).get(f"/claims/{claim.pk}/")
    assert response.status_code == 200
    text = _text(response)
    lines = response.context["lines"]
    assert [
        (line.line_number, line.insurance_paid, line.patient_paid, line.adjustments, line.patient_balance)
        for line in lines
    ] == [
        (1, Decimal("80.00"), Decimal("50.00"), Decimal("45.00"), Decimal("-25.00")),
        (2, Decimal("900.00"), Decimal("0.00"), Decimal("255.00"), Decimal("79.50")),
    ]
    # the totals row: charge, ins paid, pt paid, adjustments, write-offs, ins balance, pt balance
    total_row = re.search(r'<tr class="total">(.*?)</tr>', text).group(1)
    assert re.findall(r'<td class="num">([^<]*)</td>', total_row) == [
        "$1,384.50",
        "$980.00",
        "$50.00",
        "$300.00",
        "$0.00",
        "$0.00",
        "$54.50",
    ]
    assert '<td class="num">-$25.00</td>' in text  # line 1 patient balance: overpaid copay
    assert '<td class="num">$1,234.50</td>' in text
    assert "Type 2 diabetes mellitus without complications" in text
    assert "Essential (primary) hypertension" in text
    assert "CO-45" in text and "PR-2" in text and "N130 MA01" in text
    assert 'data-status="partially_paid"' in text


def test_claim_detail_lists_ledger_history_and_reversal_links(practice, biller):
    claim = make_claim(practice, user=biller)
    _move(claim, "ready", "submitted", user=biller)
    line = claim.lines.get()
    (payment,) = ledger_post(
        claim=claim,
        source="remittance",
        user=biller,
        entries=[Entry(line=line, kind=K.INSURANCE_PAYMENT, amount=Decimal("80.00"))],
    )
    reversal = transaction_reverse(original=payment, user=biller, note="payer take-back")
    response = login(biller).get(f"/claims/{claim.pk}/")
    ledger = response.context["ledger"]
    assert [(t.kind, t.amount) for t in ledger] == [
        ("charge", Decimal("150.00")),
        ("insurance_payment", Decimal("80.00")),
        ("reversal", Decimal("80.00")),
    ]
    assert ledger[1].reversed_by_id == reversal.pk
    text = _text(response)
    assert f'reversed by <a href="#txn-{reversal.pk}">#{reversal.pk}</a>' in text
    assert f'reverses <a href="#txn-{payment.pk}">#{payment.pk}</a>' in text
    assert [(c.from_status, c.to_status, c.by) for c in response.context["history"]] == [
        ("draft", "ready", biller),
        ("ready", "submitted", biller),
    ]


def test_claim_detail_query_count_does_not_grow_with_lines_and_transactions(
    practice, biller, django_assert_num_queries
):
    client = login(biller)
    small = make_claim(practice)
    with CaptureQueriesContext(connection) as one:
        assert client.get(f"/claims/{small.pk}/").status_code == 200
    dos = datetime.date(2026, 3, 2)
    big = make_claim(
        practice,
        lines=[
            LineInput(procedure_code="99213", charge=Decimal("10.00") + n, service_date_from=dos)
            for n in range(10)
        ],
    )
    _move(big, "ready", "submitted", "accepted")
    ledger_post(
        claim=big,
        source="remittance",
        entries=[
            Entry(line=line, kind=K.INSURANCE_PAYMENT, amount=Decimal("5.00")) for line in big.lines.all()
        ],
    )
    with django_assert_num_queries(CLAIM_DETAIL_QUERIES):
        assert client.get(f"/claims/{big.pk}/").status_code == 200
    assert len(one) == CLAIM_DETAIL_QUERIES


# --- claim list -------------------------------------------------------------------------------


def test_status_filter_returns_exactly_the_claims_in_that_status(practice, biller):
    drafts = [make_claim(practice) for _ in range(2)]
    submitted = [_move(make_claim(practice), "ready", "submitted") for _ in range(3)]
    client = login(biller)
    response = client.get("/claims/?status=submitted")
    assert sorted(_listed(response)) == sorted(c.pk for c in submitted)
    counts = {row["status"]: row["count"] for row in response.context["status_counts"]}
    assert (counts["draft"], counts["submitted"], counts["ready"]) == (2, 3, 0)
    assert sorted(_listed(client.get("/claims/?status=draft"))) == sorted(c.pk for c in drafts)
    assert len(_listed(client.get("/claims/"))) == 5
    # an unknown status is ignored, not an error
    assert len(_listed(client.get("/claims/?status=bogus"))) == 5
    assert 'href="?status=submitted"' in response.content.decode()


def test_payer_and_claim_number_filters(practice, outsider, biller):
    acme = PayerFactory(practice=practice, name="Acme")
    first = make_claim(practice, coverage=CoverageFactory(practice=practice, payer=acme))
    second = make_claim(practice)
    client = login(biller)
    assert _listed(client.get(f"/claims/?payer={acme.pk}")) == [first.pk]
    assert _listed(client.get(f"/claims/?q={second.patient_control_number}")) == [second.pk]
    prefix = first.patient_control_number[:-1]
    assert sorted(_listed(client.get(f"/claims/?q={prefix}"))) == sorted([first.pk, second.pk])
    second.payer_claim_number = "PAYER-77"
    second.save()
    assert _listed(client.get("/claims/?q=PAYER-77")) == [second.pk]
    # patient names are not a claim-list filter: they never belong in a URL
    assert _listed(client.get(f"/claims/?q={first.patient.last_name}")) == []
    # another practice's payer id finds nothing here
    foreign_payer = PayerFactory(practice=outsider.memberships.get().practice)
    assert _listed(client.get(f"/claims/?payer={foreign_payer.pk}")) == []


def test_sorting_by_balance_and_age(practice, biller):
    today = timezone.localdate()
    old = make_claim(
        practice,
        lines=[
            LineInput(
                procedure_code="99213",
                charge=Decimal("20.00"),
                service_date_from=today - datetime.timedelta(days=90),
            )
        ],
    )
    mid = make_claim(
        practice,
        lines=[
            LineInput(
                procedure_code="99213",
                charge=Decimal("500.00"),
                service_date_from=today - datetime.timedelta(days=40),
            )
        ],
    )
    new = make_claim(
        practice,
        lines=[
            LineInput(
                procedure_code="99213",
                charge=Decimal("75.00"),
                service_date_from=today - datetime.timedelta(days=3),
            )
        ],
    )
    client = login(biller)
    assert _listed(client.get("/claims/")) == [new.pk, mid.pk, old.pk]
    assert _listed(client.get("/claims/?sort=-balance")) == [mid.pk, new.pk, old.pk]
    assert _listed(client.get("/claims/?sort=balance")) == [old.pk, new.pk, mid.pk]
    assert _listed(client.get("/claims/?sort=-age")) == [old.pk, mid.pk, new.pk]
    assert _listed(client.get("/claims/?sort=dos")) == [old.pk, mid.pk, new.pk]
    response = client.get("/claims/?sort=-age")
    text = _text(response)
    assert '<td class="num">90</td>' in text and '<td class="num">3</td>' in text
    assert 'href="?sort=age"' in text  # clicking the active column flips the direction


def test_claim_list_shows_exact_amounts(practice, biller):
    claim = _paid_claim(practice, biller)
    text = _text(login(biller).get("/claims/"))
    row = re.search(rf"{claim.patient_control_number}.*?</tr>", text).group(0)
    assert re.findall(r'<td class="num">([^<]*)</td>', row) == [
        "$1,384.50",
        "$0.00",
        "$54.50",
        "$54.50",
        str((timezone.localdate() - claim.service_date).days),
    ]


def test_claim_list_paginates_by_50(practice, biller):
    claim = make_claim(practice)
    coverage, provider = claim.coverage, claim.billing_provider
    for _ in range(50):
        make_claim(practice, coverage=coverage, provider=provider)
    client = login(biller)
    page1 = client.get("/claims/?status=draft")
    assert len(_listed(page1)) == 50
    assert 'href="?status=draft&amp;page=2"' in page1.content.decode()
    assert len(_listed(client.get("/claims/?status=draft&page=2"))) == 1


def test_claim_list_page_count_is_exact_whatever_the_filter(practice, biller):
    claim = make_claim(practice)
    coverage, provider = claim.coverage, claim.billing_provider
    for _ in range(50):
        make_claim(practice, coverage=coverage, provider=provider)
    _move(make_claim(practice, coverage=coverage, provider=provider), "ready", "submitted")
    client = login(biller)
    counts = {
        url: client.get(url).context["page"].paginator.count
        for url in (
            "/claims/",
            "/claims/?status=draft",
            "/claims/?status=submitted",
            "/claims/?status=paid",
            f"/claims/?payer={coverage.payer_id}&status=submitted",
            f"/claims/?q={claim.patient_control_number}",
        )
    }
    assert counts == {
        "/claims/": 52,
        "/claims/?status=draft": 51,
        "/claims/?status=submitted": 1,
        "/claims/?status=paid": 0,
        f"/claims/?payer={coverage.payer_id}&status=submitted": 1,
        f"/claims/?q={claim.patient_control_number}": 1,
    }


def test_claim_list_query_count_is_the_same_for_1_and_10_claims(practice, biller, django_assert_num_queries):
    client = login(biller)
    _move(make_claim(practice), "ready", "submitted")
    with CaptureQueriesContext(connection) as one:
        assert client.get("/claims/?sort=-balance").status_code == 200
    for _ in range(9):
        _move(make_claim(practice), "ready", "submitted")
    with django_assert_num_queries(
        CLAIM_LIST_QUERIES
    ):  # the claims changed: the status counts are read again
        response = client.get("/claims/?sort=-balance")
    assert len(_listed(response)) == 10
    assert len(one) == CLAIM_LIST_QUERIES
    with django_assert_num_queries(CLAIM_LIST_QUERIES - 1):  # nothing changed: the counts come from the cache
        client.get("/claims/?sort=-balance")


def test_csv_export_has_exactly_the_filtered_rows(practice, biller):
    make_claim(practice)
    submitted = [_move(make_claim(practice), "ready", "submitted") for _ in range(2)]
    paid = _paid_claim(practice, biller)
    client = login(biller)
    response = client.get("/claims/?status=submitted&format=csv")
    assert response["Content-Type"] == "text/csv"
    rows = _csv_rows(response)
    assert rows[0][0] == "PCN"
    assert sorted(row[0] for row in rows[1:]) == sorted(c.patient_control_number for c in submitted)
    (header, row) = _csv_rows(client.get(f"/claims/?q={paid.patient_control_number}&format=csv"))
    record = dict(zip(header, row, strict=True))
    assert (record["Charges"], record["Insurance balance"], record["Patient balance"], record["Status"]) == (
        "1384.50",
        "0.00",
        "54.50",
        "Partially paid",
    )
    export = AuditEvent.objects.filter(action="export", object_type="claims.claim").latest("id")
    assert export.user == biller and export.practice_id == practice.pk


# --- the money filter -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1234.5"), "$1,234.50"),
        (Decimal("-12"), "-$12.00"),
        (Decimal("0"), "$0.00"),
        (Decimal("1234567.005"), "$1,234,567.01"),
        ("80.1", "$80.10"),
        (None, ""),
    ],
)
def test_money_filter_formats_decimals(value, shown):
    assert money(value) == shown


def test_money_filter_refuses_floats():
    with pytest.raises(TypeError):
        money(12.5)


def test_the_status_chips_count_what_the_other_filters_keep(practice, biller, django_assert_num_queries):
    acme = PayerFactory(practice=practice, name="Acme")
    acme_coverage = CoverageFactory(practice=practice, payer=acme)
    _move(make_claim(practice, coverage=acme_coverage), "ready", "submitted")
    make_claim(practice, coverage=CoverageFactory(practice=practice, payer=acme))  # a draft for Acme
    make_claim(practice)
    _move(make_claim(practice), "ready", "submitted")
    client = login(biller)
    # filtered: one query gives the chips and the page count
    with django_assert_num_queries(CLAIM_LIST_QUERIES):
        response = client.get(f"/claims/?payer={acme.pk}&status=submitted")
    counts = {row["status"]: row["count"] for row in response.context["status_counts"] if row["count"]}
    assert counts == {"draft": 1, "submitted": 1}
    assert response.context["total_count"] == 2
    assert len(_listed(response)) == 1 and response.context["page"].paginator.count == 1
    html = " ".join(response.content.decode().split())
    assert 'All <span class="count">2</span>' in html
    # unfiltered, the chips are the practice's
    everything = client.get("/claims/")
    assert {row["status"]: row["count"] for row in everything.context["status_counts"] if row["count"]} == {
        "draft": 2,
        "submitted": 2,
    }
