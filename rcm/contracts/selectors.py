"""Reads for the payers and contracts pages and API, scoped to a practice."""

import datetime

from django.db.models import Count, QuerySet

from rcm.models import FeeScheduleImport, FeeScheduleRow, Payer, PayerContract, PricingMethod
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
        .select_related("base_payer")
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


def base_payer_choices(practice, *, exclude_payer_id: int | None = None) -> QuerySet[Payer]:
    """The payers a % of base contract may name as its base: the practice's payers but the contract's own.
    Whether the base payer has a fee schedule contract is judged per date of service when pricing."""
    payers = Payer.objects.filter(practice=practice).order_by("name", "pk")
    return payers if exclude_payer_id is None else payers.exclude(pk=exclude_payer_id)


def contract_base_warning(contract: PayerContract) -> str:
    """Why a % of base contract prices nothing, when its base payer has no contract priced by a fee schedule
    (one query, only for such a contract); empty otherwise. Dates are judged per line when pricing."""
    if contract.pricing_method != PricingMethod.PERCENT_OF_BASE or contract.base_payer_id is None:
        return ""
    has_schedule = PayerContract.objects.filter(
        practice_id=contract.practice_id,
        payer_id=contract.base_payer_id,
        pricing_method=PricingMethod.FEE_SCHEDULE,
    ).exists()
    if has_schedule:
        return ""
    return (
        f"{contract.base_payer.name} has no contract priced by a fee schedule: every line of this contract "
        f"is unknown until {contract.base_payer.name}'s schedule is loaded into a fee schedule contract."
    )
