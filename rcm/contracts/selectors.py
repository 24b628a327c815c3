"""Reads for the payers and contracts pages and API, scoped to a practice."""

import datetime

from django.db.models import Count, QuerySet

from rcm.models import FeeScheduleImport, FeeScheduleRow, Payer, PayerContract
from rcm.pricing import contract_in_force


def payer_list(practice, *, today: datetime.date) -> list[Payer]:
    """The practice's payers, active first, each with ``contract_today`` (the contract in force today, or
    None) and ``contract_count``: two queries."""
    payers = list(
        Payer.objects.filter(practice=practice)
        .annotate(contract_count=Count("contracts"))
        .order_by("-is_active", "name", "pk")
    )
    contracts: dict[int, list[PayerContract]] = {}
    for contract in PayerContract.objects.filter(practice=practice, effective_date__lte=today):
        contracts.setdefault(contract.payer_id, []).append(contract)
    for payer in payers:
        payer.contract_today = contract_in_force(contracts.get(payer.pk, []), today)
    return payers


def payer_contracts(payer: Payer) -> QuerySet[PayerContract]:
    """The payer's contracts, latest first, with their fee row counts."""
    return (
        PayerContract.objects.filter(practice_id=payer.practice_id, payer=payer)
        .select_related("base_contract")
        .annotate(row_count=Count("fee_rows"))
        .order_by("-effective_date", "-pk")
    )


def contract_fee_rows(contract: PayerContract) -> QuerySet[FeeScheduleRow]:
    return FeeScheduleRow.objects.filter(contract=contract).order_by("procedure_code", "modifier", "facility")


def contract_imports(contract: PayerContract) -> QuerySet[FeeScheduleImport]:
    return (
        FeeScheduleImport.objects.filter(contract=contract)
        .select_related("uploaded_by")
        .defer("content")
        .order_by("-uploaded_at", "-pk")
    )


def contract_choices(practice) -> QuerySet[PayerContract]:
    """Contracts that may be a base (priced by their own fee schedule), for the base contract choice."""
    return PayerContract.objects.filter(practice=practice, pricing_method="fee_schedule").select_related(
        "payer"
    )
