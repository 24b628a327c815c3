import itertools

import pytest

from claims.models import Claim, ClaimStatus, ClaimStatusChange
from claims.state_machine import TRANSITIONS, IllegalTransition, claim_transition
from tests.claims.factories import make_claim

ALL = [s.value for s in ClaimStatus]

# The life cycle of DESIGN.md, written out independently of the table under test.
EXPECTED_ALLOWED = {
    ("draft", "ready"),
    ("draft", "voided"),
    ("ready", "draft"),
    ("ready", "submitted"),
    ("ready", "voided"),
    ("submitted", "accepted"),
    ("submitted", "rejected"),
    ("submitted", "paid"),
    ("submitted", "partially_paid"),
    ("submitted", "denied"),
    ("submitted", "forwarded"),
    ("submitted", "voided"),
    ("accepted", "rejected"),
    ("accepted", "paid"),
    ("accepted", "partially_paid"),
    ("accepted", "denied"),
    ("accepted", "forwarded"),
    ("accepted", "voided"),
    ("rejected", "corrected"),
    ("rejected", "voided"),
    ("corrected", "ready"),
    ("corrected", "voided"),
    ("paid", "accepted"),
    ("paid", "corrected"),
    ("partially_paid", "paid"),
    ("partially_paid", "forwarded"),
    ("partially_paid", "appealed"),
    ("partially_paid", "corrected"),
    ("partially_paid", "written_off"),
    ("partially_paid", "accepted"),
    ("denied", "appealed"),
    ("denied", "corrected"),
    ("denied", "written_off"),
    ("denied", "paid"),
    ("denied", "partially_paid"),
    ("denied", "accepted"),
    ("denied", "voided"),
    ("forwarded", "paid"),
    ("forwarded", "partially_paid"),
    ("forwarded", "denied"),
    ("forwarded", "accepted"),
    ("forwarded", "ready"),
    ("appealed", "paid"),
    ("appealed", "partially_paid"),
    ("appealed", "denied"),
    ("appealed", "written_off"),
    # The patient-billed path: self-pay claims, and balances left to the patient after insurance.
    ("draft", "patient_billed"),
    ("ready", "patient_billed"),
    ("paid", "patient_billed"),
    ("partially_paid", "patient_billed"),
    ("denied", "patient_billed"),
    ("patient_billed", "paid"),
    ("patient_billed", "written_off"),
    ("patient_billed", "accepted"),
    ("patient_billed", "corrected"),
    ("patient_billed", "voided"),
}


def test_the_table_is_the_documented_life_cycle():
    table = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert table == EXPECTED_ALLOWED
    assert set(TRANSITIONS) == set(ALL)


@pytest.mark.parametrize("from_status", ALL)
def test_every_move_from_a_status_is_allowed_or_refused_as_the_table_says(practice, biller, from_status):
    claim = make_claim(practice)
    for to_status in ALL:
        Claim.objects.filter(pk=claim.pk).update(status=from_status)  # test set-up only
        claim.refresh_from_db()
        history_before = ClaimStatusChange.objects.filter(claim=claim).count()
        if (from_status, to_status) in EXPECTED_ALLOWED:
            claim_transition(claim=claim, to_status=to_status, user=biller, reason="matrix")
            claim.refresh_from_db()
            assert claim.status == to_status
            change = ClaimStatusChange.objects.filter(claim=claim).latest("id")
            assert (change.from_status, change.to_status, change.by, change.reason) == (
                from_status,
                to_status,
                biller,
                "matrix",
            )
        else:
            with pytest.raises(IllegalTransition) as caught:
                claim_transition(claim=claim, to_status=to_status, user=biller)
            assert claim.patient_control_number in caught.value.messages[0]
            assert "cannot become" in caught.value.messages[0]
            claim.refresh_from_db()
            assert claim.status == from_status
            assert ClaimStatusChange.objects.filter(claim=claim).count() == history_before


def test_refusal_message_lists_what_is_allowed(practice):
    claim = make_claim(practice)
    with pytest.raises(IllegalTransition) as caught:
        claim_transition(claim=claim, to_status="paid")
    assert caught.value.messages[0] == (
        f"Claim {claim.patient_control_number} is draft and cannot become paid. "
        "From draft it can become: billed to patient, ready to submit, voided."
    )


