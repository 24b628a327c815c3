"""Reads of reminders: the practice's reminder log and a patient's messages (the account's "sent" list)."""

from django.db.models import QuerySet

from payment_plans.models import PlanStatus, Reminder, ReminderStatus
from payment_plans.selectors import SentItem
from rcm.models import Patient
from rcm.tenancy import scoped


def reminder_log(practice, *, status: str | None = None, kind: str | None = None) -> QuerySet[Reminder]:
    rows = scoped(Reminder, practice).select_related("patient")
    if status:
        rows = rows.filter(status=status)
    if kind:
        rows = rows.filter(kind=kind)
    return rows.order_by("-created_at", "-id")


def patients_without_time_zone(practice, *, limit: int = 50) -> list:
    """Patients with an open plan and no time zone: the daily job holds their reminders (it cannot tell
    whether it is 8am-9pm for them); someone must fill the time zone in."""
    return list(
        Patient.objects.filter(
            practice=practice,
            time_zone="",
            payment_plans__status__in=(PlanStatus.ACTIVE, PlanStatus.DELINQUENT),
        )
        .distinct()
        .order_by("last_name", "first_name", "id")[:limit]
    )


def reminders_for_patient(patient) -> QuerySet[Reminder]:
    return Reminder.objects.filter(patient=patient).order_by("-created_at", "-id")


def reminder_sent_items(patient) -> list[SentItem]:
    """The patient account's hook (``payment_plans.selectors.ACCOUNT_MESSAGE_SOURCES``): reminders sent."""
    return [
        SentItem(
            at=row.sent_at or row.created_at,
            kind=f"Reminder: {row.get_kind_display().lower()}",
            channel=row.get_channel_display(),
            summary=row.body.partition("\n\n")[0] if row.channel == "email" else row.body[:80],
        )
        for row in reminders_for_patient(patient).filter(
            status__in=(ReminderStatus.SENT, ReminderStatus.SENDING)
        )
    ]
