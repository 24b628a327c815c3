"""The home page: what each role sees first after signing in, real numbers from the models, nothing invented.

Every panel is one query (aggregates, or a short ordered list with its joins), so a landing page
costs the same number of queries with ten claims or ten million.
"""

import datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import render
from django.utils import timezone

from claims.models import ZERO
from claims.selectors import (
    ar_aging,
    claim_status_counts,
    claims_needing_work,
    ledger_totals,
    patient_ar_totals,
    patient_balances,
)
from rcm.models import AuditEvent, Membership, Payer, PayerContract, Practice, Provider
from rcm.roles import Role
from rcm.tenancy import scoped

RECENT_DAYS = 30
TOP_PATIENTS = 20
NEEDS_WORK = 15
RECENT_AUDIT = 15


def _team(practice):
    return list(
        Membership.objects.filter(practice=practice, is_active=True).select_related("user").order_by("role")
    )


def _status_summary(practice) -> dict:
    rows = claim_status_counts(practice)
    by_status = {row["status"]: row for row in rows}
    return {
        "status_counts": rows,
        "claims_total": sum(row["count"] for row in rows),
        "claims_balance": sum((row["balance"] for row in rows), ZERO),
        "by_status": by_status,
    }


def _biller(practice, today) -> dict:
    needing_work = list(claims_needing_work(practice, limit=NEEDS_WORK))
    return {**_status_summary(practice), "needing_work": needing_work}


def _collections(practice, today) -> dict:
    return {
        "top_patients": list(patient_balances(practice)[:TOP_PATIENTS]),
        "patient_ar": patient_ar_totals(practice),
        "aging": ar_aging(practice, today=today),
    }


def _manager(practice, today) -> dict:
    since = today - datetime.timedelta(days=RECENT_DAYS - 1)
    aging = ar_aging(practice, today=today)
    largest = max((bucket["total"] for bucket in aging["buckets"]), default=0)
    for bucket in aging["buckets"]:
        # Bar length relative to the largest bucket, so the chart uses the whole width.
        bucket["bar"] = int(bucket["total"] * 100 / largest) if largest > 0 else 0
    return {
        **_status_summary(practice),
        "aging": aging,
        "recent": ledger_totals(practice, since=since, until=today),
        "recent_since": since,
        "recent_days": RECENT_DAYS,
    }


def _count(model, **filters):
    return Coalesce(
        Subquery(
            model.objects.filter(practice=OuterRef("pk"), **filters)
            .values("practice")
            .annotate(n=Count("pk"))
            .values("n")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def _admin(practice, today) -> dict:
    counts = (
        Practice.objects.filter(pk=practice.pk)
        .annotate(
            providers=_count(Provider, is_active=True),
            payers=_count(Payer, is_active=True),
            contracts=_count(PayerContract),
            active_contracts=Coalesce(
                Subquery(
                    PayerContract.objects.filter(practice=OuterRef("pk"), effective_date__lte=today)
                    .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
                    .values("practice")
                    .annotate(n=Count("pk"))
                    .values("n")[:1],
                    output_field=IntegerField(),
                ),
                Value(0),
            ),
            members=_count(Membership, is_active=True, user__is_active=True),
        )
        .values("providers", "payers", "contracts", "active_contracts", "members")
        .get()
    )
    recent_audit = list(scoped(AuditEvent, practice).order_by("-at", "-id")[:RECENT_AUDIT])
    return {"counts": counts, "recent_audit": recent_audit}


BUILDERS = {
    Role.BILLER: _biller,
    Role.COLLECTIONS: _collections,
    Role.MANAGER: _manager,
    Role.ADMIN: _admin,
}


def for_role(role: str, *, practice, user) -> dict:
    today = timezone.localdate()
    recent = list(AuditEvent.objects.filter(practice=practice, user=user).order_by("-at", "-id")[:10])
    context = {"team": _team(practice), "my_recent_activity": recent, "today": today}
    builder = BUILDERS.get(role)
    if builder is not None:
        context.update(builder(practice, today))
    return context


@login_required
def home(request):
    if request.practice is None:
        raise PermissionDenied(
            "You are not a member of any active practice. Ask an administrator to add you."
        )
    context = for_role(request.role, practice=request.practice, user=request.user)
    return render(request, f"rcm/home_{request.role}.html", context)
