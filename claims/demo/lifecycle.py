"""A claim's life, told through the services the app itself uses.

``ClaimStory`` takes one planned encounter and plays its history forward in time: charge entry
(``claim_create``), scrubbing and submission, acknowledgment, the payer's remittance, denial work
(correction, appeal, write-off), the secondary payer, and the patient's payments. Every status change
goes through ``claim_move`` and every dollar through ``ledger_post``, back-dated with ``at`` /
``created_at`` / ``posted_at``. Nothing writes an end state directly.

The story stops at the cutoff (the start of the ``as of`` day): an event that would happen later raises
``NotYet``, and the claim stays where a real one would be today. That is what fills the queues: recent
claims are still drafts, ready, submitted or accepted; older ones are paid, denied, appealed or written off.

Patient payments run on their own clock (a ``branch``): a patient pays a statement while the biller is
still appealing a denied line, and status changes stay in time order.

Extension points: ``remittance_post`` is the one place an adjudication becomes ledger entries (a
remittance feature can route it through an 835 and ERA posting instead); ``on_denial`` hooks let a
denials feature record each denial as it happens.
"""

import contextlib
import dataclasses
import datetime
import random
from collections.abc import Callable
from decimal import Decimal

from claims.demo.encounters import Encounter
from claims.demo.payers import PayerBook
from claims.demo.people import CoverageRecord
from claims.demo.reference import BUNDLE_PRONE, CARC_DESCRIPTIONS, OFFICE_VISITS, PREVENTIVE
from claims.ledger import Entry, ledger_post, money
from claims.models import (
    Claim,
    ClaimLine,
    ClaimStatus,
    Party,
    PatientResponsibility,
    Transaction,
    TransactionKind,
    TransactionSource,
)
from claims.services import LineInput, claim_create, claim_move
from rcm.models import Practice, Provider, User

S, K = ClaimStatus, TransactionKind
ZERO = Decimal("0.00")
SELF_PAY_DISCOUNT = Decimal("0.35")

CORRECTIONS = {
    "16": "Added the missing referring provider and documentation; resubmitted",
    "27": "Eligibility re-verified; corrected the member ID and resubmitted",
    "18": "Not a duplicate (separate visit); resubmitted with a note",
}
APPEALS = {
    "50": "office notes and the clinical guideline supporting medical necessity",
    "197": "retro-authorization request with the office notes",
    "97": "documentation of a separately identifiable visit (modifier 25)",
}
REJECTIONS = (
    "277CA A7:164 subscriber ID not found",
    "277CA A7:562 rendering provider NPI not on file with the payer",
    "277CA A3:21 missing or invalid information",
)
PAYMENT_NOTES = ("Card payment (patient portal)", "Check", "Card payment (phone)", "Cash at front desk")


class NotYet(Exception):
    """The story's next event falls on or after the cutoff: it has not happened yet."""


