"""Data for the process smoke test (scripts/smoke.py): a practice, a biller who signs in, two accepted
claims, and an 835 paying each, written to the folder given. Prints the ids as JSON. Run through
``manage.py shell`` against the smoke database (as the app's role: only rows are written)."""

import json
import os
import pathlib

from rcm.models import Membership
from rcm.roles import Role
from tests.claims.conftest import Billing
from tests.claims.era_builder import era
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
print(json.dumps({"claims": [claim.pk for claim in claims]}))
