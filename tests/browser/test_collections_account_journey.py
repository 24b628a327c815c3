"""The collections specialist's day on patient accounts in a real browser: the worklist, "take next" to
the oldest overdue account, what the patient owes and why, a payment larger than the balance (the rest
kept as credit), a card number refused in the reference, a call note with a promise to pay, and a
statement sent; then the statement run started from its page, its progress followed while a worker renders
it. axe-core checks every page on the way."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from payment_plans.models import PatientPayment, Statement, StatementRun
from payment_plans.statements import statement_run_chunk
from tests.browser.harness import axe_check, screenshot, sign_in
from tests.payment_plans.helpers import insured_claim_with_patient_part, new_patient, self_pay_claim

pytestmark = pytest.mark.browser


def visit(page, name: str) -> None:
    axe_check(page)
    screenshot(page, name)


@pytest.fixture
def accounts(practice):
    today = timezone.localdate()
    old = new_patient(practice, first_name="Elena", last_name="Garcia", account_number="A0000777")
    insured_claim_with_patient_part(
        practice,
        old,
        deductible="50.00",
        copay="20.00",
        paid="100.00",
        day=today - datetime.timedelta(days=100),
    )
    self_pay_claim(practice, old, "75.00", day=today - datetime.timedelta(days=70))
    recent = new_patient(practice, first_name="Sam", last_name="Lee", account_number="A0000778")
    self_pay_claim(practice, recent, "40.00", day=today - datetime.timedelta(days=5))
    return old


def test_the_collections_specialists_accounts(app, page, accounts, collections_user):
    sign_in(page, app, collections_user)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Collections", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Collections worklist")
    rows = page.locator("table.grid").first.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Balance over 60 days old, no payment plan")
    visit(page, "collections-01-worklist")

    page.get_by_role("button", name="Take next").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Patient account")
    expect(page.get_by_test_id("owed")).to_have_text("$145.00")
    expect(page.locator("table.grid").first).to_contain_text("Deductible $50.00")
    expect(page.locator("table.grid").first).to_contain_text("Self-pay (no insurance billed) $75.00")
    visit(page, "collections-02-account")

    form = page.locator("#record-payment")
    form.get_by_label("Amount").fill("150.00")
    form.get_by_label("Method").select_option("card")
    form.get_by_label("Reference").fill("4111 1111 1111 1111")
    form.get_by_role("button", name="Record payment").click()
    expect(page.get_by_role("alert").first).to_contain_text("looks like a card number")
    assert PatientPayment.objects.count() == 0
    visit(page, "collections-03-card-number-refused")

    form = page.locator("#record-payment")
    form.get_by_label("Amount").fill("150.00")
    form.get_by_label("Method").select_option("card")
    form.get_by_label("Reference").fill("AUTH 83920")
    form.get_by_role("button", name="Record payment").click()
    expect(page.locator(".messages")).to_contain_text("$145.00 applied, $5.00 kept as credit.")
    expect(page.get_by_test_id("owed")).to_have_text("$0.00")
    expect(page.get_by_test_id("credit")).to_have_text("$5.00")
    visit(page, "collections-04-paid-with-credit")

    note = page.locator("#note")
    note.get_by_label("Outcome").select_option("note")
    note.get_by_label("Text").fill("Paid at the desk; asked to keep the credit for the next visit.")
    note.get_by_role("button", name="Save note").click()
    expect(page.locator(".notes")).to_contain_text("asked to keep the credit")

    page.get_by_role("button", name="Send statement").click()
    expect(page.locator(".messages")).to_contain_text("The statement was recorded as sent.")
    assert Statement.objects.filter(patient=accounts).count() == 1
    visit(page, "collections-05-statement-sent")

    # The statement run: who is due, started in the background, its progress followed on its page.
    page.goto(f"{app.url}/collections/statements/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Statement run")
    expect(page.locator("table.grid").first).to_contain_text("A0000778")
    visit(page, "collections-06-statement-run-due")
    page.get_by_role("button", name="Send 1 statement").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Statement run of")
    expect(page.get_by_role("status")).to_contain_text("0 of 1 parts done")
    visit(page, "collections-07-statement-run-going")
    run = StatementRun.objects.get()
    statement_run_chunk(run.chunks.get().pk)  # a worker renders the run's one part
    expect(page.get_by_role("status")).to_contain_text("100% · 1 sent · 0 not sent · 0 failed")  # polled
    expect(page.locator("table.grid")).to_contain_text("A0000778")
    assert Statement.objects.get(run=run.run).patient.account_number == "A0000778"
    visit(page, "collections-08-statement-run-done")
