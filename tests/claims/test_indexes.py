"""The partial indexes the hot pages rely on match the filters of their selectors: a filter that drifts
from its index's condition silently falls back to reading every claim of the practice."""

from django.db.models import Q

from claims.models import Claim, ScrubStatus
from claims.selectors import NEEDS_WORK_STATUSES


def _index(name):
    return next(index for index in Claim._meta.indexes if index.name == name)


def test_the_needs_work_index_covers_exactly_the_landing_statuses():
    assert _index("claim_needs_work").condition == Q(status__in=[str(s) for s in NEEDS_WORK_STATUSES])


def test_the_queue_indexes_match_the_queue_filters():
    assert _index("claim_scrub_errors").condition == Q(scrub_status=ScrubStatus.ERRORS)
    assert _index("claim_underpaid").condition == Q(underpaid_amount__gt=0)
