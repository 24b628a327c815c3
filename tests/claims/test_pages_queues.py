"""The work queues page: tabs with counts, the rows of a queue, filters, sorting, deadlines, bulk assignment,
CSV export, permissions, tenancy and a query count that does not grow with the rows."""

import csv
import datetime
import io
import re
import threading
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from claims.edi.intake import x12_import
from claims.models import Claim
from claims.queues.selectors import QUEUES, queue_counts
from claims.queues.services import claim_take_next
from claims.scrubber.engine import claims_scrub
from claims.services import LineInput
from claims.state_machine import claim_transition
from claims.tasks import scrub_drafts
from rcm.celery import app
from rcm.models import AuditEvent, FeeScheduleRow
from rcm.roles import Role, role_can
from tests.claims.conftest import DOS, Billing
from tests.claims.era_builder import era
from tests.claims.test_era_posting import _paid_era, submitted
from tests.conftest import login

# session, user, memberships (middleware) + the tab counts (contracts, one count per queue, the payers'
# no-response days) + the queue (contracts, page rows; its length is the tab's count) + the assignees
QUEUE_PAGE_QUERIES = 3 + (1 + 7 + 1) + 2 + 1


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
        "Denials",
        "Underpayments",
        "Denial analytics",
        "Payers",
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


# --- take the next claim -----------------------------------------------------------------------


def test_take_next_gives_the_user_the_highest_priority_unassigned_claim_and_opens_it(
    billing, biller, admin_user
):
    small = rejected(billing, charge="10.00")
    taken = rejected(billing, charge="900.00")
    big = rejected(billing, charge="300.00")
    Claim.objects.filter(pk=taken.pk).update(assigned_to=admin_user)
    client = login(biller)
    response = client.post("/claims/queues/rejected/next/")
    assert response.status_code == 302 and response.url == f"/claims/{big.pk}/"
    assert dict(Claim.objects.values_list("pk", "assigned_to")) == {
        small.pk: None,
        taken.pk: admin_user.pk,
        big.pk: biller.pk,
    }
    assert f"Claim {big.patient_control_number} is yours now." in _text(client.get(response.url))
    assert (
        AuditEvent.objects.filter(object_id=str(big.pk), changes__assigned_to_id__isnull=False).count() == 1
    )
    assert client.post("/claims/queues/rejected/next/").url == f"/claims/{small.pk}/"


def test_take_next_on_an_empty_queue_says_so_and_changes_nothing(billing, biller, admin_user):
    claim = rejected(billing)
    Claim.objects.filter(pk=claim.pk).update(assigned_to=admin_user)
    client = login(biller)
    response = client.post("/claims/queues/rejected/next/", follow=True)
    assert response.redirect_chain == [("/claims/queues/rejected/", 302)]
    assert "No unassigned claim left in Rejected." in _text(response)
    assert Claim.objects.get(pk=claim.pk).assigned_to == admin_user


def test_take_next_refuses_get_unknown_queues_and_other_roles(billing, biller, persona):
    rejected(billing)
    assert login(biller).get("/claims/queues/rejected/next/").status_code == 405
    assert login(biller).post("/claims/queues/nonsense/next/").status_code == 404
    assert persona(Role.COLLECTIONS).post("/claims/queues/rejected/next/").status_code == 403
    assert Claim.objects.filter(assigned_to__isnull=False).count() == 0


def test_the_queue_page_has_the_take_next_button(billing, biller):
    rejected(billing)
    html = _text(login(biller).get("/claims/queues/rejected/"))
    assert 'action="/claims/queues/rejected/next/"' in html and "Take the next claim" in html


