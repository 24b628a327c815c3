"""A hand-worked practice for the KPI tests: eight claims whose charges, payments, denials, reversals and
dates are chosen so that every KPI of March 2026 has a value worked out by hand (see the test module).

    claim  payer  DOS         entered  submitted  first adjudication
           ledger (effective date)
    C1     Acme   2026-03-02  03-03    03-03      paid 03-20
           charge 100; ins paid 60, CO 30, to patient 10 (03-20); patient paid 10 (03-25)
    C2     Acme   2026-03-02  03-05    03-05      denied 03-15 (CARC 197)
           charge 200; appealed 03-18, paid 03-28: ins paid 150, CO 50 (03-28)
    C3     Beta   2026-03-03  03-03    03-04      partly paid 03-16 (CARC 50)
           charge 300, edited after scrub; ins paid 120, CO 80 (03-16); write-off 100 (03-30)
    C4     Beta   2026-03-05  03-06    03-06      —
           charge 400; rejected 03-07, corrected, resubmitted 03-09
    C5     Acme   2026-01-10  01-12    01-12      —
           charge 500; ins paid 100 (02-20)
    C6     Acme   2025-11-01  11-03    11-03      —
           charge 600; ins paid 50 (02-27), reversed (03-02)
    C7     Acme   2026-03-10  03-10    03-10      paid 03-20
           charge 80; ins paid 80 (03-20); patient paid 20 (03-22): a credit of 20
    C8     self   2026-03-12  03-12    —          —
           charge 50 to the patient; patient paid 25 (03-26)

    payment plans (created, status now)             claims
    P1  03-21  completed 03-25                      C1
    P2  03-26  defaulted 03-30                      C8
    P3  03-29  active                               C2, then C4 (lowest-numbered first: C2)
    P4  03-27  cancelled 03-28, never defaulted     C3
    P5  03-10  defaulted 03-20, cancelled 03-24     C7
    P6  02-15  completed 03-01 (a February plan)    C5

    revenue-cycle cost entered by the manager: March $12.45 (February none)
"""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from claims.ledger import Entry, ledger_post, transaction_reverse
from claims.models import (
    Claim,
    ClaimStatus,
    Party,
    Remittance,
    RemittanceClaim,
    RemittanceLine,
    TransactionKind,
    X12File,
)
from claims.services import LineInput
from claims.state_machine import claim_transition
from denials.models import Denial
from kpis.services import revenue_cycle_cost_set
from payment_plans.models import PaymentPlan, PlanStatus
from payment_plans.plans.state_machine import plan_transition
from tests.claims.factories import make_claim
from tests.rcm.factories import CoverageFactory, PatientFactory, PayerFactory, ProviderFactory

S, K = ClaimStatus, TransactionKind
NEW_YORK = ZoneInfo("America/New_York")
MARCH_START, MARCH_END = datetime.date(2026, 3, 1), datetime.date(2026, 3, 31)


def noon(day: str) -> datetime.datetime:
    return datetime.datetime.combine(datetime.date.fromisoformat(day), datetime.time(12), tzinfo=NEW_YORK)


