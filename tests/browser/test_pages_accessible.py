"""Every page of each role's main menu, and a claim's and a patient's page, pass axe-core (no serious or
critical violation) with a claim on the books."""

import pytest

from rcm.navigation import nav_for
from rcm.roles import Role
from tests.browser.harness import axe_check, sign_in
from tests.claims.conftest import Billing

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