def test_unknown_status_is_refused(practice):
    claim = make_claim(practice)
    with pytest.raises(IllegalTransition, match="cannot become 'teleported'"):
        claim_transition(claim=claim, to_status="teleported")


def test_submission_and_adjudication_dates_are_stamped(practice, biller):
    import datetime

    from django.utils import timezone

    claim = make_claim(practice)
    t1 = timezone.make_aware(datetime.datetime(2026, 3, 3, 9, 0))
    t2 = timezone.make_aware(datetime.datetime(2026, 3, 20, 9, 0))
    t3 = timezone.make_aware(datetime.datetime(2026, 4, 10, 9, 0))
    for status, at in [
        ("ready", t1),
        ("submitted", t1),
        ("rejected", t2),
        ("corrected", t2),
        ("ready", t2),
        ("submitted", t2),
        ("paid", t3),
    ]:
        claim_transition(claim=claim, to_status=status, user=biller, at=at)
    claim.refresh_from_db()
    assert claim.first_submitted_at == t1
    assert claim.last_submitted_at == t2
    assert claim.adjudicated_at == t3
    assert [(c.from_status, c.to_status) for c in claim.status_history.all()] == [
        ("draft", "ready"),
        ("ready", "submitted"),
        ("submitted", "rejected"),
        ("rejected", "corrected"),
        ("corrected", "ready"),
        ("ready", "submitted"),
        ("submitted", "paid"),
    ]


def test_closed_statuses_lead_nowhere():
    for status in ("written_off", "voided"):
        assert TRANSITIONS[status] == frozenset()
    assert all(a != b for a, b in itertools.chain(EXPECTED_ALLOWED))


@pytest.mark.parametrize("many", [False, True], ids=["one claim", "claim_transition_many"])
def test_the_first_adjudication_is_recorded_once(practice, biller, many):
    """Denied, appealed, then paid: the claim keeps its first adjudication (the day and "denied") for the
    initial denial KPIs, while ``adjudicated_at`` follows the latest."""
    import datetime

    from django.utils import timezone

    from claims.state_machine import claim_transition_many

    claim = make_claim(practice)
    days = [timezone.make_aware(datetime.datetime(2026, 5, day, 9, 0)) for day in (1, 12, 20, 30)]
    moves = [("ready", days[0]), ("submitted", days[0]), ("denied", days[1]), ("appealed", days[2])]
    for status, at in moves:
        claim_transition(claim=claim, to_status=status, user=biller, at=at)
    assert (claim.first_adjudicated_at, claim.first_adjudication_status) == (days[1], "denied")
    if many:
        claim_transition_many(claim_ids=[claim.pk], to_status="paid", user=biller, at=days[3])
    else:
        claim_transition(claim=claim, to_status="paid", user=biller, at=days[3])
    claim.refresh_from_db()
    assert claim.adjudicated_at == days[3]
    assert (claim.first_adjudicated_at, claim.first_adjudication_status) == (days[1], "denied")
    untouched = make_claim(practice)
    assert (untouched.first_adjudicated_at, untouched.first_adjudication_status) == (None, "")


def test_claim_transition_many_records_each_claims_first_adjudication(practice, biller):
    import datetime

    from django.utils import timezone

    from claims.state_machine import claim_transition_many

    first, second = make_claim(practice), make_claim(practice)
    t1 = timezone.make_aware(datetime.datetime(2026, 6, 1, 9, 0))
    t2 = timezone.make_aware(datetime.datetime(2026, 6, 9, 9, 0))
    for claim in (first, second):
        claim_transition(claim=claim, to_status="ready", user=biller, at=t1)
        claim_transition(claim=claim, to_status="submitted", user=biller, at=t1)
    claim_transition(claim=first, to_status="forwarded", user=biller, at=t1)
    claim_transition_many(claim_ids=[second.pk], to_status="partially_paid", user=biller, at=t2)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.first_adjudicated_at, first.first_adjudication_status) == (t1, "forwarded")
    assert (second.first_adjudicated_at, second.first_adjudication_status) == (t2, "partially_paid")