class PracticeBuilder:
    """Two payers, a provider, an ERA to hang denials on, and helpers that act as the app does."""

    def __init__(self, practice):
        self.practice = practice
        self.acme = PayerFactory(practice=practice, name="Acme Health")
        self.beta = PayerFactory(practice=practice, name="Beta Insurance")
        self.provider = ProviderFactory(practice=practice)
        self.x12 = X12File.objects.create(
            practice=practice, kind="835", file_name="era.835", content="", sha256="0" * 64, status="applied"
        )
        self.remittance = Remittance.objects.create(
            practice=practice,
            x12_file=self.x12,
            payer=self.acme,
            payer_name="Acme Health",
            payer_identifier="ACME",
            trace_number="T1",
            handling_code="I",
            payment_amount=Decimal("0.00"),
            payment_date=datetime.date(2026, 3, 20),
        )

    def claim(self, charge, service_date, entered, payer) -> Claim:
        service_date = datetime.date.fromisoformat(service_date)
        line = LineInput(procedure_code="99213", charge=Decimal(charge), service_date_from=service_date)
        if payer is None:
            patient = PatientFactory(practice=self.practice)
            return make_claim(
                self.practice, patient=patient, self_pay=True, provider=self.provider, lines=[line],
                created_at=noon(entered),
            )  # fmt: skip
        coverage = CoverageFactory(practice=self.practice, payer=payer)
        return make_claim(
            self.practice, coverage=coverage, provider=self.provider, lines=[line], created_at=noon(entered)
        )

    def submit(self, claim, day) -> None:
        self.move(claim, S.READY, day)
        self.move(claim, S.SUBMITTED, day)

    def move(self, claim, to_status, day) -> None:
        claim_transition(claim=claim, to_status=to_status, at=noon(day))

    def post(self, claim, day, *entries, party=Party.INSURANCE):
        line = claim.lines.get()
        return ledger_post(
            claim=claim,
            entries=[
                Entry(
                    line=line,
                    kind=kind,
                    amount=Decimal(amount),
                    party=party,
                    effective_date=datetime.date.fromisoformat(day),
                )
                for kind, amount in entries
            ],
            source="user",
        )

    def remit(self, claim) -> RemittanceClaim:
        return RemittanceClaim.objects.create(
            remittance=self.remittance,
            claim=claim,
            patient_control_number=claim.patient_control_number,
            status_code="1",
            charge=claim.charge_total,
            paid=Decimal("0.00"),
        )

    def deny(self, claim, carc, amount, day) -> Denial:
        return Denial.objects.create(
            practice=self.practice,
            claim=claim,
            line=claim.lines.get(),
            remittance_claim=self.remit(claim),
            group_code="CO",
            reason_code=carc,
            amount=Decimal(amount),
            created_at=noon(day),
        )


