"""The collections specialist's journey in a real browser: a patient who owes $1,000.00 after insurance,
a plan built from the affordability check, its schedule, a payment recorded, then the daily job with the
clock moved: the reminder before the next due date is sent, and after that installment is missed (past the
grace days) the plan turns delinquent. axe-core checks every page on the way; screenshots in var/screenshots.
"""

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from payment_plans.models import PaymentPlan
from payment_plans.reminders.services import reminders_run
from rcm.services import consent_record
from tests.browser.harness import axe_check, screenshot, sign_in
from tests.payment_plans.conftest import self_pay_claim
from tests.rcm.factories import PatientFactory

pytestmark = pytest.mark.browser


def visit(page, name: str) -> None:
    axe_check(page)
    screenshot(page, name)


@pytest.fixture
def owing(practice):
    """Ana Reyes owes $1,000.00 on two self-pay visits and agreed to email and texts."""
    debtor = PatientFactory(practice=practice, first_name="Ana", last_name="Reyes")
    self_pay_claim(practice, debtor, "600.00", datetime.date(2026, 2, 2))
    self_pay_claim(practice, debtor, "400.00", datetime.date(2026, 3, 2))
    for channel in ("email", "sms"):
        consent_record(patient=debtor, channel=channel, granted=True, method="written form")
    return debtor


def test_the_collections_specialist_sets_up_a_plan_and_follows_it(
    app, page, owing, practice, collections_user, settings
):
    settings.SMS_BACKEND = "payment_plans.reminders.sms.LocmemSmsBackend"
    today = timezone.localdate()
    first_due = today + datetime.timedelta(days=3)
    sign_in(page, app, collections_user)

    # The patient's page: $1,000.00 owed; on to the payment plans.
    page.goto(app.url + reverse("patient_detail", args=[owing.pk]))
    expect(page.locator(".headline dd").first).to_have_text("$1,000.00")
    page.get_by_role("link", name="Payment plans and reminders").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Payment plans")
    visit(page, "collections-01-patient-plans")
    page.get_by_role("link", name="New plan").click()

    # The affordability check suggests 10% of discretionary income.
    page.get_by_label("Monthly household income ($)").fill("5000")
    page.get_by_label("People in the household").fill("3")
    page.get_by_label("Essential monthly expenses ($)").fill("2000")
    page.get_by_role("button", name="Suggest a payment").click()
    expect(page.get_by_test_id("suggested")).to_have_text("$78.00")
    expect(page.get_by_label("Installment amount ($)")).to_have_value("78.00")
    visit(page, "collections-02-affordability")

    # $78 would take 13 months, over the practice's 12: refused with the reason, then $100 a month.
    page.get_by_label("First installment due").fill(first_due.isoformat())
    page.get_by_role("button", name="Create plan").click()
    expect(page.get_by_role("alert").first).to_contain_text(
        "13 monthly installments is longer than the practice's maximum term of 12 months"
    )
    assert PaymentPlan.objects.count() == 0
    page.get_by_label("Installment amount ($)").fill("100.00")
    page.get_by_role("button", name="Create plan").click()

    # The schedule: ten installments of $100.00.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Payment plan #")
    rows = page.get_by_test_id("schedule").locator("tbody tr")
    expect(rows).to_have_count(10)
    expect(rows.first.locator("td").nth(1)).to_have_text(first_due.strftime("%m/%d/%Y"))
    expect(page.get_by_test_id("plan-status")).to_have_text("Active")
    visit(page, "collections-03-schedule")

    # The patient pays the first installment at the desk.
    page.get_by_label("Amount ($)").fill("100.00")
    page.get_by_label("Method").select_option("cash")
    page.get_by_role("button", name="Record payment").click()
    expect(page.locator(".messages")).to_contain_text("Payment of $100.00 recorded")
    expect(rows.first.locator("td").nth(4)).to_have_text("Paid")
    expect(page.get_by_test_id("remaining")).to_have_text("$900.00")
    visit(page, "collections-04-payment-recorded")

    # Two days before the second due date, the daily job sends the reminder (mid-afternoon Eastern).
    second_due = first_due + relativedelta(months=1)
    moment = datetime.datetime.combine(
        second_due - datetime.timedelta(days=2), datetime.time(19), tzinfo=datetime.UTC
    )
    assert reminders_run(practice=practice, now=moment).sent == 2
    page.reload()
    reminders = page.locator("section", has=page.get_by_role("heading", name="Reminders")).locator("tbody tr")
    expect(reminders).to_have_count(2)
    expect(reminders.first).to_contain_text("Payment due soon")
    expect(reminders.first).to_contain_text("Sent")
    visit(page, "collections-05-reminder-sent")

    # Nothing paid: eleven days after the due date (grace: 10 days) the plan is delinquent.
    late = datetime.datetime.combine(
        second_due + datetime.timedelta(days=11), datetime.time(19), tzinfo=datetime.UTC
    )
    result = reminders_run(practice=practice, now=late)
    assert result.status_changes == {"missed": 1, "delinquent": 1, "defaulted": 0}
    page.reload()
    expect(page.get_by_test_id("plan-status")).to_have_text("Delinquent")
    expect(rows.nth(1).locator("td").nth(4)).to_have_text("Missed")
    expect(reminders.first).to_contain_text("Missed payment (7 days)")
    visit(page, "collections-06-delinquent")

    # The reminder log lists every message.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Payment plans", exact=True).click()
    page.get_by_role("link", name="Reminder log").click()
    expect(page.locator("table.grid tbody tr")).to_have_count(4)
    visit(page, "collections-07-reminder-log")
