"""The base payer migration: a % of base contract that named one contract of the base payer now names that
payer (0008 adds ``base_payer``, 0009 copies ``base_contract.payer`` into it, 0010 drops
``base_contract``), and back again."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from rcm.models import PayerContract, PricingMethod
from tests.rcm.factories import PayerFactory

BEFORE = [("rcm", "0007_signin_policy_and_hashed_api_tokens")]


def _contract(payer, name, effective, **terms):
    return PayerContract.objects.create(
        practice=payer.practice, payer=payer, name=name, effective_date=effective, **terms
    )


@pytest.mark.django_db(transaction=True)
def test_the_base_contract_s_payer_becomes_the_base_payer(practice):
    medicare = PayerFactory(practice=practice, name="Medicare Part B", kind="medicare")
    acme, summit = PayerFactory(practice=practice), PayerFactory(practice=practice)
    medicare_2025 = _contract(
        medicare, "Medicare 2025", datetime.date(2025, 1, 1), end_date=datetime.date(2025, 12, 31)
    )
    medicare_2026 = _contract(medicare, "Medicare 2026", datetime.date(2026, 1, 1))
    percent = {"pricing_method": PricingMethod.PERCENT_OF_BASE, "percent": Decimal("110.00")}
    acme_2026 = _contract(acme, "Acme 2026", datetime.date(2026, 3, 1), base_payer=medicare, **percent)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("rcm", "PayerContract")
    # Backwards, the base is the base payer's fee schedule contract in force on the contract's first day.
    assert old.objects.get(pk=acme_2026.pk).base_contract_id == medicare_2026.pk
    old.objects.create(
        practice_id=practice.pk,
        payer_id=summit.pk,
        name="Summit 2025",
        effective_date=datetime.date(2025, 1, 1),
        base_contract_id=medicare_2025.pk,
        **percent,
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    rows = PayerContract.objects.order_by("pk").values_list("name", "base_payer_id")
    assert list(rows) == [
        ("Medicare 2025", None),
        ("Medicare 2026", None),
        ("Acme 2026", medicare.pk),
        ("Summit 2025", medicare.pk),
    ]
