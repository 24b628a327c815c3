"""Whole-practice aggregates are cached until the practice's claims change, never after."""

import os
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from claims.ledger import Entry, ledger_post
from claims.models import Party, TransactionKind
from claims.selectors import ar_aging, claim_status_counts, patient_ar_totals
from claims.state_machine import claim_transition
from rcm import practice_cache
from rcm.practice_cache import claims_changed, practice_cached


def _count(practice, status):
    return next(row["count"] for row in claim_status_counts(practice) if row["status"] == status)


def _queries(function):
    with CaptureQueriesContext(connection) as captured:
        function()
    return len(captured)


def test_a_second_read_costs_no_query_and_each_kind_of_change_is_seen_at_once(billing, other_practice):
    claim = billing.claim()
    assert _count(billing.practice, "draft") == 1
    assert _queries(lambda: claim_status_counts(billing.practice)) == 0
    # a new claim (charge entry)
    second = billing.claim()
    assert _count(billing.practice, "draft") == 2
    # a status move
    claim_transition(claim=claim, to_status="ready")
    assert (_count(billing.practice, "draft"), _count(billing.practice, "ready")) == (1, 1)
    # a ledger posting moves balances, not statuses
    assert patient_ar_totals(billing.practice)["owed"] == Decimal("0.00")
    line = second.lines.get()
    ledger_post(
        claim=second,
        source="user",
        entries=[
            Entry(
                line=line,
                kind=TransactionKind.TRANSFER_TO_PATIENT,
                amount=Decimal("40.00"),
                party=Party.INSURANCE,
            )
        ],
    )
    assert patient_ar_totals(billing.practice)["owed"] == Decimal("40.00")
    assert ar_aging(billing.practice)["patient"] == Decimal("40.00")
    # another practice's cache is its own
    assert (_count(other_practice, "draft"), _count(billing.practice, "draft")) == (0, 1)
    claims_changed([other_practice.pk])
    assert _queries(lambda: claim_status_counts(billing.practice)) == 0


def test_a_result_computed_before_a_change_is_never_served_after_it(practice):
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert practice_cached(practice, "probe", compute) == 1
    assert practice_cached(practice, "probe", compute) == 1
    claims_changed([practice.pk])
    assert practice_cached(practice, "probe", compute) == 2


@pytest.mark.skipif(
    not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"),
    reason="runs where the suite has Redis (the PostgreSQL + Redis run)",
)
def test_the_redis_cache_shares_versions_between_processes(practice, monkeypatch):
    url = os.environ["CELERY_BROKER_URL"]
    redis = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": f"rcm-cache-test-{os.getpid()}",
    }
    with override_settings(CACHES={"default": redis}):
        shared = caches.create_connection("default")
        monkeypatch.setattr(practice_cache, "cache", shared)
        try:
            assert practice_cached(practice, "probe", lambda: {"n": Decimal("1.50")}) == {
                "n": Decimal("1.50")
            }
            # another process (another cache client) sees the same entry, then the same invalidation
            other = caches.create_connection("default")
            version = other.get(f"practice:{practice.pk}:claims-version")
            assert other.get(f"practice:{practice.pk}:probe:{version}") == {"n": Decimal("1.50")}
            claims_changed([practice.pk])
            assert other.get(f"practice:{practice.pk}:claims-version") != version
            assert practice_cached(practice, "probe", lambda: {"n": Decimal("2.00")}) == {
                "n": Decimal("2.00")
            }
        finally:
            shared.delete_many([f"practice:{practice.pk}:claims-version"])


# --- work queue counts -------------------------------------------------------------------------


def test_queue_counts_are_cached_and_follow_scrubs_contracts_and_payers(billing):
    import datetime

    from claims.queues.selectors import queue_counts
    from claims.scrubber.engine import claims_scrub
    from claims.services import LineInput
    from tests.claims.conftest import DOS

    today = datetime.date(2026, 3, 20)
    draft = billing.claim(
        lines=[LineInput(procedure_code="20610", charge=Decimal("210.00"), service_date_from=DOS)]
    )
    assert queue_counts(billing.practice, today=today)["scrub_errors"] == 0
    assert _queries(lambda: queue_counts(billing.practice, today=today)) == 0
    # the scrubber finds the missing prior authorization: the claim stays a draft, with errors
    claims_scrub(queryset=type(draft).objects.filter(pk=draft.pk), today=today)
    draft.refresh_from_db()
    assert (draft.status, draft.scrub_status) == ("draft", "errors")
    assert queue_counts(billing.practice, today=today)["scrub_errors"] == 1
    # a shorter timely filing limit brings the draft within 30 days of its deadline
    assert queue_counts(billing.practice, today=today)["deadlines"] == 0
    billing.contract.timely_filing_days = 40
    billing.contract.save()
    from claims.queues.selectors import queue_claims

    assert queue_claims(billing.practice, "deadlines", today=today).count() == 1
    assert queue_counts(billing.practice, today=today)["deadlines"] == 1


def test_no_response_counts_whole_days(billing):
    import datetime

    from django.utils import timezone

    from claims.models import Claim
    from claims.queues.selectors import queue_claims, queue_counts

    today = datetime.date(2026, 4, 30)
    billing.payer.no_response_days = 30
    billing.payer.save()
    on_the_day = billing.claim()
    day_after = billing.claim()
    for claim, day, hour in (
        (on_the_day, datetime.date(2026, 3, 31), 23),
        (day_after, datetime.date(2026, 4, 1), 0),
    ):
        for status in ("ready", "submitted"):
            claim_transition(claim=claim, to_status=status)
        at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 30)))
        Claim.objects.filter(pk=claim.pk).update(last_submitted_at=at)
    claims_changed([billing.practice.pk])  # the dates were set behind the services' back
    # 30 days after March 31 is April 30: that claim is due today, whatever the hour; April 1's is not yet.
    assert [c.pk for c in queue_claims(billing.practice, "no_response", today=today)] == [on_the_day.pk]
    assert queue_counts(billing.practice, today=today)["no_response"] == 1
    assert queue_counts(billing.practice, today=today + datetime.timedelta(days=1))["no_response"] == 2


def test_a_data_generator_renews_the_practices_once_at_the_end(billing):
    from rcm.practice_cache import changes_deferred

    assert _count(billing.practice, "draft") == 0
    with changes_deferred():
        billing.claim()
        billing.claim()
        # inside the block the cached counts are not renewed (the generator reads nothing)
        assert _count(billing.practice, "draft") == 0
    assert _count(billing.practice, "draft") == 2


def test_a_cache_that_is_down_slows_pages_but_never_stops_a_posting(billing, monkeypatch, caplog):
    class Down:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise ConnectionError("cache server unreachable")

            return fail

    monkeypatch.setattr(practice_cache, "cache", Down())
    claim = billing.claim()  # charge entry renews the practice: logged, not raised
    claim_transition(claim=claim, to_status="ready")
    assert _count(billing.practice, "ready") == 1  # computed without the cache
    assert "cache unavailable" in caplog.text


def test_a_claim_saved_by_hand_renews_the_counts(billing):
    claim = billing.claim()
    assert _count(billing.practice, "draft") == 1
    claim.status = "ready"  # as an administrator's edit in Django admin would
    claim.save()
    assert (_count(billing.practice, "draft"), _count(billing.practice, "ready")) == (0, 1)
