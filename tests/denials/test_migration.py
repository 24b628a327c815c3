"""The workflow migration reads existing denials in the new terms: open → new, resolved → overturned, the
root cause from the reference, unknown codes flagged, remit date and appeal deadline from the contract."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from denials.models import Denial
from tests.denials.conftest import BOTH_PAID, post_era, two_line_claim

BEFORE = [("denials", "0001_denial")]
AFTER = [("denials", "0003_denial_workflow_data")]


@pytest.mark.django_db(transaction=True)
def test_old_denials_are_migrated_to_the_workflow(billing):
    claim = two_line_claim(billing)
    post_era(billing, claim, BOTH_PAID, "1")  # a remittance to hang the old rows on (it denies nothing)
    record = claim.remittance_claims.get()
    line = claim.lines.get(line_number=1)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("denials", "Denial")
    for code, status in (("50", "open"), ("Z99", "resolved")):
        old.objects.create(
            practice_id=claim.practice_id,
            claim_id=claim.pk,
            line_id=line.pk,
            remittance_claim_id=record.pk,
            group_code="CO",
            reason_code=code,
            amount=Decimal("185.00"),
            status=status,
        )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    rows = list(
        Denial.objects.order_by("pk").values_list(
            "reason_code", "status", "category", "owner", "unknown_code", "remit_date", "appeal_deadline"
        )
    )
    remit, deadline = datetime.date(2026, 3, 20), datetime.date(2026, 9, 16)
    assert rows == [
        ("50", "new", "medical_necessity", "provider", False, remit, deadline),
        ("Z99", "overturned", "other", "billing", True, remit, deadline),
    ]