@pytest.mark.django_db(transaction=True)
def test_two_billers_taking_at_once_get_different_claims(practice, biller, admin_user):
    """Both transactions hold their row lock at the same time: SKIP LOCKED passes the first one's claim."""
    if connection.vendor != "postgresql":
        pytest.skip("SELECT ... FOR UPDATE SKIP LOCKED needs PostgreSQL (SQLite locks the whole database)")
    billing = Billing(practice)
    first, second = rejected(billing, charge="300.00"), rejected(billing, charge="200.00")
    both_locked = threading.Barrier(2, timeout=20)
    taken, errors = {}, []

    def take(user):
        try:
            with transaction.atomic():
                claim = claim_take_next(practice=practice, slug="rejected", user=user)
                taken[user.pk] = claim.pk
                both_locked.wait()  # neither commits before both chose
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=take, args=(user,)) for user in (biller, admin_user)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(taken.values()) == sorted([first.pk, second.pk])
    assert dict(Claim.objects.values_list("assigned_to", "pk")) == {
        user_id: claim_id for user_id, claim_id in taken.items()
    }


# --- assignment that would overwrite someone else's ----------------------------------------------


def test_assigning_a_claim_someone_just_took_says_who_has_it_and_changes_nothing(billing, biller, admin_user):
    claim = rejected(billing)
    client = login(biller)
    html = _text(client.get(f"/claims/{claim.pk}/"))
    assert '<input type="hidden" name="expected" value="">' in html  # the page saw nobody
    Claim.objects.filter(pk=claim.pk).update(assigned_to=admin_user)  # meanwhile, someone takes it
    response = client.post(
        f"/claims/{claim.pk}/assign/", {"assignee": biller.pk, "expected": ""}, follow=True
    )
    name = admin_user.get_full_name() or admin_user.username
    assert f"Claim {claim.patient_control_number} is now assigned to {name}; nothing was changed." in _text(
        response
    )
    assert Claim.objects.get(pk=claim.pk).assigned_to == admin_user
    # seeing the current assignee, the reassignment goes through
    client.post(f"/claims/{claim.pk}/assign/", {"assignee": biller.pk, "expected": admin_user.pk})
    assert Claim.objects.get(pk=claim.pk).assigned_to == biller


# --- rows that say what they are about ----------------------------------------------------------


def test_rejected_rows_show_the_rejection_reason(billing, biller):
    claim = billing.claim(
        lines=[LineInput(procedure_code="99214", charge=Decimal("185.00"), service_date_from=DOS)]
    )
    for status in ("ready", "submitted"):
        claim_transition(claim=claim, to_status=status)
    claim_transition(claim=claim, to_status="rejected", reason="277CA: Subscriber ID not found")
    html = _text(login(biller).get("/claims/queues/rejected/"))
    assert "<th>Rejection reason</th>" in html
    assert '<td class="about">277CA: Subscriber ID not found</td>' in html


def test_scrub_error_rows_show_the_first_finding(billing, biller):
    draft = billing.claim(
        lines=[LineInput(procedure_code="20610", charge=Decimal("250.00"), service_date_from=DOS)]
    )
    claims_scrub(queryset=Claim.objects.filter(pk=draft.pk))
    draft.refresh_from_db()
    first = next(f for f in draft.scrub_findings if f["severity"] == "error")
    html = _text(login(biller).get("/claims/queues/scrub_errors/"))
    assert "<th>First error</th>" in html
    assert f'<td class="about">{first["message"]}</td>' in html


def test_underpaid_rows_show_expected_and_paid_allowed_and_the_shortfall(
    billing, biller, django_assert_num_queries
):
    FeeScheduleRow.objects.create(
        practice=billing.practice,
        contract=billing.contract,
        procedure_code="99214",
        allowed_amount=Decimal("130.00"),
    )
    claim = submitted(billing)
    x12_import(
        practice=billing.practice, file_name="era.835", content=era(claims=[_paid_era(claim, paid="110")])
    )
    client = login(biller)
    with django_assert_num_queries(QUEUE_PAGE_QUERIES):  # the same as the rejected queue's
        response = client.get("/claims/queues/underpaid/")
    row = response.context["page"].object_list[0]
    assert (row.expected_allowed_total, row.paid_allowed_total, row.underpaid_amount) == (
        Decimal("130.00"),
        Decimal("110.00"),
        Decimal("20.00"),
    )
    html = _text(response)
    assert (
        '<th class="num">Expected allowed</th><th class="num">Paid allowed</th><th class="num">Shortfall</th>'
        in html
    )
    assert (
        '<td class="num">$130.00</td><td class="num">$110.00</td><td class="num shortfall">$20.00</td>'
        in html
    )


