import datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from rcm.append_only import AppendOnlyError
from rcm.models import ConsentEvent
from rcm.services import consent_record, consents_current
from tests.rcm.factories import PatientFactory


def at(day):
    return timezone.make_aware(datetime.datetime(2026, 1, day, 10, 0))


def test_latest_event_per_channel_is_in_force_and_no_event_means_no_consent(practice, biller):
    patient = PatientFactory(practice=practice)
    consent_record(patient=patient, channel="sms", granted=True, method="intake form", user=biller, at=at(2))
    consent_record(patient=patient, channel="sms", granted=False, method="STOP reply", at=at(5))
    consent_record(patient=patient, channel="email", granted=True, method="patient portal", at=at(3))
    assert consents_current(patient) == {"email": True, "sms": False, "mail": False, "phone": False}
    withdrawn = ConsentEvent.objects.filter(patient=patient, channel="sms").order_by("-at").first()
    assert (withdrawn.method, withdrawn.recorded_by) == ("STOP reply", None)


def test_consent_history_cannot_be_rewritten(practice):
    event = consent_record(
        patient=PatientFactory(practice=practice), channel="mail", granted=True, method="verbal"
    )
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        ConsentEvent.objects.filter(pk=event.pk).update(granted=False)
    if connection.vendor == "postgresql":
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("UPDATE rcm_consentevent SET granted = false WHERE id = %s", [event.pk])
    event.refresh_from_db()
    assert event.granted is True
