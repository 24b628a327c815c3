"""The reminder log: every message sent, waiting or failed, newest first (``collections.view``)."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from payment_plans.models import ReminderKind, ReminderStatus
from payment_plans.reminders.selectors import patients_without_time_zone, reminder_log
from rcm.permissions import role_required

PAGE_SIZE = 50


@role_required("collections.view")
@never_cache
def reminders(request):
    status = request.GET.get("status", "")
    status = status if status in ReminderStatus.values else ""
    kind = request.GET.get("kind", "")
    kind = kind if kind in ReminderKind.values else ""
    rows = reminder_log(request.practice, status=status or None, kind=kind or None)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "payment_plans/reminder_log.html",
        {
            "page": page,
            "status": status,
            "kind": kind,
            "statuses": ReminderStatus.choices,
            "kinds": ReminderKind.choices,
            "held": patients_without_time_zone(request.practice),
        },
    )