def test_the_query_count_is_fixed_on_the_scrub_errors_queue(billing, biller, django_assert_num_queries):
    for _ in range(3):
        draft = billing.claim(
            lines=[LineInput(procedure_code="20610", charge=Decimal("250.00"), service_date_from=DOS)]
        )
        claims_scrub(queryset=Claim.objects.filter(pk=draft.pk))
    client = login(biller)
    with django_assert_num_queries(QUEUE_PAGE_QUERIES):
        assert len(listed(client.get("/claims/queues/scrub_errors/"))) == 3


# --- drafts by age -----------------------------------------------------------------------------


DRAFTS_PAGE_QUERIES = 3 + 1 + 1  # session, user, memberships + count + page rows


def test_drafts_by_age_lists_every_draft_oldest_service_first_with_its_lag(
    billing, biller, persona, django_assert_num_queries
):
    today = timezone.localdate()
    clean = billing.claim(
        lines=[
            LineInput(
                procedure_code="99214",
                charge=Decimal("185.00"),
                service_date_from=today - datetime.timedelta(days=5),
                diagnosis_pointers=[1],
            )
        ]
    )
    old = billing.claim(
        lines=[
            LineInput(
                procedure_code="99214",
                charge=Decimal("185.00"),
                service_date_from=today - datetime.timedelta(days=40),
                diagnosis_pointers=[1],
            )
        ]
    )
    Claim.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=12))
    rejected(billing)  # not a draft: not listed
    client = login(biller)
    with django_assert_num_queries(DRAFTS_PAGE_QUERIES):
        response = client.get("/claims/queues/drafts/")
    rows = response.context["page"].object_list
    assert [(c.pk, c.lag_days, c.entered_days) for c in rows] == [(old.pk, 40, 12), (clean.pk, 5, 0)]
    assert 'href="/claims/queues/drafts/"' in _text(client.get("/claims/queues/rejected/"))
    assert persona(Role.COLLECTIONS).get("/claims/queues/drafts/").status_code == 403


def test_the_nightly_scrub_scrubs_every_draft_and_moves_clean_ones_to_ready(billing):
    clean = billing.claim()
    stopped = billing.claim(
        lines=[LineInput(procedure_code="20610", charge=Decimal("250.00"), service_date_from=DOS)]
    )
    submitted_claim = rejected(
        billing, dos=DOS - datetime.timedelta(days=10)
    )  # no duplicate of the clean one
    assert Claim.objects.filter(scrubbed_at__isnull=False).count() == 0
    assert scrub_drafts() == {"clean": 1, "warnings": 0, "errors": 1}
    statuses = dict(Claim.objects.values_list("pk", "status"))
    assert statuses == {clean.pk: "ready", stopped.pk: "draft", submitted_claim.pk: "rejected"}
    assert app.conf.beat_schedule["claims-scrub-drafts-nightly"]["task"] == "claims.scrub_drafts"


def test_bulk_assignment_refuses_to_overwrite_a_claim_taken_since_the_list_was_shown(
    billing, biller, admin_user
):
    one, two = rejected(billing), rejected(billing)
    client = login(biller)
    html = _text(client.get("/claims/queues/rejected/"))
    assert f'<input type="hidden" name="seen" value="{one.pk}:">' in html
    Claim.objects.filter(pk=two.pk).update(assigned_to=admin_user)  # taken meanwhile
    response = client.post(
        "/claims/queues/assign/",
        {"claim": [one.pk, two.pk], "seen": [f"{one.pk}:", f"{two.pk}:"], "assignee": biller.pk},
        follow=True,
    )
    name = admin_user.get_full_name() or admin_user.username
    assert f"Claim {two.patient_control_number} is now assigned to {name}; nothing was changed." in _text(
        response
    )
    assert dict(Claim.objects.values_list("pk", "assigned_to")) == {one.pk: None, two.pk: admin_user.pk}
