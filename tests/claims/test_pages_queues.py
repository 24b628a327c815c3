"""The work queues page: tabs with counts, the rows of a queue, filters, sorting, deadlines, bulk assignment,
CSV export, permissions, tenancy and a query count that does not grow with the rows."""

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from claims.models import Claim
from claims.queues.selectors import QUEUES, queue_counts
from claims.scrubber.engine import claims_scrub
from claims.services import LineInput
from claims.state_machine import claim_transition
from rcm.models import AuditEvent
from rcm.roles import Role, role_can
from tests.claims.conftest import DOS
from tests.conftest import login

# session, user, memberships (middleware) + the tab counts (contracts, one count per queue, the payers'
# no-response days) + the queue (contracts, page rows; its length is the tab's count) + the assignees
QUEUE_PAGE_QUERIES = 3 + (1 + 6 + 1) + 2 + 1


def rejected(billing, charge="185.00", **kwargs):
    claim = billing.claim(
        lines=[
            LineInput(
                procedure_code="99214",
                charge=Decimal(charge),
                service_date_from=kwargs.pop("dos", DOS),
                diagnosis_pointers=[1],
            )
        ],
        **kwargs,
    )
    for status in ("ready", "submitted", "rejected"):
        claim_transition(claim=claim, to_status=status)
    claim.refresh_from_db()
    return claim


def listed(response) -> list[int]:
    return [claim.pk for claim in response.context["page"].object_list]


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_queue_page_shows_tabs_with_counts_and_the_rows_of_the_queue(billing, biller):
    first, second = rejected(billing), rejected(billing, charge="300.00")
    draft = billing.claim(
        lines=[LineInput(procedure_code="20610", charge=Decimal("250.00"), service_date_from=DOS)]
    )
    claims_scrub(queryset=Claim.objects.filter(pk=draft.pk))  # prior authorization missing: a scrub error
    client = login(biller)
    response = client.get("/claims/queues/rejected/")
    assert response.status_code == 200
    assert {tab["queue"].slug: tab["count"] for tab in response.context["tabs"]} == queue_counts(
        billing.practice
    )
    assert (
        queue_counts(billing.practice)["rejected"] == 2
        and queue_counts(billing.practice)["scrub_errors"] == 1
    )
    assert [tab["queue"].slug for tab in response.context["tabs"] if tab["active"]] == ["rejected"]
    assert listed(response) == [second.pk, first.pk]  # priority: same deadline, larger balance first
    text = _text(response)
    assert f'href="/claims/{first.pk}/">{first.patient_control_number}</a>' in text
    assert "Garcia, Elena" in text and "Acme Health" in text and "$300.00" in text
    # the queue page without a slug opens the first queue with work in it
    assert client.get("/claims/queues/").context["queue"].slug == "scrub_errors"
    assert listed(client.get("/claims/queues/scrub_errors/")) == [draft.pk]


def test_an_unknown_queue_is_a_404(biller):
    assert login(biller).get("/claims/queues/nonsense/").status_code == 404


def test_a_close_deadline_is_coloured_with_the_days_left(billing, biller):
    today = timezone.localdate()
    close = rejected(billing, dos=today - datetime.timedelta(days=360))  # filing limit 365 days: 5 days left
    far = rejected(billing, dos=today - datetime.timedelta(days=30))
    response = login(biller).get("/claims/queues/rejected/?sort=deadline")
    assert listed(response) == [close.pk, far.pk]
    html = _text(response)
    assert '<span class="days-left soon">5 days left</span>' in html
    assert '<span class="days-left">335 days left</span>' in html
    deadlines = login(biller).get("/claims/queues/deadlines/")
    assert listed(deadlines) == [close.pk]


def test_sorting_by_balance_and_age(billing, biller):
    small = rejected(billing, charge="10.00", dos=DOS)
    big = rejected(billing, charge="900.00", dos=DOS - datetime.timedelta(days=3))
    client = login(biller)
    assert listed(client.get("/claims/queues/rejected/?sort=balance")) == [big.pk, small.pk]
    assert listed(client.get("/claims/queues/rejected/?sort=age")) == [big.pk, small.pk]  # oldest first
    assert listed(client.get("/claims/queues/rejected/?sort=nonsense")) == [big.pk, small.pk]


def test_mine_unassigned_and_all(billing, biller, admin_user):
    mine, theirs, nobodys = rejected(billing), rejected(billing), rejected(billing)
    Claim.objects.filter(pk=mine.pk).update(assigned_to=biller)
    Claim.objects.filter(pk=theirs.pk).update(assigned_to=admin_user)
    client = login(biller)
    assert listed(client.get("/claims/queues/rejected/?who=mine")) == [mine.pk]
    assert listed(client.get("/claims/queues/rejected/?who=unassigned")) == [nobodys.pk]
    assert sorted(listed(client.get("/claims/queues/rejected/?who=all"))) == sorted(
        [mine.pk, theirs.pk, nobodys.pk]
    )


def test_bulk_assignment_assigns_exactly_the_ticked_claims(billing, biller, admin_user, other_practice):
    one, two, untouched = rejected(billing), rejected(billing), rejected(billing)
    response = login(biller).post(
        "/claims/queues/assign/",
        {
            "claim": [one.pk, two.pk],
            "assignee": admin_user.pk,
            "next": "/claims/queues/rejected/?who=all",
        },
        follow=True,
    )
    assert response.redirect_chain == [("/claims/queues/rejected/?who=all", 302)]
    assert "2 claims assigned to" in _text(response)
    assert dict(Claim.objects.values_list("pk", "assigned_to")) == {
        one.pk: admin_user.pk,
        two.pk: admin_user.pk,
        untouched.pk: None,
    }
    login(biller).post("/claims/queues/assign/", {"claim": [one.pk], "assignee": ""})
    assert Claim.objects.get(pk=one.pk).assigned_to is None


