"""Property tests: whatever sequence of postings and reversals happens on a claim, the cached balances
equal what the ledger rows say, the line identity holds, and a reversal restores the prior balances."""

import datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from claims.ledger import EFFECTS, Entry, derived_balances, ledger_check, ledger_post, transaction_reverse
from claims.models import Balances, ClaimLine, Transaction
from claims.services import LineInput
from tests.claims.factories import make_claim
from tests.rcm.factories import PracticeFactory

POSTINGS = sorted(EFFECTS)  # every (kind, party) the ledger knows

posting = st.tuples(
    st.just("post"),
    st.sampled_from(POSTINGS),
    st.integers(min_value=0, max_value=2),  # which line
    st.integers(min_value=1, max_value=50_000),  # cents
)
reversal = st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=10_000))
operations = st.lists(st.one_of(posting, posting, reversal), min_size=1, max_size=25)


def _identity_holds(row) -> bool:
    return row.charge_total == (
        row.insurance_paid
        + row.patient_paid
        + row.adjustments
        + row.write_offs
        + row.insurance_balance
        + row.patient_balance
    )


def _buckets(row) -> dict:
    return {bucket: getattr(row, bucket) for bucket in Balances.BUCKETS}


class LedgerPropertyTests(TestCase):
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(ops=operations)
    def test_balances_follow_the_ledger_and_reversals_restore(self, ops):
        practice = PracticeFactory()
        claim = make_claim(
            practice,
            lines=[
                LineInput(
                    procedure_code=code, charge=Decimal(charge), service_date_from=datetime.date(2026, 2, 2)
                )
                for code, charge in (("99214", "210.00"), ("36415", "18.00"), ("85025", "42.50"))
            ],
        )
        lines = list(ClaimLine.objects.filter(claim=claim).order_by("line_number"))
        for op in ops:
            if op[0] == "post":
                _, (kind, party), line_index, cents = op
                line = lines[line_index]
                before = _buckets(ClaimLine.objects.get(pk=line.pk))
                (txn,) = ledger_post(
                    claim=claim,
                    source="user",
                    entries=[Entry(line=line, kind=kind, party=party, amount=Decimal(cents) / 100)],
                )
                after = ClaimLine.objects.get(pk=line.pk)
                for bucket, sign in EFFECTS[(kind, party)].items():
                    assert getattr(after, bucket) - before[bucket] == sign * txn.amount
            else:
                candidates = list(
                    Transaction.objects.filter(claim=claim, reversed_by__isnull=True)
                    .exclude(kind="reversal")
                    .order_by("id")
                )
                if not candidates:
                    continue
                original = candidates[op[1] % len(candidates)]
                line_before = ClaimLine.objects.get(pk=original.line_id)
                transaction_reverse(original=original, note="property test")
                line_after = ClaimLine.objects.get(pk=original.line_id)
                for bucket, sign in EFFECTS[(original.kind, original.party)].items():
                    assert (
                        getattr(line_after, bucket) == getattr(line_before, bucket) - sign * original.amount
                    )
                # Without the original and its reversal, the ledger gives exactly these balances.
                remaining = list(
                    Transaction.objects.filter(line_id=original.line_id)
                    .exclude(pk=original.pk)
                    .exclude(reverses=original)
                    .select_related("reverses")
                )
                assert derived_balances(remaining) == _buckets(line_after)

            assert ledger_check(claim_ids=[claim.pk]) == []
            for row in ClaimLine.objects.filter(claim=claim):
                assert _identity_holds(row)
            claim.refresh_from_db()
            assert _identity_holds(claim)

    @settings(max_examples=30, deadline=None)
    @given(cents=st.lists(st.integers(min_value=1, max_value=99_999), min_size=1, max_size=6))
    def test_post_then_reverse_returns_exactly_to_the_start(self, cents):
        practice = PracticeFactory()
        claim = make_claim(practice)
        line = claim.lines.get()
        start = _buckets(ClaimLine.objects.get(pk=line.pk))
        posted = ledger_post(
            claim=claim,
            source="remittance",
            entries=[Entry(line=line, kind="insurance_payment", amount=Decimal(c) / 100) for c in cents],
        )
        for txn in reversed(posted):
            transaction_reverse(original=txn)
        assert _buckets(ClaimLine.objects.get(pk=line.pk)) == start
        assert ledger_check(claim_ids=[claim.pk]) == []
