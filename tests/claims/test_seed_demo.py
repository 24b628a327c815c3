"""``seed_demo``: a small demo (300 claims, seed 7, as of 2026-06-30) is built once for this module and
rolled back at the end; the tests read it. Refusals run on their own."""

import datetime
import io
import json
import zoneinfo
from collections import Counter
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count, Max, Q
from django.http import HttpRequest
from django.test import Client, override_settings
from django.utils import timezone

from claims.ledger import ledger_check
from claims.models import (
    BatchClaim,
    Claim,
    ClaimLine,
    ClaimStatusChange,
    Clearinghouse,
    Remittance,
    RemittanceException,
    SubmissionBatch,
    Transaction,
    TransactionKind,
    X12File,
)
from claims.queues.selectors import DEADLINE_SOON_DAYS
from claims.scrubber.engine import claims_for_scrub, scrub_claims
from denials.models import AppealLetter, Denial
from devdata.demo.builder import demo_random
from devdata.demo.people import npi_check_digit, npi_generate
from devdata.demo.reference import ALL_DIAGNOSES, PROCEDURES
from kpis.models import KpiSnapshot
from kpis.selectors import kpi_values
from payment_plans.models import (
    Installment,
    PatientPayment,
    PaymentPlan,
    PlanModification,
    PlanPayment,
    PlanStatus,
    PlanStatusChange,
    Reminder,
    Statement,
)
from rcm.demo import DEMO_PASSWORD, DEMO_USERS
from rcm.models import (
    AuditEvent,
    ChargeMasterEntry,
    ConsentEvent,
    Coverage,
    FeeScheduleRow,
    Membership,
    Patient,
    Payer,
    PayerContract,
    Practice,
    PricingMethod,
    Provider,
    User,
)
from rcm.validators import icd10_problem, npi_is_valid

SMALL_RUN = ("--claims", "300", "--seed", "7", "--as-of", "2026-06-30")
AS_OF = datetime.date(2026, 6, 30)
CUTOFF = datetime.datetime(2026, 6, 30, tzinfo=zoneinfo.ZoneInfo("America/New_York"))

# What seed 7 builds as of 2026-06-30: the same every run, on SQLite and PostgreSQL alike.
EXPECTED_STATUSES = {
    "riverside": {
        "draft": 11,
        "submitted": 4,
        "accepted": 20,
        "paid": 218,
        "partially_paid": 3,
        # One claim of four payers denied near the end of its appeal window, left in the queue.
        "denied": 5,
        "written_off": 3,
        # Statements sent by the accounts step bill what patients not on a payment plan still owe.
        "patient_billed": 5,
    },
    "lakeview": {"draft": 1, "accepted": 4, "paid": 24, "denied": 1},
}


# The inbox seed 7 writes as of 2026-06-30 for Riverside: the files, then (acknowledged, paid, partly paid,
# denied, reversed) claims, and the denial rows posting the 835s records (one per denied line).
INBOX_FILES = [
    "277CA-20260630.277",
    "15202-20260630.835",
    "OHMCD-20260630.835",
    "SHP01-20260630.835",
    "KSM22-20260630.835",
    "CRS47-20260630.835",
]
INBOX_OUTCOMES = (4, 16, 1, 1, 1)
INBOX_DENIAL_ROWS = 5  # the denied claim's four lines (CO-50) and the partly paid claim's last line (CO-96)


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Build the small demo once; everything it wrote is rolled back after the module's last test."""
    with django_db_blocker.unblock(), transaction.atomic():
        output = io.StringIO()
        with override_settings(DEBUG=True):
            call_command("seed_demo", *SMALL_RUN, stdout=output)
        yield output.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def demo(seeded, db):
    return seeded


def _statuses(slug: str) -> dict[str, int]:
    rows = Claim.objects.filter(practice__slug=slug).values_list("status").annotate(n=Count("id")).order_by()
    return dict(rows)


def test_it_builds_the_same_claims_per_status_for_the_same_seed(demo):
    assert {slug: _statuses(slug) for slug in EXPECTED_STATUSES} == EXPECTED_STATUSES
    # One of the 300 visits was seen on the last day and its charge is entered after the as-of day.
    assert Claim.objects.count() == 299


def test_the_queues_have_claims_in_every_stage(demo):
    riverside = _statuses("riverside")
    for status in ("draft", "submitted", "accepted", "paid", "partially_paid", "denied", "written_off"):
        assert riverside.get(status, 0) >= 1, status