def test_bulk_assignment_ignores_other_practices_claims_and_outside_redirects(billing, biller, outsider):
    ours = rejected(billing)
    client = login(outsider)
    client.post("/claims/queues/assign/", {"claim": [ours.pk], "assignee": outsider.pk})
    assert Claim.objects.get(pk=ours.pk).assigned_to is None
    response = login(biller).post(
        "/claims/queues/assign/", {"claim": [ours.pk], "assignee": biller.pk, "next": "https://evil.example/"}
    )
    assert response.url == "/claims/queues/"
    assert (
        login(biller)
        .post("/claims/queues/assign/", {"claim": [ours.pk], "assignee": outsider.pk})
        .status_code
        == 404
    )


def test_csv_export_of_a_queue_has_exactly_its_rows_and_is_audited(billing, biller):
    claims = [rejected(billing, charge="185.00"), rejected(billing, charge="12.50")]
    billing.claim()  # a draft: in no queue
    response = login(biller).get("/claims/queues/rejected/?format=csv")
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"].startswith('attachment; filename="queue-rejected-')
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:5] == ["PCN", "Account", "Patient", "Payer", "Status"]
    assert sorted((row[0], row[4], row[7]) for row in rows[1:]) == sorted(
        (c.patient_control_number, "Rejected", c.charge_total.to_eng_string()) for c in claims
    )
    event = AuditEvent.objects.get(action="export", object_type="claims.claim")
    assert event.changes == {"queue": "rejected", "who": "all", "sort": "priority"}


def test_the_queue_is_paginated_by_50(billing, biller):
    for _ in range(51):
        rejected(billing)
    client = login(biller)
    first = client.get("/claims/queues/rejected/")
    assert len(listed(first)) == 50 and first.context["page"].paginator.num_pages == 2
    assert len(listed(client.get("/claims/queues/rejected/?page=2"))) == 1


def test_the_query_count_is_the_same_for_1_and_10_rows(
    billing, biller, admin_user, django_assert_num_queries
):
    client = login(biller)
    claim = rejected(billing)
    Claim.objects.filter(pk=claim.pk).update(assigned_to=admin_user)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/claims/queues/rejected/").status_code == 200
    for n in range(9):
        other = rejected(billing)
        if n % 2:
            Claim.objects.filter(pk=other.pk).update(assigned_to=biller)
    with django_assert_num_queries(QUEUE_PAGE_QUERIES):
        response = client.get("/claims/queues/rejected/")
    assert len(listed(response)) == 10
    assert len(one) == QUEUE_PAGE_QUERIES


@pytest.mark.parametrize("role", Role.values)
def test_the_queues_follow_the_claims_queues_permission(role, billing, persona):
    claim = rejected(billing)
    client = persona(role)
    expected = 200 if role_can(role, "claims.queues") else 403
    assert client.get("/claims/queues/").status_code == expected
    assert client.get("/claims/queues/rejected/").status_code == expected
    assert client.get("/claims/queues/rejected/?format=csv").status_code == expected
    response = client.post("/claims/queues/assign/", {"claim": [claim.pk], "assignee": ""})
    assert response.status_code == (302 if expected == 200 else 403)


@pytest.mark.parametrize("role", [Role.COLLECTIONS, Role.MANAGER])
def test_collections_and_managers_get_403_on_the_queues(role, billing, persona):
    assert persona(role).get("/claims/queues/").status_code == 403


def test_another_practice_sees_none_of_our_claims(billing, outsider):
    ours = rejected(billing)
    response = login(outsider).get("/claims/queues/rejected/")
    assert listed(response) == []
    assert ours.patient_control_number not in response.content.decode()
    assert all(tab["count"] == 0 for tab in response.context["tabs"])


def test_navigation_lists_the_work_pages_in_order(biller, manager):
    response = login(biller).get("/claims/queues/")
    labels = [item["label"] for item in response.context["nav_items"]]
    assert labels == [
        "Home",
        "Work queues",
        "Charge entry",
        "Claims",
        "Patients",
        "Batches",
        "X12 files",
        "Remittances",
    ]
    assert [item["label"] for item in response.context["nav_items"] if item["active"]] == ["Work queues"]
    manager_labels = [item["label"] for item in login(manager).get("/claims/batches/").context["nav_items"]]
    assert manager_labels == [
        "Home",
        "Claims",
        "Patients",
        "Batches",
        "X12 files",
        "Remittances",
        "KPIs",
        "Audit log",
    ]


def test_queues_are_all_reachable(billing, biller):
    client = login(biller)
    for queue in QUEUES:
        assert client.get(f"/claims/queues/{queue.slug}/").status_code == 200


def test_the_underpaid_queue_puts_the_largest_shortfall_first(billing, biller):
    claims = []
    for shortfall in ("12.00", "80.00", "35.50"):
        claim = billing.claim()
        for status in ("ready", "submitted", "accepted", "paid"):
            claim_transition(claim=claim, to_status=status)
        Claim.objects.filter(pk=claim.pk).update(
            underpaid_amount=Decimal(shortfall)
        )  # as ERA posting records it
        claims.append(claim)
    billing.claim()  # paid in full elsewhere: not underpaid, not listed
    client = login(biller)
    assert listed(client.get("/claims/queues/underpaid/")) == [claims[1].pk, claims[2].pk, claims[0].pk]
    assert listed(client.get("/claims/queues/underpaid/?sort=priority")) == [
        claims[1].pk,
        claims[2].pk,
        claims[0].pk,
    ]
    assert set(listed(client.get("/claims/queues/underpaid/?sort=age"))) == {c.pk for c in claims}
