"""Two imports of the same ERA at the same moment post once (PostgreSQL), and the reader never
fails in an unexpected way on mutated input (hypothesis)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claims.edi.era import read_835
from claims.edi.intake import x12_import
from claims.edi.reader import X12Error, parse
from claims.models import Remittance, Transaction, X12File
from tests.claims.era_builder import era
from tests.claims.test_acknowledgments import SAMPLES
from tests.claims.test_era_posting import _paid_era, submitted


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_the_same_file_imported_twice_at_once_posts_once(practice):
    from claims.scrubber.ncci import ncci_load_samples
    from tests.claims.conftest import Billing

    ncci_load_samples()
    billing = Billing(practice)
    claim = submitted(billing)
    text = era(trace="EFT-RACE", claims=[_paid_era(claim)])
    barrier = threading.Barrier(2)
    results = []

    def worker():
        try:
            barrier.wait(10)
            results.append(x12_import(practice=practice, file_name="race.835", content=text))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(r.duplicate for r in results) == [False, True]
    assert Remittance.objects.count() == 1
    assert X12File.objects.filter(status="applied").count() == 1
    assert Transaction.objects.filter(claim=claim, kind="insurance_payment").count() == 2
    claim.refresh_from_db()
    assert claim.insurance_paid == Decimal("138.00")


SAMPLE_TEXTS = [
    (SAMPLES / f"835/{name}").read_text()
    for name in ("lfh-managed-care.835", "lfh-secondary-payment.835", "lfh-cob-contractural-adjustment.835")
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sample=st.sampled_from(SAMPLE_TEXTS),
    position=st.integers(min_value=0, max_value=2000),
    cut=st.integers(min_value=0, max_value=40),
    insert=st.text(alphabet="*~:^>0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.- \n", max_size=12),
)
def test_the_reader_refuses_mutated_files_only_with_x12_errors(sample, position, cut, insert):
    position = position % len(sample)
    mutated = sample[:position] + insert + sample[position + cut :]
    try:
        for interchange in parse(mutated):
            for transaction in interchange.transactions():
                if transaction.code == "835":
                    read_835(transaction, interchange.delimiters)
    except X12Error as exc:
        assert str(exc)  # a message a biller can read