def test_it_creates_both_practices_and_the_demo_logins_with_their_roles(demo):
    assert list(Practice.objects.order_by("slug").values_list("slug", "name")) == [
        ("lakeview", "Lakeview Pediatrics"),
        ("riverside", "Riverside Family Medicine"),
    ]
    for username, _first, _last, role in DEMO_USERS:
        assert Client().login(request=HttpRequest(), username=username, password=DEMO_PASSWORD), username
        assert Membership.objects.get(user__username=username, practice__slug="riverside").role == role
    admin = User.objects.get(username="admin")
    assert (admin.is_staff, admin.is_superuser) == (True, True)
    assert User.objects.filter(is_superuser=True).count() == 1
    assert list(
        Membership.objects.filter(practice__slug="lakeview").values_list("user__username", "role")
    ) == [("biller", "biller")]


def test_payers_of_each_kind_with_contracts_and_fee_schedules(demo):
    riverside = Practice.objects.get(slug="riverside")
    kinds = Counter(Payer.objects.filter(practice=riverside).values_list("kind", flat=True))
    assert kinds == {"medicare": 1, "medicaid": 1, "commercial": 3}
    medicare = PayerContract.objects.get(practice=riverside, payer__kind="medicare")
    assert medicare.pricing_method == PricingMethod.FEE_SCHEDULE
    assert set(medicare.fee_rows.values_list("procedure_code", flat=True)) == set(PROCEDURES)
    percent = PayerContract.objects.filter(practice=riverside, pricing_method=PricingMethod.PERCENT_OF_BASE)
    assert sorted(percent.values_list("percent", "base_payer")) == [
        (Decimal("110.00"), medicare.payer_id),
        (Decimal("125.00"), medicare.payer_id),
    ]
    assert not FeeScheduleRow.objects.filter(contract__in=percent).exists()
    keystone = PayerContract.objects.get(practice=riverside, payer__payer_id="KSM22")
    assert (keystone.timely_filing_days, keystone.appeal_limit_days, keystone.prior_auth_codes) == (
        90,
        60,
        ["20610", "11102"],
    )
    # The charge master sits above every contract's allowed amount.
    charges = dict(
        ChargeMasterEntry.objects.filter(practice=riverside).values_list("procedure_code", "charge")
    )
    assert set(charges) == set(PROCEDURES)
    for row in FeeScheduleRow.objects.filter(practice=riverside):
        assert row.allowed_amount < charges[row.procedure_code], row


def test_the_ledger_balances_and_every_claim_started_at_charge_entry(demo):
    assert ledger_check() == []
    charges = Transaction.objects.filter(kind=TransactionKind.CHARGE, source="charge_entry")
    assert charges.count() == ClaimLine.objects.count()
    # Each claim's status is where its recorded history leads, and the history starts at draft.
    for claim in Claim.objects.prefetch_related("status_history"):
        history = list(claim.status_history.all())
        if history:
            assert history[0].from_status == "draft"
            assert history[-1].to_status == claim.status
            # each move starts where the one before it ended (no step back-dates a move before another's)
            assert [h.from_status for h in history[1:]] == [h.to_status for h in history[:-1]], claim
            assert [h.at for h in history] == sorted(h.at for h in history)
        else:
            assert claim.status == "draft"


