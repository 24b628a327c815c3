"""The administrator's security journey in a real browser: the team page (add a biller, change a role,
deactivate), two-factor sign-in turned on (QR code on the page, code from the app) and asked at the next
sign-in, and the practice switcher. On every page: axe-core, and not one Content-Security-Policy refusal in
the browser's console (no inline script or style anywhere, the KPI charts included)."""

import time

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from rcm.models import Membership, User
from tests.browser.harness import axe_check, screenshot, sign_in
from tests.rcm.factories import MembershipFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def refusals(page):
    """Console messages in which the browser refused something under the Content-Security-Policy."""
    seen = []
    page.on(
        "console",
        lambda message: seen.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return seen


def _code(device, *, ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def visit(page, name):
    axe_check(page)
    screenshot(page, name)


def test_the_administrators_team_and_two_factor(app, page, refusals, admin_user, practice):
    sign_in(page, app, admin_user)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Team of Riverside Family Medicine")

    page.get_by_label("Username").fill("nina")
    page.get_by_label("First name").fill("Nina")
    page.get_by_label("Last name").fill("Ng")
    page.get_by_label("Role", exact=True).select_option("biller")
    page.get_by_label("First password (new users only)").fill("a-long-first-passphrase")
    page.get_by_role("button", name="Add").click()
    expect(page.locator(".messages")).to_have_text("nina joined as Biller.")
    nina = Membership.objects.get(user__username="nina", practice=practice)

    page.get_by_label("Role of nina").select_option("manager")
    page.locator("tr", has_text="nina").get_by_role("button", name="Change role").click()
    expect(page.locator(".messages")).to_have_text("nina is now Practice manager.")
    page.locator("tr", has_text="nina").get_by_role("button", name="Deactivate").click()
    expect(page.locator(".messages")).to_have_text("nina is deactivated.")
    nina.refresh_from_db()
    assert (nina.role, nina.is_active) == ("manager", False)
    visit(page, "security-01-team")

    # Two-factor on: the QR code is on the page, the app's code confirms it.
    page.get_by_role("link", name="adam").click()
    page.get_by_role("link", name="Turn on two-factor sign-in").click()
    expect(page.locator(".qr svg")).to_be_visible()
    visit(page, "security-02-two-factor-enrol")
    device = TOTPDevice.objects.get(user=admin_user, confirmed=False)
    page.get_by_label("Code from the app").fill(_code(device))
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator(".messages")).to_have_text(
        "Two-factor sign-in is on: each sign-in now asks for a code."
    )

    # The next sign-in asks for the code before anything else.
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{app.url}/login/")
    page.get_by_label("Username").fill("adam")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{app.url}/login/verify/?next=/")
    visit(page, "security-03-sign-in-code")
    device.refresh_from_db()
    page.get_by_label("Code").fill(_code(device, ahead=1))  # a code is good once: the app's next one
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{app.url}/")
    assert refusals == []


def test_the_practice_switcher_and_the_charts_run_under_the_policy(
    app, page, refusals, manager, other_practice
):
    MembershipFactory(user=manager, practice=other_practice, role="manager")
    sign_in(page, app, manager)
    page.get_by_label("Practice").select_option("lakeview")  # submits on change, from app.js
    expect(page.locator(".messages")).to_have_text("Now working in Lakeview Pediatrics.")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="KPIs", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Revenue cycle KPIs")
    page.wait_for_load_state("networkidle")
    assert refusals == []
    assert User.objects.filter(username="mona").exists()


def test_the_api_docs_and_the_django_admin_run_under_the_policy(app, page, refusals, admin_user, practice):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    sign_in(page, app, admin_user)
    page.goto(f"{app.url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("RCM API")
    page.wait_for_load_state("networkidle")
    assert refusals == [], "api docs"
    page.goto(f"{app.url}/admin/rcm/patient/")
    expect(page.locator("#content h1")).to_have_text("Select patient to change")
    page.wait_for_load_state("networkidle")
    assert refusals == [], "admin list"
    page.goto(f"{app.url}/admin/rcm/payercontract/add/")
    expect(page.locator("#content h1")).to_have_text("Add payer contract")
    page.wait_for_load_state("networkidle")
    assert refusals == []
