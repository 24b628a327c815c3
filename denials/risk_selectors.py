"""Reads for the denial risk: the remittance history it learns from, the claims it scores, the stored
risks and the backtest. Set-based: one query per table whatever the number of rows."""

import datetime

import pandas as pd
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from claims.models import Claim, ClaimLine, ClaimStatus
from denials.models import Denial, DenialRisk
from denials.risk import (
    OUTCOME_COLUMNS,
    WINDOW_DAYS,
    Backtest,
    LineFeatures,
    backtest,
    diagnosis_group,
    empty_outcomes,
    modifiers_key,
)
from rcm.models import Payer

# CLP02 values that are a payer's decision on the services (processed as primary, secondary or tertiary,
# denied, forwarded, not our claim); 22, a reversal of an earlier payment, is not one.
DECISIONS = ("1", "2", "3", "4", "19", "20", "21", "23")


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def risk_outcomes(practice, *, start: datetime.date, end: datetime.date) -> pd.DataFrame:
    """One row per claim line per adjudication received from ``start`` to the day before ``end``: the
    payer's posted decisions (not reversed since, not reversals themselves), with whether the line was denied
    (a line denial, or a claim-level one) and the denial's CARC. Two queries."""
    since, until = _start_of(start), _start_of(end)
    rows = list(
        ClaimLine.objects.filter(
            practice=practice,
            removed=False,
            claim__payer__isnull=False,
            claim__remittance_claims__posted=True,
            claim__remittance_claims__reversed_by__isnull=True,
            claim__remittance_claims__status_code__in=DECISIONS,
            claim__remittance_claims__remittance__received_at__gte=since,
            claim__remittance_claims__remittance__received_at__lt=until,
        )
        .values_list(
            "id",
            "claim_id",
            "line_number",
            "procedure_code",
            "modifiers",
            "diagnosis_pointers",
            "claim__diagnosis_codes",
            "claim__payer_id",
            "claim__remittance_claims__id",
            "claim__remittance_claims__remittance__received_at",
        )
        .order_by()
    )
    if not rows:
        return empty_outcomes().assign(claim_id=[], line_number=[], remittance_claim_id=[], adjudicated_at=[])
    denials = Denial.objects.filter(
        practice=practice,
        remittance_claim__remittance__received_at__gte=since,
        remittance_claim__remittance__received_at__lt=until,
    ).values_list("remittance_claim_id", "line_id", "reason_code")
    line_carc: dict[tuple[int, int], str] = {}
    claim_carc: dict[int, str] = {}
    for remittance_claim_id, line_id, carc in denials.order_by("id"):
        if line_id is None:
            claim_carc.setdefault(remittance_claim_id, carc)
        else:
            line_carc.setdefault((remittance_claim_id, line_id), carc)
    frame = pd.DataFrame(
        {
            "claim_id": [r[1] for r in rows],
            "line_number": [r[2] for r in rows],
            "payer_id": [r[7] for r in rows],
            "procedure_code": [r[3] for r in rows],
            "modifiers": [modifiers_key(r[4]) for r in rows],
            "diagnosis_group": [diagnosis_group(r[6], r[5]) for r in rows],
            "remittance_claim_id": [r[8] for r in rows],
            "adjudicated_at": pd.to_datetime([r[9] for r in rows], utc=True),
            "carc": [line_carc.get((r[8], r[0])) or claim_carc.get(r[8]) or "" for r in rows],
        }
    )
    frame["adjudicated_on"] = frame["adjudicated_at"].dt.tz_convert(settings.TIME_ZONE).dt.date
    frame["denied"] = frame["carc"] != ""
    return frame[[*OUTCOME_COLUMNS, "claim_id", "line_number", "remittance_claim_id", "adjudicated_at"]]


def ready_claim_lines(practice) -> dict[int, list[LineFeatures]]:
    """The lines of the practice's claims ready to submit to a payer, by claim id (one query)."""
    lines: dict[int, list[LineFeatures]] = {}
    rows = (
        ClaimLine.objects.filter(
            practice=practice, removed=False, claim__status=ClaimStatus.READY, claim__payer__isnull=False
        )
        .values_list(
            "claim_id",
            "line_number",
            "procedure_code",
            "modifiers",
            "diagnosis_pointers",
            "claim__diagnosis_codes",
            "claim__payer_id",
        )
        .order_by("claim_id", "line_number")
    )
    for claim_id, number, code, modifiers, pointers, codes, payer_id in rows:
        lines.setdefault(claim_id, []).append(
            LineFeatures(
                line_number=number,
                payer_id=payer_id,
                procedure_code=code,
                modifiers=modifiers_key(modifiers),
                diagnosis_group=diagnosis_group(codes, pointers),
            )
        )
    return lines


def payer_names(practice) -> dict[int, str]:
    return dict(Payer.objects.filter(practice=practice).values_list("pk", "name"))


def claims_submitted(practice, *, start: datetime.date, end: datetime.date) -> dict[int, datetime.date]:
    """Claim id → the local day it was first submitted, for claims first submitted from ``start`` to the
    day before ``end``."""
    rows = Claim.objects.filter(
        practice=practice,
        payer__isnull=False,
        first_submitted_at__range=(_start_of(start), _start_of(end) - datetime.timedelta(microseconds=1)),
    ).values_list("pk", "first_submitted_at")
    return {pk: timezone.localdate(at) for pk, at in rows}


def claim_denial_risk(claim) -> DenialRisk | None:
    """The stored denial risk of a claim, if the nightly run scored it."""
    return DenialRisk.objects.filter(claim_id=claim.pk, practice_id=claim.practice_id).first()


def denial_risks(practice) -> QuerySet[DenialRisk]:
    return DenialRisk.objects.filter(practice=practice).select_related("claim").order_by("-score", "claim_id")


def last_quarter(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The calendar quarter before the one ``today`` is in: (first day, first day of the next)."""
    this_quarter = datetime.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    end = this_quarter
    start_month = this_quarter.month - 3
    start = datetime.date(end.year - (start_month < 1), (start_month - 1) % 12 + 1, 1)
    return start, end


def risk_backtest(
    practice, *, start: datetime.date, end: datetime.date, today: datetime.date, threshold
) -> Backtest:
    """Precision and recall of the denial risk at ``threshold`` on the claims first submitted from ``start``
    to the day before ``end`` and adjudicated before ``today``: each scored by a model trained only on the
    remittances received before the day it was submitted, against whether its first adjudication denied it."""
    outcomes = risk_outcomes(practice, start=start - datetime.timedelta(days=WINDOW_DAYS), end=today)
    submitted = claims_submitted(practice, start=start, end=end)
    mine = outcomes[outcomes["claim_id"].isin(list(submitted))]
    first = mine.sort_values(["adjudicated_at", "remittance_claim_id"]).drop_duplicates("claim_id")
    mine = mine[mine["remittance_claim_id"].isin(set(first["remittance_claim_id"]))]
    claims = []
    for claim_id, rows in mine.sort_values(["claim_id", "line_number"]).groupby("claim_id", sort=True):
        lines = [
            LineFeatures(
                line_number=int(row.line_number),
                payer_id=int(row.payer_id),
                procedure_code=row.procedure_code,
                modifiers=row.modifiers,
                diagnosis_group=row.diagnosis_group,
            )
            for row in rows.itertuples(index=False)
        ]
        claims.append((submitted[claim_id], lines, bool(rows["denied"].any())))
    claims.sort(key=lambda claim: claim[0])
    return backtest(outcomes, claims, payer_names=payer_names(practice), threshold=threshold)