def test_history_spans_fifteen_months_and_ends_before_the_as_of_day(demo):
    cutoff = datetime.datetime(2026, 6, 30, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
    assert not Claim.objects.filter(Q(created_at__gte=cutoff) | Q(service_date__gte=cutoff.date())).exists()
    assert not Transaction.objects.filter(posted_at__gte=cutoff).exists()
    assert not ClaimStatusChange.objects.filter(at__gte=cutoff).exists()
    assert not Patient.objects.filter(
        Q(created_at__gte=cutoff) | Q(date_of_birth__gte=cutoff.date())
    ).exists()
    assert not ConsentEvent.objects.filter(at__gte=cutoff).exists()
    # Everything the services wrote carries the simulated moment it was given, never the real clock.
    for model, field in (
        (X12File, "received_at"),
        (Remittance, "received_at"),
        (RemittanceException, "created_at"),
        (SubmissionBatch, "created_at"),
        (Denial, "created_at"),
        (PatientPayment, "recorded_at"),
        (Statement, "sent_at"),
        (PaymentPlan, "created_at"),
        (PlanStatusChange, "at"),
        (PlanPayment, "recorded_at"),
        (Installment, "paid_at"),
        (Reminder, "created_at"),
    ):
        assert model.objects.exists(), model
        assert not model.objects.filter(**{f"{field}__gte": cutoff}).exists(), model
    dates = Claim.objects.order_by("service_date").values_list("service_date", flat=True)
    # The window opens 2025-03-28 (a Friday) and the last clinic day is the day before the as-of day.
    assert (dates.first(), dates.last()) == (datetime.date(2025, 3, 28), datetime.date(2026, 6, 29))


def test_payments_follow_the_contract(demo):
    """A Medicare line paid with no secondary: payment + patient share = the fee schedule amount."""
    riverside = Practice.objects.get(slug="riverside")
    fees = dict(
        FeeScheduleRow.objects.filter(contract__payer__kind="medicare", practice=riverside).values_list(
            "procedure_code", "allowed_amount"
        )
    )
    lines = ClaimLine.objects.filter(
        practice=riverside, claim__payer__kind="medicare", claim__status="paid"
    ).exclude(claim__coverage__patient__coverages__priority=2)
    checked = 0
    for line in lines.prefetch_related("transactions"):
        paid = sum(t.amount for t in line.transactions.all() if t.kind == "insurance_payment")
        shares = sum(t.amount for t in line.transactions.all() if t.kind == "transfer_to_patient")
        assert paid + shares == fees[line.procedure_code] * line.units, line
        checked += 1
    assert checked > 20


def test_patients_coverage_and_consents(demo):
    riverside = Practice.objects.get(slug="riverside")
    patients = Patient.objects.filter(practice=riverside)
    assert patients.count() == 108
    # Every child has an adult guarantor; most children are on a parent's plan.
    children = list(patients.filter(date_of_birth__gt=datetime.date(2008, 6, 30)).select_related("guarantor"))
    assert len(children) == 20
    assert all(child.guarantor.age_on(datetime.date(2026, 6, 30)) >= 18 for child in children)
    assert Coverage.objects.filter(practice=riverside, relationship="19").count() == 15
    assert ConsentEvent.objects.filter(channel="sms", granted=False, method="STOP reply").count() == 2
    assert set(ConsentEvent.objects.filter(practice=riverside).values_list("channel", flat=True)) == {
        "mail",
        "phone",
        "sms",
        "email",
    }
    assert all(npi_is_valid(npi) for npi in Provider.objects.values_list("npi", flat=True))


def test_every_diagnosis_the_demo_uses_is_billable(demo):
    assert [code for code in ALL_DIAGNOSES if icd10_problem(code) is not None] == []
    used = {code for codes in Claim.objects.values_list("diagnosis_codes", flat=True) for code in codes}
    assert used <= set(ALL_DIAGNOSES)


def test_claims_go_out_in_837p_batches_and_come_back_as_imported_835s(demo):
    for practice in Practice.objects.all():
        assert len(practice.postal_code) == 9 and practice.tax_id and npi_is_valid(practice.npi)
        assert Clearinghouse.objects.filter(practice=practice, is_active=True).count() == 1
    batches = SubmissionBatch.objects.all()
    assert batches.count() > 100
    # One batch per payer per evening, holding real 837P text, and every submitted claim is in one.
    assert all(batch.content.startswith("ISA*") and "ST*837*" in batch.content for batch in batches[:20])
    assert (
        not Claim.objects.filter(first_submitted_at__isnull=False)
        .exclude(pk__in=BatchClaim.objects.values("claim_id"))
        .exists()
    )
    remittances = Remittance.objects.all()
    assert remittances.count() > 100
    assert not X12File.objects.filter(kind="835").exclude(status="applied").exists()
    assert all(r.payment_date == timezone.localdate(r.received_at) for r in remittances)
    insurance = Transaction.objects.filter(kind=TransactionKind.INSURANCE_PAYMENT)
    assert insurance.filter(source="remittance", source_reference__startswith="remit-claim:").count() > 200
    # A few deliberate exceptions: a payer keyed a claim number we never sent.
    assert RemittanceException.objects.filter(kind="unmatched").exists()


def test_every_277ca_answer_is_an_imported_file_with_the_claims_acknowledgments(demo, biller_of):
    from claims.models import ClaimAcknowledgment

    moves = ClaimStatusChange.objects.filter(reason__startswith="277CA")
    accepted = moves.filter(to_status="accepted")
    assert accepted.count() > 200 and moves.filter(to_status="rejected").exists()
    acks = ClaimAcknowledgment.objects.select_related("x12_file")
    assert {(a.x12_file.kind, a.x12_file.status, a.x12_file.source) for a in acks} == {
        ("277CA", "applied", "demo")
    }
    # each status change a 277CA made has its acknowledgment, at the same moment, saying the same
    assert sorted(accepted.values_list("claim_id", "at")) == sorted(
        acks.filter(accepted=True).values_list("claim_id", "at")
    )
    assert sorted(moves.filter(to_status="rejected").values_list("claim_id", "at")) == sorted(
        acks.filter(accepted=False).values_list("claim_id", "at")
    )
    ack = acks.filter(accepted=True).first()
    html = Client()
    html.force_login(biller_of(ack.practice))
    session = html.session
    session["practice_id"] = ack.practice_id
    session.save()
    page = " ".join(html.get(f"/claims/{ack.claim_id}/").content.decode().split())
    assert "None received" not in page and '<span class="badge ok">accepted</span>' in page


@pytest.fixture
def biller_of():
    def find(practice):
        return Membership.objects.filter(practice=practice, role="biller", is_active=True).first().user

    return find


def test_denials_are_recorded_and_worked(demo):
    from denials.models import Denial

    assert Denial.objects.exists()
    assert Claim.objects.filter(status="written_off").exists()
    assert Transaction.objects.filter(kind=TransactionKind.WRITE_OFF, source="user").exists()


def test_denials_have_causes_and_some_are_overturned_by_a_later_835_upheld_or_open(demo):
    from denials.models import Denial, DenialStatusChange

    assert not Denial.objects.filter(remit_date__isnull=True).exists()
    assert Denial.objects.exclude(category="other").exists()
    statuses = set(Denial.objects.values_list("status", flat=True))
    assert {"overturned", "written_off", "new"} <= statuses
    overturned_by_era = DenialStatusChange.objects.filter(
        to_status="overturned", reason__contains="by a later remittance"
    )
    assert overturned_by_era.exists()
    assert not Denial.objects.filter(status="overturned", recovered_amount__lte=0).exists()


def test_appeals_of_the_last_months_are_letters_made_final_and_sent_then_decided_or_written_off(demo):
    """Issue #12: appeals go out as letters (the category's template, a PDF, sent on a day by a channel);
    the payer's answer settles the letter; an upheld appeal ends in a write-off. Appeals filed before the
    practice sent them from the app (``LETTER_MONTHS``: from October 2025 here) were recorded by hand."""
    letters = list(AppealLetter.objects.select_related("claim", "denial").order_by("sent_on"))
    letters_from = datetime.datetime(2025, 10, 1, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
    appealed = ClaimStatusChange.objects.filter(to_status="appealed")
    # one letter per appeal filed since, and sending it is what filed the appeal, at the moment it was sent
    assert sorted(appealed.filter(at__gte=letters_from).values_list("claim_id", "at", "reason")) == sorted(
        (
            letter.claim_id,
            letter.finalized_at,
            f"Appeal letter sent by {letter.get_channel_display().lower()}",
        )
        for letter in letters
    )
    assert list(appealed.filter(at__lt=letters_from).values_list("reason", flat=True)) == [
        "Appeal of denied lines sent with documentation of a separately identifiable visit (modifier 25)"
    ]
    assert [
        (letter.template, letter.channel, letter.outcome, letter.denial.reason_code, letter.claim.status)
        for letter in letters
    ] == [
        ("coding_bundling", "portal", "upheld", "97", "written_off"),
        ("coding_bundling", "portal", "upheld", "97", "paid"),
    ]
    for letter in letters:
        assert bytes(letter.pdf).startswith(b"%PDF") and letter.pdf_name.endswith(".pdf")
        assert letter.created_at == letter.finalized_at < CUTOFF
        assert letter.sent_on == timezone.localdate(letter.finalized_at)
        assert letter.finalized_at < letter.outcome_at < CUTOFF
        assert not letter.after_deadline and letter.sent_on <= letter.denial.appeal_deadline
        assert letter.claim.patient_control_number in letter.body
        day = letter.sent_on
        assert f"\n{day:%B} {day.day}, {day.year}\n" in letter.body  # dated the day it was written
    # the upheld appeal written off with the write-off service, after the payer's answer
    upheld = letters[0]
    write_off = Transaction.objects.get(claim=upheld.claim, kind=TransactionKind.WRITE_OFF)
    assert (write_off.source, write_off.group_code, write_off.reason_code) == ("user", "CO", "97")
    assert upheld.outcome_at < write_off.posted_at < CUTOFF
    assert upheld.denial.status == "written_off"


def test_one_denial_per_payer_waits_in_the_queue_with_its_appeal_deadline_soon(demo):
    """Issue #12: open denials due for appeal within the queue's "soon" window after the as-of day, each
    for one of its payer's usual causes, not worked yet."""
    soon = Denial.objects.filter(
        appeal_deadline__gt=AS_OF, appeal_deadline__lt=AS_OF + datetime.timedelta(days=DEADLINE_SOON_DAYS)
    )
    rows = Counter(
        (d.claim.payer.payer_id, d.reason_code, d.category, d.status, (d.appeal_deadline - AS_OF).days)
        for d in soon.select_related("claim__payer")
    )
    assert rows == {
        ("CRS47", "16", "documentation", "new", 1): 2,
        ("SHP01", "16", "documentation", "new", 6): 3,
        ("15202", "16", "documentation", "new", 7): 3,
        ("OHMCD", "27", "eligibility", "new", 13): 4,
    }
    assert soon.values("claim_id").distinct().count() == 4
    # whole claims denied, still denied, with no work on them since
    claims = Claim.objects.filter(pk__in=soon.values("claim_id"))
    assert set(claims.values_list("status", flat=True)) == {"denied"}
    assert not ClaimStatusChange.objects.filter(claim__in=claims, from_status="denied").exists()


def test_no_patient_balance_is_negative(demo):
    """The copay taken at check-in is applied once the payer has moved it to the patient, never before;
    the only negative patient balances are the credits of patients who paid more than they owed."""
    from payment_plans.models import AllocationKind, PaymentAllocation

    credits = set(
        PaymentAllocation.objects.filter(kind=AllocationKind.CREDIT).values_list("line_id", flat=True)
    )
    negative = set(ClaimLine.objects.filter(patient_balance__lt=0).values_list("pk", flat=True))
    assert negative and negative <= credits
    assert not ClaimLine.objects.filter(insurance_balance__lt=0).exists()
    assert Transaction.objects.filter(note="Copay collected at check-in").exists()


def test_the_scrubber_finds_no_missing_fields(demo):
    claims = list(claims_for_scrub(Claim.objects.exclude(coverage=None)))
    findings = scrub_claims(claims, today=datetime.date(2026, 6, 29))
    assert [f for found in findings.values() for f in found if f.rule == "REQUIRED_FIELDS"] == []


def test_one_summary_audit_event_per_practice(demo):
    events = AuditEvent.objects.order_by("practice__slug")
    assert [(e.practice.slug, e.action, e.object_type, e.source) for e in events] == [
        ("lakeview", "create", "claims.claim", "command"),
        ("riverside", "create", "claims.claim", "command"),
    ]
    summary = events.get(practice__slug="riverside").changes["seed_demo"]
    assert summary["claims"] == sum(EXPECTED_STATUSES["riverside"].values())
    assert summary["claims_by_status"]["paid"] == EXPECTED_STATUSES["riverside"]["paid"]


def test_it_prints_progress_a_summary_and_the_logins(demo):
    assert "riverside: 270 / 270 claims" in demo
    assert "riverside: 9 payment plans" in demo
    assert "riverside: 15 patient payments (4 with a credit), 11 statements, 5 account notes" in demo
    assert "Ledger check: every cached balance matches the ledger." in demo
    assert "Demo logins (password for all: rcm-demo-2026)" in demo


def test_it_refuses_to_run_twice_and_changes_nothing(demo):
    def counts():
        return (
            Claim.objects.count(),
            Transaction.objects.count(),
            User.objects.count(),
            Practice.objects.count(),
        )

    before = counts()
    with pytest.raises(CommandError, match="Demo data is already loaded"), override_settings(DEBUG=True):
        call_command("seed_demo", *SMALL_RUN, stdout=io.StringIO())
    assert counts() == before


def test_it_refuses_with_debug_off(db, settings):
    settings.DEBUG = False
    practices = Practice.objects.count()
    with pytest.raises(CommandError, match="demo logins must never reach a production database"):
        call_command("seed_demo", *SMALL_RUN, stdout=io.StringIO())
    assert Practice.objects.count() == practices


def test_npi_check_digit_matches_the_validator():
    assert npi_check_digit(first_nine="123456789") == "3"  # the CMS example NPI 1234567893
    rng = demo_random("npi-test")
    assert all(npi_is_valid(npi_generate(rng=rng)) for _ in range(200))
    with pytest.raises(ValueError, match="nine digits"):
        npi_check_digit(first_nine="12345")


def test_the_dashboard_has_kpi_snapshots_for_every_day_of_the_demo(demo):
    # The demo computes every day of its window (15 months up to the evening before --as-of); days before
    # a practice's first charge have nothing to store. From the first charge on, every day has days in A/R.
    for slug in ("riverside", "lakeview"):
        practice = Practice.objects.get(slug=slug)
        whole = KpiSnapshot.objects.filter(practice=practice, dimension="practice")
        days = sorted(whole.filter(kpi="days_in_ar").values_list("day", flat=True))
        first_charge = (
            Transaction.objects.filter(practice=practice, kind=TransactionKind.CHARGE)
            .order_by("effective_date")
            .values_list("effective_date", flat=True)
            .first()
        )
        assert days[0] == first_charge
        assert days[-1] == datetime.date(2026, 6, 29)
        assert len(days) == (days[-1] - days[0]).days + 1
        # Open A/R on the last day is what the claims' balances say (money stays exact through snapshots).
        owed = [c.balance for c in Claim.objects.filter(practice=practice) if c.balance > 0]
        assert whole.get(kpi="ar_total", day=datetime.date(2026, 6, 29)).numerator == sum(owed, Decimal("0"))
    riverside = Practice.objects.get(slug="riverside")
    values = kpi_values(riverside, start=datetime.date(2026, 5, 31), end=datetime.date(2026, 6, 29))
    for slug in ("clean_claim_rate", "initial_denial_rate", "days_in_ar", "net_collection_rate"):
        assert values[slug].value is not None, slug
        assert values[slug].previous is not None, slug
    # The manager's monthly revenue-cycle cost is entered at 2.5–3.5% of each month's cash.
    assert Decimal("2.5") <= values["cost_to_collect"].value <= Decimal("3.5")
    assert values["cost_to_collect"].previous is not None
    client = Client()
    assert client.login(request=HttpRequest(), username="manager", password=DEMO_PASSWORD)
    page = client.get("/kpis/").content.decode()
    assert "No numbers computed yet" not in page
    assert "for days up to 06/29/2026" in page


def test_the_inbox_files_upload_and_post_cleanly_with_the_denial_in_the_denied_queue(
    demo, biller_of, settings
):
    """Last in the module: it changes the demo (rolled back after the test)."""
    from claims.models import ClaimAcknowledgment
    from claims.queues.selectors import queue_claims
    from denials.models import Denial
    from devdata.demo.inbox import demo_inbox_write

    riverside = Practice.objects.get(slug="riverside")
    inbox = sorted((settings.VAR_DIR / "demo-inbox").iterdir())
    assert "Inbox for Riverside" in demo and "demo-inbox" in demo
    # the files seed_demo wrote are the plan's (written again here to know which claim gets what)
    contents = {path.name: path.read_text() for path in inbox}
    plan = demo_inbox_write(
        practice=riverside, directory=settings.VAR_DIR / "demo-inbox", day=datetime.date(2026, 6, 30)
    )
    assert {path.name: path.read_text() for path in plan.files} == contents
    assert [path.name for path in plan.files] == INBOX_FILES
    assert (
        len(plan.acknowledged),
        len(plan.paid),
        len(plan.partly_paid),
        len(plan.denied),
        len(plan.reversed),
    ) == (INBOX_OUTCOMES)
    exceptions_before = RemittanceException.objects.count()
    denials_before = set(Denial.objects.values_list("pk", flat=True))
    client = Client()
    client.force_login(biller_of(riverside))
    session = client.session
    session["practice_id"] = riverside.pk
    session.save()
    response = client.post(
        "/claims/files/upload/",
        {"files": [SimpleUploadedFile(path.name, path.read_bytes()) for path in inbox]},
        follow=True,
    )
    assert response.status_code == 200
    files = X12File.objects.filter(practice=riverside, source="upload")
    assert sorted(files.values_list("file_name", "status")) == sorted(
        (name, "applied") for name in INBOX_FILES
    )
    assert RemittanceException.objects.count() == exceptions_before
    statuses = dict(Claim.objects.values_list("pk", "status"))
    assert {pk: statuses[pk] for pk in plan.acknowledged} == {pk: "accepted" for pk in plan.acknowledged}
    assert {pk: statuses[pk] for pk in plan.paid} == {pk: "paid" for pk in plan.paid}
    assert {pk: statuses[pk] for pk in plan.partly_paid} == {pk: "partially_paid" for pk in plan.partly_paid}
    assert {pk: statuses[pk] for pk in plan.denied} == {pk: "denied" for pk in plan.denied}
    assert {pk: statuses[pk] for pk in plan.reversed} == {pk: "accepted" for pk in plan.reversed}
    assert ClaimAcknowledgment.objects.filter(
        claim_id__in=plan.acknowledged, x12_file__in=files
    ).count() == len(plan.acknowledged)
    new_denials = Denial.objects.exclude(pk__in=denials_before)
    assert set(new_denials.values_list("claim_id", "reason_code")) == {(pk, "50") for pk in plan.denied} | {
        (pk, "96") for pk in plan.partly_paid
    }
    assert new_denials.count() == INBOX_DENIAL_ROWS
    denied_queue = set(queue_claims(riverside, "denied").values_list("pk", flat=True))
    assert set(plan.denied) <= denied_queue
    # ...and the biller's denial work queue lists each new denial, with its cause and owner.
    from denials.selectors import denial_queue

    new_ids = set(new_denials.values_list("pk", flat=True))
    queued = [d for d in denial_queue(riverside) if d.pk in new_ids]
    assert len(queued) == INBOX_DENIAL_ROWS
    assert all(d.category and d.owner for d in queued)
    assert client.get("/denials/").status_code == 200
    assert ledger_check() == []


def test_keystone_drifts_under_contract_on_two_codes_so_the_manager_sees_it(demo):
    """Keystone allows 99213 and 99214 3% under contract from 2026-01-01 (five months before June): the
    underpaid queue, the drift finding and the payer scorecard show it."""
    from claims.models import LineVariance, Underpayment
    from claims.underpayments.selectors import drift_findings
    from kpis.models import PayerScorecardMonth

    riverside = Practice.objects.get(slug="riverside")
    keystone = Payer.objects.get(practice=riverside, payer_id="KSM22")
    drifted = LineVariance.objects.filter(
        practice=riverside, payer=keystone, procedure_code__in=["99213", "99214"], variance__gt=0
    )
    assert drifted.exists()
    assert drifted.filter(service_date__lt=datetime.date(2026, 1, 1), kind="within").count() == 0
    findings = [f for f in drift_findings(riverside, min_lines=3, min_claims=3) if f.payer_id == keystone.pk]
    assert {f.procedure_code for f in findings} <= {"99213", "99214"} and findings
    for finding in findings:
        assert finding.since >= datetime.date(2026, 1, 1)
        # 3% under the contract's per-unit amount, to the cent
        assert finding.allowed_per_unit == (finding.expected_per_unit * Decimal("0.97")).quantize(
            Decimal("0.01")
        )
    assert Underpayment.objects.filter(practice=riverside, payer=keystone).exists()
    assert (
        PayerScorecardMonth.objects.filter(
            practice=riverside, payer=keystone, month__gte=datetime.date(2026, 1, 1)
        )
        .exclude(underpaid=0)
        .exists()
    )


def test_patient_accounts_have_payments_credits_statements_and_notes(demo):
    from payment_plans.models import AccountHold, AccountNote, CreditRefund
    from payment_plans.statements import statement_candidates

    riverside = Practice.objects.get(slug="riverside")
    # 15 paid at the front desk by the accounts step, 12 more on payment plans (the plans step)
    assert PatientPayment.objects.filter(practice=riverside, plan_payment__isnull=True).count() == 15
    assert PatientPayment.objects.filter(practice=riverside, plan_payment__isnull=False).count() == 12
    assert PlanPayment.objects.filter(practice=riverside).count() == 12
    assert CreditRefund.objects.filter(practice=riverside).count() == 1
    assert Statement.objects.filter(practice=riverside).count() == 11
    # patients on a plan are the plan's business: no statement
    assert not Statement.objects.filter(patient__payment_plans__isnull=False).exists()
    assert AccountNote.objects.filter(practice=riverside).count() == 5
    assert AccountHold.objects.filter(practice=riverside, released_at__isnull=True).count() == 1
    assert (
        Statement.objects.filter(sent_at__gte=datetime.datetime(2026, 6, 30, tzinfo=datetime.UTC)).count()
        == 0
    )
    # Those sent a statement within the cycle are not due another on the as-of day.
    _selected, skipped = statement_candidates(riverside, today=datetime.date(2026, 6, 30))
    billed = Statement.objects.filter(practice=riverside).values("patient").distinct().count()
    assert sum("within the 30-day cycle" in reason for reason in skipped.values()) == billed
    assert ledger_check(practice=riverside) == []


def test_payment_plans_end_in_every_state_with_missed_installments_and_new_terms(demo):
    """Issue #14: plans in every state, payments missed, a plan on new terms; each plan made after the
    balance it covers last moved, and only its own payments move that balance after it."""
    riverside = Practice.objects.get(slug="riverside")
    plans = PaymentPlan.objects.filter(practice=riverside)
    assert Counter(plans.values_list("status", flat=True)) == {
        "active": 3,
        "completed": 2,
        "defaulted": 2,
        "delinquent": 1,
        "cancelled": 1,
    }
    assert set(plans.values_list("status", flat=True)) == set(PlanStatus.values)
    missed = Installment.objects.filter(practice=riverside, status="missed")
    assert Counter(missed.values_list("plan__status", flat=True)) == {"defaulted": 6, "delinquent": 1}
    assert Counter(
        PlanStatusChange.objects.filter(plan__practice=riverside).values_list("from_status", "to_status")
    ) == {
        ("", "active"): 9,
        ("active", "defaulted"): 2,
        ("active", "delinquent"): 1,
        ("active", "completed"): 2,
        ("active", "cancelled"): 1,
    }
    modification = PlanModification.objects.get(plan__practice=riverside)
    assert (modification.kind, modification.plan.status) == ("modified", "active")
    assert modification.plan.created_at < modification.at < CUTOFF
    assert len(modification.after["open_installments"]) == len(modification.before["open_installments"]) + 2
    for plan in plans.prefetch_related("claims"):
        claims = list(plan.claims.all())
        assert claims and plan.created_at < CUTOFF
        receipts = set(plan.payments.values_list("ledger_reference", flat=True))
        later = Transaction.objects.filter(claim__in=claims, posted_at__gte=plan.created_at)
        assert set(later.values_list("kind", "source_reference")) <= {
            (TransactionKind.PATIENT_PAYMENT, receipt) for receipt in receipts
        }, plan
        assert ClaimStatusChange.objects.filter(claim__in=claims).aggregate(last=Max("at"))["last"] < (
            plan.created_at
        )
        if plan.status != "cancelled":
            kept = plan.installments.exclude(status="cancelled")
            assert sum((i.amount for i in kept), Decimal(0)) == plan.total_amount, plan


def test_reminders_for_plans_and_balances_are_sent_logged_and_in_the_sms_file(demo, settings):
    riverside = Practice.objects.get(slug="riverside")
    reminders = Reminder.objects.filter(practice=riverside)
    assert Counter(reminders.values_list("kind", "channel", "status")) == {
        ("balance", "sms", "sent"): 3,
        ("balance", "email", "sent"): 1,
        ("upcoming", "sms", "sent"): 2,
        ("upcoming", "email", "sent"): 1,
        ("missed_1", "sms", "sent"): 1,
        ("missed_1", "email", "sent"): 1,
        ("missed_7", "sms", "sent"): 1,
        ("missed_7", "email", "sent"): 1,
        ("missed_14", "sms", "sent"): 1,
        ("missed_14", "email", "sent"): 1,
    }
    assert not reminders.filter(sent_at__gte=CUTOFF).exists()
    # the missed-payment reminders went to the patients whose plans fell behind
    assert set(reminders.filter(kind__startswith="missed").values_list("plan__status", flat=True)) == {
        "delinquent"
    }
    # every text sent is a line of the SMS outbox file
    sms_file = [json.loads(line) for line in open(settings.SMS_FILE_PATH, encoding="utf-8")]
    sent = {(line["to"], line["body"]) for line in sms_file}
    texts = reminders.filter(channel="sms").select_related("patient")
    assert {(r.patient.phone, r.body) for r in texts} <= sent
    # ...and each reminder is in the patient's log on the plans page
    client = Client()
    assert client.login(request=HttpRequest(), username="collections", password=DEMO_PASSWORD)
    session = client.session
    session["practice_id"] = riverside.pk
    session.save()
    missed = reminders.get(kind="missed_7", channel="sms")
    page = client.get(f"/payment-plans/patients/{missed.patient_id}/").content.decode()
    for label in ("Missed payment (1 day)", "Missed payment (7 days)", "Missed payment (14 days)"):
        assert page.count(label) == 2, label  # by text and by email
