"""Posted transactions can never be changed or deleted, on SQLite and on PostgreSQL."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction

from claims.ledger import Entry, ledger_check, ledger_post, transaction_reverse
from claims.models import ClaimLine, ClaimStatusChange, Transaction
from claims.state_machine import claim_transition
from rcm.append_only import AppendOnlyError
from tests.claims.factories import make_claim


@pytest.fixture
def posted(practice):
    claim = make_claim(practice)
    (payment,) = ledger_post(
        claim=claim,
        source="remittance",
        entries=[Entry(line=claim.lines.get(), kind="insurance_payment", amount=Decimal("90.00"))],
    )
    return claim, payment


def snapshot():
    return list(Transaction.objects.order_by("id").values_list("id", "kind", "amount", "party"))


def test_model_layer_refuses_update_and_delete(posted):
    _claim, payment = posted
    before = snapshot()
    payment.amount = Decimal("1.00")
    with pytest.raises(AppendOnlyError):
        payment.save()
    with pytest.raises(AppendOnlyError):
        payment.delete()
    with pytest.raises(AppendOnlyError):
        Transaction.objects.filter(pk=payment.pk).update(amount=Decimal("1.00"))
    with pytest.raises(AppendOnlyError):
        Transaction.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        Transaction.objects.bulk_update([payment], ["amount"])
    assert snapshot() == before


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_database_refuses_raw_update_and_delete_on_postgresql(posted):
    claim, payment = posted
    claim_transition(claim=claim, to_status="ready")
    before = snapshot()
    for sql, row_id in (
        ("UPDATE claims_transaction SET amount = 1 WHERE id = %s", payment.pk),
        ("DELETE FROM claims_transaction WHERE id = %s", payment.pk),
        ("UPDATE claims_claimstatuschange SET reason = 'x' WHERE claim_id = %s", claim.pk),
        ("DELETE FROM claims_claimstatuschange WHERE claim_id = %s", claim.pk),
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [row_id])
    assert snapshot() == before
    assert ClaimStatusChange.objects.filter(claim=claim, reason="").count() == 1


def test_status_history_is_append_only(practice):
    claim = make_claim(practice)
    claim_transition(claim=claim, to_status="ready")
    change = ClaimStatusChange.objects.get()
    with pytest.raises(AppendOnlyError):
        change.delete()
    with pytest.raises(AppendOnlyError):
        ClaimStatusChange.objects.update(reason="edited")


def test_a_transaction_can_be_reversed_only_once(posted):
    _claim, payment = posted
    transaction_reverse(original=payment)
    with pytest.raises(ValidationError, match="has already been reversed"):
        transaction_reverse(original=payment)
    assert Transaction.objects.filter(kind="reversal").count() == 1


def test_database_refuses_a_second_reversal_even_past_the_service(posted):
    claim, payment = posted
    transaction_reverse(original=payment)
    with pytest.raises(IntegrityError), transaction.atomic():
        Transaction.objects.create(
            practice=claim.practice,
            claim=claim,
            line=payment.line,
            kind="reversal",
            party="insurance",
            amount=payment.amount,
            effective_date=payment.effective_date,
            source="user",
            reverses=payment,
        )


def test_amounts_must_be_positive_and_kinds_must_fit_the_party(posted):
    claim, _payment = posted
    line = claim.lines.get()
    before = snapshot()
    with pytest.raises(ValidationError, match="greater than zero"):
        ledger_post(
            claim=claim, source="user", entries=[Entry(line=line, kind="write_off", amount=Decimal("-1"))]
        )
    with pytest.raises(ValidationError, match="cannot be posted to the patient side"):
        ledger_post(
            claim=claim,
            source="user",
            entries=[Entry(line=line, kind="contractual_adjustment", party="patient", amount=Decimal("5"))],
        )
    with pytest.raises(TypeError, match="never float"):
        ledger_post(claim=claim, source="user", entries=[Entry(line=line, kind="write_off", amount=5.0)])
    assert snapshot() == before


def test_a_batch_with_one_bad_entry_posts_nothing(posted):
    claim, _payment = posted
    line = claim.lines.get()
    before_rows = snapshot()
    before_line = ClaimLine.objects.values(*["insurance_balance", "insurance_paid"]).get(pk=line.pk)
    with pytest.raises(ValidationError):
        ledger_post(
            claim=claim,
            source="user",
            entries=[
                Entry(line=line, kind="contractual_adjustment", amount=Decimal("10.00")),
                Entry(line=line, kind="write_off", amount=Decimal("0")),
            ],
        )
    assert snapshot() == before_rows
    assert ClaimLine.objects.values("insurance_balance", "insurance_paid").get(pk=line.pk) == before_line


def test_ledger_check_command_finds_and_rebuild_repairs_a_corrupted_cache(posted, capsys):
    from django.core.management.base import CommandError

    claim, _payment = posted
    ClaimLine.objects.filter(claim=claim).update(insurance_balance=Decimal("999.00"))
    assert ledger_check() != []
    with pytest.raises(CommandError, match="balance problems found"):
        call_command("ledger_check")
    call_command("ledger_check", "--rebuild")
    assert "Ledger and cached balances agree." in capsys.readouterr().out
    line = ClaimLine.objects.get(claim=claim)
    assert line.insurance_balance == Decimal("60.00")