class HandWorked(PracticeBuilder):
    """The eight claims of the table in this module's docstring."""

    def __init__(self, practice):
        super().__init__(practice)
        self.c1 = self.claim("100.00", "2026-03-02", "2026-03-03", self.acme)
        self.c2 = self.claim("200.00", "2026-03-02", "2026-03-05", self.acme)
        self.c3 = self.claim("300.00", "2026-03-03", "2026-03-03", self.beta)
        self.c4 = self.claim("400.00", "2026-03-05", "2026-03-06", self.beta)
        self.c5 = self.claim("500.00", "2026-01-10", "2026-01-12", self.acme)
        self.c6 = self.claim("600.00", "2025-11-01", "2025-11-03", self.acme)
        self.c7 = self.claim("80.00", "2026-03-10", "2026-03-10", self.acme)
        self.c8 = self.claim("50.00", "2026-03-12", "2026-03-12", None)

        self.submit(self.c1, "2026-03-03")
        self.move(self.c1, S.ACCEPTED, "2026-03-04")
        self.move(self.c1, S.PAID, "2026-03-20")
        self.post(self.c1, "2026-03-20", (K.INSURANCE_PAYMENT, "60.00"), (K.CONTRACTUAL_ADJUSTMENT, "30.00"))
        self.post(self.c1, "2026-03-20", (K.TRANSFER_TO_PATIENT, "10.00"))
        self.post(self.c1, "2026-03-25", (K.PATIENT_PAYMENT, "10.00"), party=Party.PATIENT)
        RemittanceLine.objects.create(
            remittance_claim=self.remit(self.c1),
            claim_line=self.c1.lines.get(),
            procedure_code="99213",
            charge=Decimal("100.00"),
            paid=Decimal("60.00"),
            allowed=Decimal("70.00"),
            expected_allowed=Decimal("75.00"),
        )

        self.submit(self.c2, "2026-03-05")
        self.move(self.c2, S.DENIED, "2026-03-15")
        self.deny(self.c2, "197", "200.00", "2026-03-15")
        self.move(self.c2, S.APPEALED, "2026-03-18")
        self.move(self.c2, S.PAID, "2026-03-28")
        self.post(self.c2, "2026-03-28", (K.INSURANCE_PAYMENT, "150.00"), (K.CONTRACTUAL_ADJUSTMENT, "50.00"))

        Claim.objects.filter(pk=self.c3.pk).update(edited_after_scrub=True)
        self.submit(self.c3, "2026-03-04")
        self.move(self.c3, S.PARTIALLY_PAID, "2026-03-16")
        self.deny(self.c3, "50", "100.00", "2026-03-16")
        self.post(self.c3, "2026-03-16", (K.INSURANCE_PAYMENT, "120.00"), (K.CONTRACTUAL_ADJUSTMENT, "80.00"))
        self.post(self.c3, "2026-03-30", (K.WRITE_OFF, "100.00"))

        self.submit(self.c4, "2026-03-06")
        self.move(self.c4, S.REJECTED, "2026-03-07")
        self.move(self.c4, S.CORRECTED, "2026-03-08")
        self.move(self.c4, S.READY, "2026-03-09")
        self.move(self.c4, S.SUBMITTED, "2026-03-09")

        self.submit(self.c5, "2026-01-12")
        self.post(self.c5, "2026-02-20", (K.INSURANCE_PAYMENT, "100.00"))

        self.submit(self.c6, "2025-11-03")
        (payment,) = self.post(self.c6, "2026-02-27", (K.INSURANCE_PAYMENT, "50.00"))
        transaction_reverse(original=payment, effective_date=datetime.date(2026, 3, 2))

        self.submit(self.c7, "2026-03-10")
        self.move(self.c7, S.PAID, "2026-03-20")
        self.post(self.c7, "2026-03-20", (K.INSURANCE_PAYMENT, "80.00"))
        self.post(self.c7, "2026-03-22", (K.PATIENT_PAYMENT, "20.00"), party=Party.PATIENT)

        self.post(self.c8, "2026-03-26", (K.PATIENT_PAYMENT, "25.00"), party=Party.PATIENT)
        self._recover_underpayment()

        P = PlanStatus
        self.p1 = self.plan("2026-03-21", [self.c1], (P.COMPLETED, "2026-03-25"))
        self.p2 = self.plan("2026-03-26", [self.c8], (P.DEFAULTED, "2026-03-30"))
        self.p3 = self.plan("2026-03-29", [self.c4, self.c2])
        self.p4 = self.plan("2026-03-27", [self.c3], (P.CANCELLED, "2026-03-28"))
        self.p5 = self.plan("2026-03-10", [self.c7], (P.DEFAULTED, "2026-03-20"), (P.CANCELLED, "2026-03-24"))
        self.p6 = self.plan("2026-02-15", [self.c5], (P.COMPLETED, "2026-03-01"))
        revenue_cycle_cost_set(practice=practice, month=MARCH_START, amount=Decimal("12.45"), today=MARCH_END)

    def plan(self, created, claims, *moves) -> PaymentPlan:
        """A plan over ``claims`` (made directly: the ledger and every other KPI stay as they are), created at
        noon on ``created``, then moved through ``moves`` (status, day) as the plan's state machine does."""
        plan = PaymentPlan.objects.create(
            practice=self.practice,
            patient=claims[0].patient,
            total_amount=Decimal("100.00"),
            installment_amount=Decimal("50.00"),
            term=2,
            start_date=datetime.date.fromisoformat(created) + datetime.timedelta(days=30),
            created_at=noon(created),
            status_changed_at=noon(created),
        )
        plan.claims.set(claims)
        for to_status, day in moves:
            plan_transition(plan=plan, to_status=to_status, at=noon(day), reason="hand-worked")
        return plan

    def _recover_underpayment(self) -> None:
        """An Acme contract allowing 99213 at $75.00 makes C1's line (allowed $70.00) $5.00 short: found by
        the variance recompute, then marked recovered on 03-29."""
        from claims.models import Underpayment
        from claims.underpayments.services import underpayment_mark_recovered
        from claims.underpayments.variances import variances_recompute
        from rcm.models import FeeScheduleRow, PayerContract

        contract = PayerContract.objects.create(
            practice=self.practice,
            payer=self.acme,
            name="Acme 2026",
            effective_date=datetime.date(2026, 1, 1),
        )
        FeeScheduleRow.objects.create(
            practice=self.practice, contract=contract, procedure_code="99213", allowed_amount=Decimal("75")
        )
        self.remittance.claim_payments.update(posted=True)
        variances_recompute(practice=self.practice)
        underpayment_mark_recovered(
            underpayment=Underpayment.objects.get(claim=self.c1), at=noon("2026-03-29")
        )