@dataclasses.dataclass
class StoryContext:
    """What every claim story of one practice shares."""

    practice: Practice
    billing_provider: Provider
    charge_master: dict[str, Decimal]
    cutoff: datetime.datetime
    tz: datetime.tzinfo
    biller: User
    collections: User | None
    # Called as hook(story=..., carc=..., lines=...) when a payer denies a claim or lines of it.
    on_denial: list[Callable[..., None]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class LineOutcome:
    """How a payer adjudicated one line: allowed (0 when denied), paid, and the patient's share by kind."""

    line: ClaimLine
    allowed: Decimal
    paid: Decimal
    shares: list[tuple[str, str, Decimal]]  # (responsibility, CARC 1/2/3, amount)


class ClaimStory:
    """Plays one encounter's claim forward until the cutoff. ``run`` returns the claim (None when the
    charge had not been entered yet)."""

    def __init__(self, *, context: StoryContext, encounter: Encounter, rng: random.Random):
        self.ctx, self.encounter, self.rng = context, encounter, rng
        self.now = datetime.datetime.combine(encounter.service_date, datetime.time(7, 30), tzinfo=context.tz)
        self.claim: Claim | None = None
        self.lines: list[ClaimLine] = []
        # What is owed on each line, by side, as our own postings left it (no need to read balances back).
        self.insurance_due: dict[int, Decimal] = {}
        self.patient_due: dict[int, Decimal] = {}
        self.held_for_secondary: dict[int, list[tuple[str, str, Decimal]]] = {}
        self.primary_paid: dict[int, Decimal] = {}
        self.missing_auth: set[str] = set()
        self.first_submitted: datetime.datetime | None = None

    # --- time -------------------------------------------------------------------------------
    def later(self, *, days: int = 0, hours: tuple[int, int] = (8, 18)) -> datetime.datetime:
        """The next event: ``days`` after the current one, on a weekday, within ``hours`` local time.
        Raises ``NotYet`` when that is on or after the cutoff."""
        day = self.now.astimezone(self.ctx.tz).date() + datetime.timedelta(days=days)
        while day.weekday() >= 5:
            day += datetime.timedelta(days=1)
        minute = self.rng.randint(hours[0] * 60, hours[1] * 60 - 1)
        moment = datetime.datetime.combine(day, datetime.time(minute // 60, minute % 60), tzinfo=self.ctx.tz)
        if moment <= self.now:
            moment = self.now + datetime.timedelta(minutes=self.rng.randint(3, 45))
        if moment >= self.ctx.cutoff:
            raise NotYet
        self.now = moment
        return moment

    @contextlib.contextmanager
    def branch(self):
        """A side track (the patient paying) with its own clock; the main track resumes where it was."""
        saved = self.now
        try:
            yield
        except NotYet:
            pass
        finally:
            self.now = saved

    # --- the story --------------------------------------------------------------------------
    def run(self) -> Claim | None:
        try:
            self._tell()
        except NotYet:
            pass
        return self.claim

    def _tell(self) -> None:
        rng, encounter = self.rng, self.encounter
        self._charge_entry()
        if encounter.primary is None:
            self._self_pay()
            return
        if rng.random() < 0.004:
            self._void_duplicate()
            return
        self._copay_at_visit()
        self._scrub()
        if not self._send():
            return
        self._primary_adjudication()

    def _charge_entry(self) -> None:
        rng, encounter, ctx = self.rng, self.encounter, self.ctx
        lag = rng.choices((0, 1, 2, 3, 4), weights=(55, 28, 9, 5, 3))[0]
        at = self.later(days=lag, hours=(9, 19))
        prior_authorization = ""
        if encounter.primary is not None:
            needs_auth = {line.procedure_code for line in encounter.lines} & set(
                encounter.primary.book.profile.prior_auth_codes
            )
            if needs_auth and rng.random() < 0.8:
                prior_authorization = f"PA{rng.randint(10_000_000, 99_999_999)}"
            elif needs_auth:
                self.missing_auth = needs_auth
        self.claim = claim_create(
            practice=ctx.practice, patient=encounter.record.patient,
            coverage=encounter.primary.coverage if encounter.primary else None,
            billing_provider=ctx.billing_provider, rendering_provider=encounter.clinician.provider,
            diagnosis_codes=encounter.diagnoses,
            lines=[
                LineInput(
                    procedure_code=line.procedure_code, units=line.units, modifiers=line.modifiers,
                    charge=ctx.charge_master[line.procedure_code] * line.units,
                    service_date_from=encounter.service_date, diagnosis_pointers=line.pointers,
                )
                for line in encounter.lines
            ],
            prior_authorization=prior_authorization, user=ctx.biller, created_at=at,
        )
        self.lines = list(ClaimLine.objects.filter(claim=self.claim).order_by("line_number"))
        insured = encounter.primary is not None
        for line in self.lines:
            self.insurance_due[line.pk] = line.charge if insured else ZERO
            self.patient_due[line.pk] = ZERO if insured else line.charge

    def _post(self, entries: list[Entry], *, source: str, at: datetime.datetime, reference: str = "",
              user: User | None = None) -> None:
        """Post through the ledger and keep our own per-line dues in step."""
        entries = [entry for entry in entries if entry.amount > 0]
        if not entries:
            return
        ledger_post(claim=self.claim, entries=entries, source=source, source_reference=reference, posted_at=at,
                    user=user)
        for entry in entries:
            pk = entry.line.pk
            if entry.kind == K.TRANSFER_TO_PATIENT:
                self.insurance_due[pk] -= entry.amount
                self.patient_due[pk] += entry.amount
            elif entry.party == Party.PATIENT:
                self.patient_due[pk] -= entry.amount
            else:
                self.insurance_due[pk] -= entry.amount

    def _move(self, status: str, *, reason: str, user: User | None = None) -> None:
        claim_move(claim=self.claim, to_status=status, at=self.now, reason=reason, user=user)

    # --- front desk -------------------------------------------------------------------------
    def _copay_at_visit(self) -> None:
        """Most patients pay their copay at check-in, before the payer has said what they owe: the
        line carries a patient credit until the remittance moves the copay to the patient side."""
        copay = self.encounter.primary.plan.copay
        visit = next((line for line in self.lines if line.procedure_code in OFFICE_VISITS), None)
        if not copay or visit is None or self.rng.random() >= 0.75:
            return
        self._post(
            [Entry(line=visit, kind=K.PATIENT_PAYMENT, party=Party.PATIENT, amount=copay,
                   effective_date=self.encounter.service_date, note="Copay collected at check-in")],
            source=TransactionSource.PAYMENT, at=self.now + datetime.timedelta(minutes=1),
            reference=f"CHK-IN-{self.claim.patient_control_number}",
        )

    def _self_pay(self) -> None:
        """No coverage: the charge sits with the patient from the start; the practice's self-pay discount
        applies and most pay at the visit. There is no payer to submit to, so the claim stays a draft."""
        ctx, rng = self.ctx, self.rng
        at = self.now + datetime.timedelta(minutes=2)
        self._post(
            [Entry(line=line, kind=K.OTHER_ADJUSTMENT, party=Party.PATIENT,
                   amount=money(line.charge * SELF_PAY_DISCOUNT), note="Self-pay discount (practice policy)")
             for line in self.lines],
            source=TransactionSource.USER, at=at, user=ctx.biller,
        )
        roll = rng.random()
        if roll < 0.6:
            self._patient_payment(at=at + datetime.timedelta(minutes=3), share=Decimal("1"))
        elif roll < 0.8:
            with self.branch():
                self._patient_payment(at=self.later(days=rng.randint(15, 60)), share=Decimal("1"))

    def _void_duplicate(self) -> None:
        """A charge entered twice: the duplicate is voided and its charges reversed."""
        self.later(days=self.rng.choice((0, 1)))
        charges = list(Transaction.objects.filter(claim=self.claim, kind=K.CHARGE))
        ledger_post(
            claim=self.claim, source=TransactionSource.USER, posted_at=self.now, user=self.ctx.biller,
            entries=[Entry(line=next(line for line in self.lines if line.pk == charge.line_id), kind=K.REVERSAL,
                           amount=charge.amount, reverses=charge, note="Duplicate charge entry")
                     for charge in charges],
        )
        self._move(S.VOIDED, reason="Duplicate of a claim entered the same day", user=self.ctx.biller)

    # --- billing ----------------------------------------------------------------------------
    def _scrub(self) -> None:
        """Drafts wait for the provider's signature and a coding check; a few wait much longer."""
        roll = self.rng.random()
        if roll < 0.95:
            days, reason = self.rng.choices((0, 1, 2), weights=(50, 35, 15))[0], "Scrubber: no edits"
        elif roll < 0.99:
            days, reason = self.rng.randint(5, 25), "Documentation signed; scrubber: no edits"
        else:
            days, reason = self.rng.randint(60, 220), "Found in a stalled batch; scrubber: no edits"
        self.later(days=days)
        self._move(S.READY, reason=reason, user=self.ctx.biller)

    def _send(self, *, resubmission: bool = False) -> bool:
        """Submit in the evening 837P batch; the payer's 277CA accepts (or rejects) it a day or so later.
        Returns False when the payer never answers (the claim waits for follow-up)."""
        rng, book = self.rng, self.encounter.primary.book
        self.later(days=rng.choice((0, 0, 1)), hours=(17, 20))
        batch = f"837P batch {self.now:%Y%m%d}-{book.payer.payer_id}"
        self._move(S.SUBMITTED, reason=batch, user=self.ctx.biller)
        self.first_submitted = self.first_submitted or self.now
        if not resubmission and rng.random() < 0.025:
            self.later(days=rng.randint(1, 2), hours=(6, 9))
            self._move(S.REJECTED, reason=rng.choice(REJECTIONS))
            self.later(days=rng.randint(1, 6))
            self._move(S.CORRECTED, reason="Fixed the registration data the payer rejected", user=self.ctx.biller)
            self.later(days=0)
            self._move(S.READY, reason="Scrubber: no edits", user=self.ctx.biller)
            return self._send(resubmission=True)
        if rng.random() < 0.004:
            return False  # lost: no acknowledgment, no remittance (the follow-up queue finds it)
        self.later(days=rng.randint(1, 3), hours=(6, 9))
        self._move(S.ACCEPTED, reason="277CA: accepted for adjudication")
        return rng.random() >= 0.005  # a few accepted claims never get an answer

    def _await_remittance(self, book: PayerBook) -> str:
        """Wait the payer's usual time; returns the ERA's trace reference."""
        profile = book.profile
        lag = max(profile.lag_min, round(self.rng.gauss(profile.lag_mean, profile.lag_sd)))
        self.later(days=lag, hours=(7, 11))
        return f"ERA-{book.payer.payer_id}-{self.now:%Y%m%d}"

    def _primary_adjudication(self) -> None:
        rng, encounter = self.rng, self.encounter
        primary = encounter.primary
        profile = primary.book.profile
        trace = self._await_remittance(primary.book)
        carc = None
        if (self.first_submitted.date() - encounter.service_date).days > profile.timely_filing_days:
            carc = "29"
        elif rng.random() < profile.denial_rate:
            causes, weights = zip(*profile.denial_causes, strict=True)
            carc = rng.choices(causes, weights=weights)[0]
        denied: dict[int, str] = {}
        if carc is None:
            denied = {line.pk: "197" for line in self.lines if line.procedure_code in self.missing_auth}
            bundle_prone = [line for line in self.lines[1:] if line.procedure_code in BUNDLE_PRONE]
            if not denied and bundle_prone and rng.random() < profile.bundling_rate:
                denied = {rng.choice(bundle_prone).pk: "97"}
            if len(denied) == len(self.lines):
                carc, denied = next(iter(denied.values())), {}
        if carc is not None:
            self._move(S.DENIED, reason=f"{trace}: CARC {carc} {CARC_DESCRIPTIONS[carc]}")
            self._denied(carc=carc, lines=self.lines)
            self._work_denial(carc)
            return
        paid_lines = [line for line in self.lines if line.pk not in denied]
        to_secondary = encounter.secondary is not None and not denied
        outcomes = self._price(paid_lines, cover=primary, underpay=not denied)
        self.remittance_post(outcomes, book=primary.book, trace=trace, to_secondary=to_secondary)
        if denied:
            codes = ", ".join(sorted(set(denied.values())))
            self._move(S.PARTIALLY_PAID, reason=f"{trace}: lines denied (CARC {codes})")
            denied_lines = [line for line in self.lines if line.pk in denied]
            self._denied(carc=next(iter(denied.values())), lines=denied_lines)
            self._collect_from_patient()
            self._work_line_denial(carc=next(iter(denied.values())), lines=denied_lines)
        elif to_secondary and self.held_for_secondary:
            self._move(S.FORWARDED, reason=f"{trace}: crossed over to {encounter.secondary.book.payer.name}")
            self._secondary()
        else:
            self._move(S.PAID, reason=f"{trace}: paid")
            self._collect_from_patient()

    def _denied(self, *, carc: str, lines: list[ClaimLine]) -> None:
        for hook in self.ctx.on_denial:
            hook(story=self, carc=carc, lines=lines)

    # --- money ------------------------------------------------------------------------------
    def _price(self, lines: list[ClaimLine], *, cover: CoverageRecord, underpay: bool) -> list[LineOutcome]:
        """The payer's allowed amounts (the contract's, sometimes shaved) and the patient's share:
        the visit copay, then the yearly deductible, then coinsurance; preventive care has none."""
        rng, book, plan = self.rng, cover.book, cover.plan
        year = self.encounter.service_date.year
        deductible_left = plan.deductible_in(year) - cover.deductible_met.get(year, ZERO)
        copay_left = plan.copay
        shaved = None
        if underpay and rng.random() < book.profile.underpayment_rate:
            candidates = [line for line in lines if book.allowed[line.procedure_code] >= 20]
            if candidates:
                low, high = book.profile.underpayment_range
                # A fraction like 0.043, drawn in whole tenths of a percent so no float reaches the money.
                fraction = Decimal(rng.randint(round(low * 1000), round(high * 1000))) / 1000
                shaved = (rng.choice(candidates).pk, fraction)
        outcomes = []
        for line in lines:
            expected = book.expected_allowed(procedure_code=line.procedure_code, units=int(line.units))
            allowed = min(expected, line.charge)
            if shaved and shaved[0] == line.pk:
                allowed = money(allowed * (1 - shaved[1]))
            shares, remaining = [], allowed
            if line.procedure_code not in PREVENTIVE:
                if copay_left and line.procedure_code in OFFICE_VISITS:
                    copay = min(copay_left, remaining)
                    copay_left -= copay
                    remaining -= copay
                    shares.append((PatientResponsibility.COPAY, "3", copay))
                else:
                    deductible = min(deductible_left, remaining)
                    deductible_left -= deductible
                    remaining -= deductible
                    shares.append((PatientResponsibility.DEDUCTIBLE, "1", deductible))
                    shares.append((PatientResponsibility.COINSURANCE, "2", money(remaining * plan.coinsurance)))
            shares = [share for share in shares if share[2] > 0]
            outcomes.append(LineOutcome(line=line, allowed=allowed, paid=allowed - sum(s[2] for s in shares),
                                        shares=shares))
        cover.deductible_met[year] = plan.deductible_in(year) - deductible_left
        return outcomes

    def remittance_post(self, outcomes: list[LineOutcome], *, book: PayerBook, trace: str,
                        to_secondary: bool = False) -> None:
        """Post one payer's adjudication: payment, contractual adjustment (CO-45) and the patient's share
        (PR-1/2/3) moved to the patient, or left on the insurance side for the secondary payer."""
        payer_id = book.payer.pk
        entries = []
        for outcome in outcomes:
            line = outcome.line
            entries.append(Entry(line=line, kind=K.INSURANCE_PAYMENT, amount=outcome.paid, payer_id=payer_id))
            entries.append(Entry(line=line, kind=K.CONTRACTUAL_ADJUSTMENT, amount=self.insurance_due[line.pk]
                                 - outcome.allowed, payer_id=payer_id, group_code="CO", reason_code="45"))
            if to_secondary:
                self.held_for_secondary[line.pk] = outcome.shares
                self.primary_paid[line.pk] = outcome.paid
                continue
            entries.extend(
                Entry(line=line, kind=K.TRANSFER_TO_PATIENT, amount=amount, payer_id=payer_id, group_code="PR",
                      reason_code=reason, responsibility=responsibility)
                for responsibility, reason, amount in outcome.shares
            )
        self._post(entries, source=TransactionSource.REMITTANCE, at=self.now, reference=trace)

    def _secondary(self) -> None:
        """The secondary pays what the primary left to the patient: a supplement pays the coinsurance
        (the patient keeps the Part B deductible); Medicaid pays up to its own allowed and the rest is
        contractual (a dual-eligible patient cannot be billed)."""
        secondary = self.encounter.secondary
        book = secondary.book
        trace = self._await_remittance(book)
        payer_id = book.payer.pk
        entries = []
        for line in self.lines:
            shares = self.held_for_secondary.get(line.pk, [])
            owed = sum((amount for _r, _c, amount in shares), ZERO)
            if not owed:
                continue
            if book.profile.pays_full_secondary:
                deductible = sum((a for r, _c, a in shares if r == PatientResponsibility.DEDUCTIBLE), ZERO)
                entries += [
                    Entry(line=line, kind=K.INSURANCE_PAYMENT, amount=owed - deductible, payer_id=payer_id),
                    Entry(line=line, kind=K.TRANSFER_TO_PATIENT, amount=deductible, payer_id=payer_id, group_code="PR",
                          reason_code="1", responsibility=PatientResponsibility.DEDUCTIBLE),
                ]
            else:
                own_allowed = book.expected_allowed(procedure_code=line.procedure_code, units=int(line.units))
                pays = min(owed, max(ZERO, own_allowed - self.primary_paid.get(line.pk, ZERO)))
                entries += [
                    Entry(line=line, kind=K.INSURANCE_PAYMENT, amount=pays, payer_id=payer_id),
                    Entry(line=line, kind=K.CONTRACTUAL_ADJUSTMENT, amount=owed - pays, payer_id=payer_id,
                          group_code="CO", reason_code="45"),
                ]
        self._post(entries, source=TransactionSource.REMITTANCE, at=self.now, reference=trace)
        self._move(S.PAID, reason=f"{trace}: secondary paid")
        self._collect_from_patient()

    def _write_off(self, lines: list[ClaimLine], *, carc: str) -> None:
        """Write off what insurance still owes on ``lines``: a payer denial is never billed to the patient."""
        note = f"CARC {carc}: {CARC_DESCRIPTIONS[carc]}; not billable to the patient"
        self._post(
            [Entry(line=line, kind=K.WRITE_OFF, amount=self.insurance_due[line.pk], group_code="CO",
                   reason_code=carc, note=note) for line in lines],
            source=TransactionSource.USER, at=self.now, user=self.ctx.biller,
        )

    # --- denial work ------------------------------------------------------------------------
    def _work_denial(self, carc: str) -> None:
        """Fix and resubmit what the practice got wrong; appeal what the payer got wrong; write off what
        cannot be recovered. Some denials wait in the queue, unworked."""
        rng, ctx = self.rng, self.ctx
        profile = self.encounter.primary.book.profile
        if rng.random() < 0.06:
            return
        if carc in CORRECTIONS:
            self.later(days=rng.randint(3, 15))
            self._move(S.CORRECTED, reason=CORRECTIONS[carc], user=ctx.biller)
            self.later(days=rng.choice((0, 1)))
            self._move(S.READY, reason="Scrubber: no edits", user=ctx.biller)
            if not self._send(resubmission=True):
                return
            trace = self._await_remittance(self.encounter.primary.book)
            if rng.random() < 0.85:
                self._pay_in_full(trace=trace)
                return
            self._move(S.DENIED, reason=f"{trace}: CARC {carc} {CARC_DESCRIPTIONS[carc]} (again)")
            self._denied(carc=carc, lines=self.lines)
        elif carc in APPEALS:
            self.later(days=rng.randint(5, 25))
            self._move(S.APPEALED, reason=f"First-level appeal sent with {APPEALS[carc]}", user=ctx.biller)
            self.later(days=rng.randint(25, 60), hours=(7, 11))
            if rng.random() < profile.appeal_overturn_rate:
                self._pay_in_full(trace=f"ERA-{self.encounter.primary.book.payer.payer_id}-{self.now:%Y%m%d}")
                return
            self._move(S.DENIED, reason="Appeal upheld by the payer")
        self.later(days=rng.randint(3, 15))
        self._write_off(self.lines, carc=carc)
        self._move(S.WRITTEN_OFF, reason=f"Written off: CARC {carc}", user=ctx.biller)

    def _pay_in_full(self, *, trace: str) -> None:
        """The payer pays after a correction or an overturned appeal (no secondary crossover this late)."""
        outcomes = self._price(self.lines, cover=self.encounter.primary, underpay=False)
        self.remittance_post(outcomes, book=self.encounter.primary.book, trace=trace)
        self._move(S.PAID, reason=f"{trace}: paid")
        self._collect_from_patient()

    def _work_line_denial(self, *, carc: str, lines: list[ClaimLine]) -> None:
        """A denied line on an otherwise paid claim: appeal it (always for a missing authorization), or
        accept the payer's bundling edit and write the line off."""
        rng, ctx = self.rng, self.ctx
        profile = self.encounter.primary.book.profile
        if rng.random() < 0.2:
            return  # small-dollar line denials are the ones billers leave for later
        self.later(days=rng.randint(5, 25))
        if carc == "197" or rng.random() < 0.6:
            self._move(S.APPEALED, reason=f"Appeal of denied lines sent with {APPEALS[carc]}", user=ctx.biller)
            self.later(days=rng.randint(25, 60), hours=(7, 11))
            if rng.random() < profile.appeal_overturn_rate:
                trace = f"ERA-{self.encounter.primary.book.payer.payer_id}-{self.now:%Y%m%d}"
                self.remittance_post(self._price(lines, cover=self.encounter.primary, underpay=False),
                                     book=self.encounter.primary.book, trace=trace)
                self._move(S.PAID, reason=f"{trace}: appeal overturned, lines paid")
                self._collect_from_patient()
                return
            self.later(days=rng.randint(3, 15))
        self._write_off(lines, carc=carc)
        self._move(S.WRITTEN_OFF, reason=f"Denied lines written off: CARC {carc}", user=ctx.biller)

    # --- the patient ------------------------------------------------------------------------
    def _collect_from_patient(self) -> None:
        """After a statement, most patients pay what they owe; some pay part; some have not paid yet."""
        owed = sum((amount for amount in self.patient_due.values() if amount > 0), ZERO)
        if not owed:
            return
        rng = self.rng
        roll = rng.random()
        in_full = 0.7 if owed < 75 else 0.5
        if roll < in_full:
            share = Decimal("1")
        elif roll < in_full + 0.15:
            share = Decimal(rng.randint(30, 60)) / 100
        else:
            return
        with self.branch():
            self._patient_payment(at=self.later(days=rng.randint(10, 75)), share=share)

    def _patient_payment(self, *, at: datetime.datetime, share: Decimal) -> None:
        """Pay ``share`` of what the patient owes, line by line in order."""
        owed = {pk: amount for pk, amount in self.patient_due.items() if amount > 0}
        amount = money(sum(owed.values(), ZERO) * share)
        entries = []
        for line in self.lines:
            if amount <= 0:
                break
            part = min(owed.get(line.pk, ZERO), amount)
            amount -= part
            entries.append(Entry(line=line, kind=K.PATIENT_PAYMENT, party=Party.PATIENT, amount=part,
                                 note=self.rng.choice(PAYMENT_NOTES)))
        self._post(entries, source=TransactionSource.PAYMENT, at=at, user=self.ctx.collections,
                   reference=f"RCPT-{self.claim.patient_control_number}-{at:%m%d}")
