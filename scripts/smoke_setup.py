"""Data for the process smoke test (scripts/smoke.py): a practice, a biller who signs in, two accepted
claims, and an 835 paying each, written to the folder given; and a patient on a payment plan whose
installment is due in 3 days, with email consent and a time zone where it is now daytime, for beat's reminder
run to write to. Prints the ids as JSON. Run through ``manage.py shell`` against the smoke database (as the
app's role: only rows are written)."""

import datetime
import json
import os
import pathlib
import zoneinfo
from decimal import Decimal

from django.utils import timezone

from claims.services import LineInput
from payment_plans.plans.services import plan_create
from rcm.models import Channel, Membership
from rcm.roles import Role
from rcm.services import consent_record, patient_create
from tests.claims.conftest import Billing
from tests.claims.era_builder import era
from tests.claims.factories import make_claim
from tests.claims.test_pages_remittances import accepted_claim, era_payment
from tests.rcm.factories import PracticeFactory, UserFactory

folder = pathlib.Path(os.environ["SMOKE_DIR"])
practice = PracticeFactory(name="Smoke Family Medicine", slug="smoke")
billing = Billing(practice)
user = UserFactory(username="smoke-biller")
user.set_password(os.environ["SMOKE_PASSWORD"])
user.save()
Membership.objects.create(practice=practice, user=user, role=Role.BILLER)
claims = [accepted_claim(billing), accepted_claim(billing)]
for number, claim in enumerate(claims, 1):
    text = era(control=f"00000050{number}", trace=f"SMOKE-EFT-{number}", claims=[era_payment(claim)])
    (folder / f"era-{number}.835").write_text(text)


def daytime_zone(now: datetime.datetime) -> str:
    """A time zone where it is now between 10am and 6pm, well inside the reminders' 8am-9pm window for the
    minutes the smoke runs: a US zone when one fits, else the Etc/GMT zone nearest to 2pm."""
    for name in (
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Los_Angeles",
        "America/Anchorage",
        "Pacific/Honolulu",
        "Europe/London",
        "Asia/Kolkata",
        "Asia/Tokyo",
    ):
        if 10 <= now.astimezone(zoneinfo.ZoneInfo(name)).hour < 18:
            return name
    offset = (14 - now.hour + 12) % 24 - 12  # local = UTC + offset, offset in [-12, 11]
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # Etc/GMT signs are inverted


now = timezone.now()
payer = patient_create(
    practice=practice,
    first_name="Ana",
    last_name="Smoke",
    date_of_birth=datetime.date(1980, 4, 2),
    sex="F",
    address_line1="12 Main St",
    city="Springfield",
    state="IL",
    postal_code="62701",
    email="ana.smoke@example.com",
    time_zone=daytime_zone(now),
)
consent_record(patient=payer, channel=Channel.EMAIL, granted=True, method="written form")
make_claim(
    practice,
    patient=payer,
    self_pay=True,
    lines=[
        LineInput(
            procedure_code="99213", charge=Decimal("600.00"), service_date_from=datetime.date(2026, 3, 2)
        )
    ],
)
# "Today" as the reminder run counts it: the practice's date.
today = now.astimezone(zoneinfo.ZoneInfo(practice.time_zone)).date()
plan = plan_create(
    patient=payer, frequency="monthly", start_date=today + datetime.timedelta(days=3), term=3, today=today
)
installment = plan.installments.get(sequence=1)
print(
    json.dumps(
        {
            "claims": [claim.pk for claim in claims],
            "reminder_key": f"i{installment.pk}:upcoming:{installment.due_date}",
            "reminder_email": payer.email,
            "reminder_time_zone": payer.time_zone,
        }
    )
)
