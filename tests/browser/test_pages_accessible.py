"""Every page of each role's main menu, and a claim's and a patient's page, pass axe-core (no serious or
critical violation) with a claim on the books."""

from decimal import Decimal

import pytest

from claims.models import Claim
from claims.scrubber.engine import claims_scrub
from claims.services import LineInput
from claims.state_machine import claim_transition
from rcm.navigation import nav_for
from rcm.roles import Role
from tests.browser.harness import axe_check, sign_in
from tests.claims.conftest import DOS, Billing

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("role", [Role.BILLER, Role.COLLECTIONS, Role.MANAGER])
def test_each_page_of_the_menu_passes_axe(app, page, practice, persona, role):
    claim = Billing(practice).claim()
    user = persona(role).user
    sign_in(page, app, user)
    menu = page.get_by_role("navigation", name="Main").get_by_role("link")
    paths = [link.get_attribute("href") for link in menu.all()]
    assert paths == [item["url"] for item in nav_for(role, "/")]
    for path in [*paths, f"/claims/{claim.pk}/", f"/patients/{claim.patient_id}/"]:
        page.goto(f"{app.url}{path}")
        axe_check(page)


def test_the_queue_pages_with_their_new_columns_and_drafts_by_age_pass_axe(app, page, practice, persona):
    billing = Billing(practice)
    rejected = billing.claim()
    for status in ("ready", "submitted"):
        claim_transition(claim=rejected, to_status=status)
    claim_transition(claim=rejected, to_status="rejected", reason="277CA: Subscriber ID not found")
    stopped = billing.claim(  # prior authorization missing: a scrub error
        lines=[LineInput(procedure_code="20610", charge=Decimal("250.00"), service_date_from=DOS)]
    )
    claims_scrub(queryset=Claim.objects.filter(pk=stopped.pk))
    sign_in(page, app, persona(Role.BILLER).user)
    for path in (
        "/claims/queues/rejected/",
        "/claims/queues/scrub_errors/",
        "/claims/queues/underpaid/",
        "/claims/queues/drafts/",
    ):
        page.goto(f"{app.url}{path}")
        axe_check(page)
