"""Property test: whatever the postings, reversals and their dates, the snapshots equal a direct
computation from the ledger: payments and charges over any range (``claims.selectors.ledger_totals``),
open A/R and credit balances from the claims' cached balances, and the dimensions add up to the practice."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from claims.ledger import EFFECTS, Entry, ledger_post, transaction_reverse
from claims.models import Claim, Transaction, TransactionKind
from claims.selectors import ledger_totals
from kpis.definitions import DEFINITIONS, STOCK
from kpis.measures import stock_claims
from kpis.models import KpiSnapshot
from kpis.selectors import kpi_claims, kpi_values
from kpis.services import kpi_snapshots_compute
from tests.kpis.dataset import PracticeBuilder
from tests.rcm.factories import PracticeFactory

START = datetime.date(2026, 3, 1)
DAYS = 20
END = START + datetime.timedelta(days=DAYS - 1)
POSTINGS = sorted(key for key in EFFECTS if key[0] != TransactionKind.CHARGE)

posting = st.tuples(
    st.just("post"),
    st.sampled_from(POSTINGS),
    st.integers(min_value=0, max_value=2),  # which claim
    st.integers(min_value=1, max_value=40_000),  # cents
    st.integers(min_value=0, max_value=DAYS - 1),  # effective day
)
reversal = st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=1000), st.integers(0, DAYS - 1))
operations = st.lists(st.one_of(posting, posting, reversal), min_size=1, max_size=20)


def _cent(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class SnapshotsEqualTheLedger(TestCase):
    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(operations=operations, split=st.integers(min_value=0, max_value=DAYS - 1))
    def test_snapshots_equal_a_direct_computation_from_the_ledger(self, operations, split):
        practice = PracticeFactory()
        data = PracticeBuilder(practice)
        claims = [
            data.claim("300.00", "2026-02-20", "2026-02-21", data.acme),
            data.claim("150.00", "2026-03-01", "2026-03-01", data.beta),
            data.claim("90.00", "2026-03-02", "2026-03-02", None),
        ]
        for operation in operations:
            if operation[0] == "post":
                _, (kind, party), which, cents, day = operation
                claim = claims[which]
                ledger_post(
                    claim=claim,
                    entries=[
                        Entry(
                            line=claim.lines.get(),
                            kind=kind,
                            party=party,
                            amount=Decimal(cents) / 100,
                            effective_date=START + datetime.timedelta(days=day),
                        )
                    ],
                    source="user",
                )
            else:
                _, pick, day = operation
                open_ = list(
                    Transaction.objects.filter(practice=practice, reversed_by__isnull=True)
                    .exclude(kind__in=[TransactionKind.REVERSAL, TransactionKind.CHARGE])
                    .order_by("pk")
                )
                if open_:
                    transaction_reverse(
                        original=open_[pick % len(open_)], effective_date=START + datetime.timedelta(days=day)
                    )

        kpi_snapshots_compute(practice=practice, start=START, end=END)

        middle = START + datetime.timedelta(days=split)
        for since, until in ((START, END), (START, middle), (middle, END)):
            values = kpi_values(practice, start=since, end=until)
            direct = ledger_totals(practice, since=since, until=until)
            # ledger_totals sums in SQLite's floating point (0.00999999999999091 for 0.01): to the cent.
            assert values["gross_collection_rate"].numerator == _cent(direct["payments"])
            assert values["gross_collection_rate"].denominator == _cent(direct["charges"])

        balances = [claim.balance for claim in Claim.objects.filter(practice=practice)]
        values = kpi_values(practice, start=START, end=END)
        assert values["ar_total"].value == sum((b for b in balances if b > 0), Decimal("0.00"))
        assert values["credit_balances"].value == sum((-b for b in balances if b < 0), Decimal("0.00"))
        by_payer = KpiSnapshot.objects.filter(practice=practice, day=END, kpi="ar_total", dimension="payer")
        assert sum((row.numerator for row in by_payer), Decimal("0.00")) == values["ar_total"].value
        # The claims behind each stock KPI on the last day, read from the balances stored with the
        # snapshots, are those the ledger gives, adding up to the snapshot's number.
        for slug in [d.slug for d in DEFINITIONS if d.kind == STOCK and d.computed]:
            drilldown = kpi_claims(practice, slug, start=START, end=END, part="numerator")
            assert drilldown.amounts is None, slug  # the stored path
            listed = {claim.pk: claim.counts_for for claim in drilldown.label(drilldown.claims)}
            assert listed == stock_claims(practice, slug, END), slug
            assert (drilldown.count, drilldown.total) == (len(listed), sum(listed.values(), Decimal("0.00")))
