"""The practice's claims, played forward day by day through the services the app itself uses.

A practice works in batches, and so does ``PracticeSimulation``: charges are entered in a few sessions
a day (``claims_create_many``, the visits since the last session); every weekday evening a nightly run
scrubs the claims that are ready
(``claims_scrub``) and submits them in real 837P batches, one per payer (``claims_submit``); the payers'
277CA acknowledgments accept or reject them the next mornings (``claim_transition_many``); each payer
sends one 835 a week on its own weekday, written by ``claims.demo.era`` and imported with ``x12_import``,
so the posting engine posts payments, contractual adjustments, patient responsibility, denials,
remittances and exceptions; secondary balances are billed with ``claims_bill_secondary``; billers work
denials in batches (correct and resubmit with ``claim_transition_many``; appeal with a letter drafted, made
final and marked sent through ``denials.letters`` over the last ``LETTER_MONTHS``; write off with
``denials.services``), and leave each payer's denial whose appeal deadline falls in the two weeks after the
cutoff in the queue (the "deadline soon" highlight); patients' payments are posted once a week
(``ledger_post_many``). What each payer decides (denials, allowed amounts, patient shares, lag, appeal
outcomes) comes from ``devdata.simulator``, which the benchmark data uses too.

Time: every event has a moment before the cutoff (the start of the ``as of`` day); an event that would
fall on or after it has not happened yet, and the claim stays where a real one would be today. Every
service is given the event's moment (``created_at``, ``now``, ``at``, ``posted_at``), so every row is
dated when its event happened.

Determinism: each claim draws from its own generator (seeded by the claim's place in date order), and
events run in a fixed order (moment, kind, key, then the order they were scheduled in).
"""

import dataclasses
import datetime
import heapq
import itertools
import random
import time
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from django.db import transaction

from claims.edi.intake import x12_import
from claims.ledger import Entry, ledger_post, ledger_post_many, money
from claims.models import (
    Claim,
    ClaimLine,
    ClaimStatus,
    Clearinghouse,
    Party,
    Transaction,
    TransactionKind,
    TransactionSource,
)
from claims.queues.selectors import DEADLINE_SOON_DAYS
from claims.scrubber.engine import claims_scrub
from claims.services import ClaimDraft, LineInput, claims_bill_secondary, claims_create_many
from claims.state_machine import claim_transition, claim_transition_many
from claims.submission.batches import claims_submit
from denials.letters import letter_create, letter_finalize, letter_mark_sent
from denials.models import Denial, LetterChannel
from denials.reference import carc_words
from denials.services import AppealPayment, appeal_decide, appeal_file, denial_write_off
from denials.state_machine import OPEN_STATUSES
from devdata.demo.encounters import Encounter
from devdata.demo.era import AckClaim, AckFile, EraClaim, EraFile, EraService, ack_277ca, era_835
from devdata.demo.payers import PayerBook
from devdata.demo.people import CoverageRecord
from devdata.demo.reference import OFFICE_VISITS, draft_wait_days
from devdata.simulator import (
    LineFacts,
    appeal_overturned,
    cents,
    claim_denial,
    corrected_claim_paid,
    denial_cause,
    lines_price,
    payer_terms,
    payment_lag_days,
    secondary_payment,
)
from rcm.models import Practice, Provider, User

S, K = ClaimStatus, TransactionKind
ZERO = Decimal("0.00")
SELF_PAY_DISCOUNT = Decimal("0.35")

CORRECTIONS = {
    "16": "Added the missing referring provider and documentation; resubmitted",
    "27": "Eligibility re-verified; corrected the member ID and resubmitted",
    "18": "Not a duplicate (separate visit); resubmitted with a note",
}
# Denials the payer got wrong, appealed with what the appeal encloses.
APPEALS = {
    "50": "office notes and the clinical guideline supporting medical necessity",
    "197": "retro-authorization request with the office notes",
    "97": "documentation of a separately identifiable visit (modifier 25)",
}
# The practice has sent its appeals as letters from the app (template, PDF, marked sent) for the last
# months before the cutoff; earlier appeals were filed by hand. Each PDF takes a tenth of a second to render,
# so all fifteen months of letters would slow seed_demo by seconds.
LETTER_MONTHS = 8
# How the biller sends an appeal letter to each kind of payer.
LETTER_CHANNELS = {"medicare": LetterChannel.MAIL, "medicaid": LetterChannel.FAX}
# The remark codes (RARC, LQ*HE) payers send with each denial reason.
REMARKS = {
    "16": ["MA130"],
    "27": ["N30"],
    "50": ["N115"],
    "18": ["M86"],
    "29": ["N211"],
    "197": ["N54"],
    "97": ["M15"],
}
REJECTIONS = (
    "277CA A7:164 subscriber ID not found",
    "277CA A7:562 rendering provider NPI not on file with the payer",
    "277CA A3:21 missing or invalid information",
)
PAYMENT_NOTES = ("Card payment (patient portal)", "Check", "Card payment (phone)", "Cash at front desk")
UNMATCHED_RATE = 0.003  # one claim payment in a few hundred carries a claim number we never sent
INTEREST_RATE = 0.01  # prompt-pay interest on a late commercial payment
RECOUPMENT_RATE = 0.12  # a commercial ERA that takes back an old overpayment (PLB WO)
# Charges are entered in sessions (minutes of the day each ends): a visit waits for the next one.
ENTRY_SESSIONS = (12 * 60, 16 * 60, 18 * 60 + 15, 19 * 60)


# --- shared facts ------------------------------------------------------------------------------


@dataclasses.dataclass
class StoryContext:
    """What every claim of one practice shares."""

    practice: Practice
    billing_provider: Provider
    charge_master: dict[str, Decimal]
    cutoff: datetime.datetime
    tz: datetime.tzinfo
    biller: User
    collections: User | None
    books: dict[str, PayerBook]
    seed: int = 0
    # Called as hook(story=..., carc=..., lines=...) when a payer denies a claim or lines of it.
    on_denial: list[Callable[..., None]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class LineOutcome:
    """How a payer adjudicated one line: allowed, paid, and the patient's share by kind."""

    line: ClaimLine
    allowed: Decimal
    paid: Decimal
    shares: list[tuple[str, str, Decimal]]  # (responsibility, CARC 1/2/3, amount)


@dataclasses.dataclass
class Story:
    """One claim's facts as the simulation knows them (never read back unless the database decides)."""

    encounter: Encounter
    rng: random.Random
    claim: Claim | None = None
    lines: list[ClaimLine] = dataclasses.field(default_factory=list)
    missing_auth: set[str] = dataclasses.field(default_factory=set)
    copay_held: Decimal = ZERO
    first_submitted: datetime.date | None = None
    resubmission: bool = False
    secondary: bool = False  # billing the secondary payer now
    reverse_denial: str = ""  # the CARC of a denial the payer reverses when it pays the corrected claim
    denied_again: bool = False
    appeal_paid: bool = False  # the payer overturned the appeal and pays the claim in its next 835
    backlog: bool = False  # denied near the cutoff's appeal window: left in the queue, not worked yet
    carc: str = ""
    denied_lines: dict[int, str] = dataclasses.field(default_factory=dict)
    held: dict[int, list[tuple[str, str, Decimal]]] = dataclasses.field(default_factory=dict)
    primary_paid: dict[int, Decimal] = dataclasses.field(default_factory=dict)
    payer_claim_numbers: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def cover(self) -> CoverageRecord:
        return self.encounter.secondary if self.secondary else self.encounter.primary


# Event kinds, in the order they run when they fall on the same moment.
ENTER, VOID, ACK, ERA, WORK, BILL_SECONDARY, PAYMENTS, NIGHTLY = range(8)
KIND_NAMES = (
    "charge entry",
    "voids",
    "acknowledgments",
    "ERA imports",
    "denial work",
    "secondary billing",
    "patient payments",
    "nightly scrub + 837P",
)


class PracticeSimulation:
    """Runs one practice's encounters forward to the cutoff; ``run`` returns counts for the report."""

    def __init__(
        self,
        *,
        context: StoryContext,
        encounters: list[Encounter],
        rng_for: Callable[[int], random.Random],
        log: Callable[[str], None],
        progress: Callable[[int, int], None] | None = None,
    ):
        self.ctx, self.encounters, self.rng_for, self.log = context, encounters, rng_for, log
        self.progress = progress
        self.queue: list = []
        self.seq = itertools.count()
        self.moment = context.cutoff  # the moment of the event being played
        self.counts: dict[str, int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)  # wall time per kind of event, for the log
        self.era_control = itertools.count(1)
        self.ack_control = itertools.count(1)
        self.clearinghouse: Clearinghouse | None = None
        books = list(context.books.values())
        # Each payer pays once a week on its own weekday (Monday..Friday), at its own minute.
        self.era_weekday = {book.profile.key: index % 5 for index, book in enumerate(books)}
        self.era_minute = {book.profile.key: index for index, book in enumerate(books)}
        self.entered = 0
        self.backlogged: set[str] = set()  # payers with a denial left open near its appeal deadline
        self.letters_from = self.at(_months_back(context.cutoff.date(), LETTER_MONTHS), 0)
        self.terms = {
            key: payer_terms(book, drift_from=_months_back(context.cutoff.date(), book.profile.drift_months))
            for key, book in context.books.items()
        }

    # --- scheduling ---------------------------------------------------------------------------
    def at(self, day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=self.ctx.tz)

    @staticmethod
    def business_day(day: datetime.date, days: int = 0) -> datetime.date:
        day += datetime.timedelta(days=days)
        while day.weekday() >= 5:
            day += datetime.timedelta(days=1)
        return day

    def schedule(self, when: datetime.datetime, kind: int, key, story: Story | None, payload=None) -> None:
        if when >= self.ctx.cutoff:
            return  # not yet: the claim waits where it is
        heapq.heappush(self.queue, (when, kind, str(key), next(self.seq), key, story, payload))

    def nightly(self, story: Story, day: datetime.date, after: datetime.datetime) -> None:
        """The evening run on ``day`` (a weekday), or the first one after ``after``."""
        day = self.business_day(day)
        when = self.at(day, 18, 30)
        while when <= after:
            day = self.business_day(day, 1)
            when = self.at(day, 18, 30)
        self.schedule(when, NIGHTLY, "", story)

    def weekly_payments(self, story: Story, day: datetime.date, payload) -> None:
        """Patient payments are posted in the Friday batch on or after ``day``."""
        friday = day + datetime.timedelta(days=(4 - day.weekday()) % 7)
        self.schedule(self.at(friday, 16), PAYMENTS, "", story, payload)

    def work(self, story: Story, when: datetime.datetime, action: str, reason: str = "") -> None:
        self.schedule(when, WORK, (action, reason), story)

    # --- the loop -----------------------------------------------------------------------------
    def run(self) -> dict[str, int]:
        for encounter in self.encounters:
            story = Story(encounter=encounter, rng=self.rng_for(encounter.index))
            lag = story.rng.choices((0, 1, 2, 3, 4), weights=(55, 28, 9, 5, 3))[0]
            day = self.business_day(encounter.service_date, lag)
            minute = story.rng.randint(9 * 60, 19 * 60 - 1)
            session = next(end for end in ENTRY_SESSIONS if minute < end)
            self.schedule(self.at(day, session // 60, session % 60), ENTER, "", story)
        handlers = {
            ENTER: self._enter,
            VOID: self._void,
            ACK: self._ack,
            ERA: self._era,
            WORK: self._work,
            BILL_SECONDARY: self._bill_secondary,
            PAYMENTS: self._payments,
            NIGHTLY: self._nightly,
        }
        while self.queue:
            week = self.queue[0][0].isocalendar()[:2]
            with transaction.atomic():  # one database transaction per simulated week
                while self.queue and self.queue[0][0].isocalendar()[:2] == week:
                    self._run_next(handlers)
        if self.progress:
            self.progress(len(self.encounters), len(self.encounters))
        self.log(
            "    time by step: "
            + ", ".join(
                f"{name} {seconds:.0f} s"
                for name, seconds in sorted(self.seconds.items(), key=lambda item: -item[1])
            )
        )
        return dict(self.counts)

    def _run_next(self, handlers) -> None:
        """Run the next group of events: those of the same kind and key at the same moment."""
        when, kind, key_text = self.queue[0][:3]
        group, key = [], None
        while self.queue and self.queue[0][:3] == (when, kind, key_text):
            _when, _kind, _text, _seq, key, story, payload = heapq.heappop(self.queue)
            group.append((story, payload))
        self.moment = when
        started = time.perf_counter()
        handlers[kind](group, when, key)
        self.seconds[KIND_NAMES[kind]] += time.perf_counter() - started

    # --- charge entry -------------------------------------------------------------------------
    def _enter(self, group, when, _key) -> None:
        """A charge-entry session: the visits since the last one, entered as one batch."""
        ctx = self.ctx
        drafts = [self._draft(story) for story, _payload in group]
        made = claims_create_many(practice=ctx.practice, drafts=drafts, user=ctx.biller, created_at=when)
        self_pay = []
        for (story, _payload), (claim, lines) in zip(group, made, strict=True):
            story.claim, story.lines = claim, lines
            self.counts["claims"] += 1
            if story.encounter.primary is None:
                self_pay.append(story)
            else:
                self._after_entry(story, when)
            self.entered += 1
            if self.progress and self.entered % 2000 == 0:
                self.progress(self.entered, len(self.encounters))
        self._self_pay(self_pay, when)

    def _draft(self, story: Story) -> ClaimDraft:
        ctx, encounter, rng = self.ctx, story.encounter, story.rng
        prior_authorization = ""
        if encounter.primary is not None:
            needs_auth = {line.procedure_code for line in encounter.lines} & set(
                encounter.primary.book.profile.prior_auth_codes
            )
            if needs_auth and rng.random() < 0.8:
                prior_authorization = f"PA{rng.randint(10_000_000, 99_999_999)}"
            elif needs_auth:
                story.missing_auth = needs_auth
        return ClaimDraft(
            patient=encounter.record.patient,
            coverage=encounter.primary.coverage if encounter.primary else None,
            billing_provider=ctx.billing_provider,
            rendering_provider=encounter.clinician.provider,
            diagnosis_codes=encounter.diagnoses,
            lines=[
                LineInput(
                    procedure_code=line.procedure_code,
                    units=line.units,
                    modifiers=line.modifiers,
                    charge=ctx.charge_master[line.procedure_code] * line.units,
                    service_date_from=encounter.service_date,
                    diagnosis_pointers=line.pointers,
                )
                for line in encounter.lines
            ],
            prior_authorization=prior_authorization,
        )

    def _after_entry(self, story: Story, when: datetime.datetime) -> None:
        encounter, rng = story.encounter, story.rng
        if rng.random() < 0.004:
            self.schedule(self.at(self.business_day(when.date(), 1), 10, 5), VOID, "", story)
            return
        # Most patients pay their copay at check-in: it is held on the account and applied to the visit
        # once the payer says what the patient owes (never before: that would leave a patient credit).
        copay = encounter.primary.plan.copay
        if (
            copay
            and any(line.procedure_code in OFFICE_VISITS for line in story.lines)
            and rng.random() < 0.75
        ):
            story.copay_held = copay
        days = draft_wait_days(rng)
        self.nightly(story, when.date() + datetime.timedelta(days=days + rng.choice((0, 0, 1))), when)

    def _self_pay(self, stories: list[Story], when: datetime.datetime) -> None:
        """No coverage: the charge sits with the patient; the self-pay discount applies and most pay at the
        visit. There is no payer to submit to, so the claim stays a draft (patient A/R)."""
        ctx = self.ctx
        discounts, payments = [], []
        for story in stories:
            rng = story.rng
            self.counts["self_pay"] += 1
            discounts.append(
                (
                    story.claim,
                    [
                        Entry(
                            line=line,
                            kind=K.OTHER_ADJUSTMENT,
                            party=Party.PATIENT,
                            amount=money(line.charge * SELF_PAY_DISCOUNT),
                            note="Self-pay discount (practice policy)",
                        )
                        for line in story.lines
                    ],
                    "",
                )
            )
            roll = rng.random()
            if roll < 0.6:
                payments.append(
                    (
                        story.claim,
                        [
                            Entry(
                                line=line,
                                kind=K.PATIENT_PAYMENT,
                                party=Party.PATIENT,
                                amount=line.charge - money(line.charge * SELF_PAY_DISCOUNT),
                                note=rng.choice(PAYMENT_NOTES),
                            )
                            for line in story.lines
                        ],
                        f"RCPT-{story.claim.patient_control_number}",
                    )
                )
            elif roll < 0.8:
                day = when.date() + datetime.timedelta(days=rng.randint(15, 60))
                self.weekly_payments(story, day, ("pay", Decimal("1"), day))
        for minutes, postings, source, user in (
            (2, discounts, TransactionSource.USER, ctx.biller),
            (5, payments, TransactionSource.PAYMENT, ctx.collections),
        ):
            ledger_post_many(
                postings=postings,
                source=source,
                posted_at=when + datetime.timedelta(minutes=minutes),
                user=user,
                need_ids=False,
            )

    def _void(self, group, when, _key) -> None:
        """A charge entered twice: the duplicate's charges are reversed and the claim voided."""
        for story, _payload in group:
            charges = {t.line_id: t for t in Transaction.objects.filter(claim=story.claim, kind=K.CHARGE)}
            ledger_post(
                claim=story.claim,
                source=TransactionSource.USER,
                posted_at=when,
                user=self.ctx.biller,
                entries=[
                    Entry(
                        line=line,
                        kind=K.REVERSAL,
                        amount=charges[line.pk].amount,
                        reverses=charges[line.pk],
                        note="Duplicate charge entry",
                    )
                    for line in story.lines
                ],
            )
            claim_transition(
                claim=story.claim,
                to_status=S.VOIDED,
                at=when,
                user=self.ctx.biller,
                reason="Duplicate of a claim entered the same day",
            )

    # --- the nightly run ------------------------------------------------------------------------
    def _nightly(self, group, when, _key) -> None:
        """Scrub the claims whose time has come and submit the clean ones in one 837P batch per payer."""
        ctx = self.ctx
        stories = {story.claim.pk: story for story, _payload in group}
        ids = sorted(stories)
        claims_scrub(
            queryset=Claim.objects.filter(pk__in=ids, status__in=[S.DRAFT, S.CORRECTED]),
            user=ctx.biller,
            today=when.date(),
            now=when,
        )
        sent_at = when + datetime.timedelta(minutes=15)
        result = claims_submit(
            practice=ctx.practice,
            claim_ids=ids,
            user=ctx.biller,
            validate=False,
            now=sent_at,
            scrubbed_since=when,
        )
        self.counts["batches"] += len(result.batches)
        self.counts["refused_by_scrubber"] += len(result.refused)
        for claim_id in ids:
            if claim_id in result.refused:
                continue  # scrubber errors: the claim waits on the work queue
            story = stories[claim_id]
            rng = story.rng
            story.first_submitted = story.first_submitted or when.date()
            if not story.resubmission and not story.secondary and rng.random() < 0.025:
                day = self.business_day(when.date(), rng.randint(1, 2))
                self.schedule(self.at(day, 6, 30), ACK, ("reject", rng.choice(REJECTIONS)), story)
            elif rng.random() < 0.004:
                self.counts["lost"] += 1  # no acknowledgment, no remittance (the follow-up queue finds it)
            else:
                day = self.business_day(when.date(), rng.randint(1, 3))
                self.schedule(self.at(day, 6, 30), ACK, ("accept", ""), story)

    def _ack(self, group, when, key) -> None:
        """The clearinghouse's 277CA for the claims it answers at ``when``, imported like any file: each
        claim gets its acknowledgment and moves to accepted or rejected."""
        outcome, reason = key
        status = reason.split()[1] if outcome == "reject" else "A2:20"  # "277CA A7:164 words" -> A7:164
        self._import_277ca([story for story, _payload in group], status, when)
        if outcome == "reject":
            for story, _payload in group:
                day = self.business_day(when.date(), story.rng.randint(1, 6))
                self.work(story, self.at(day, 10), "correct_rejected")
            return
        for story, _payload in group:
            if story.rng.random() < 0.005:
                self.counts["no_answer"] += 1  # accepted, and the payer never answers
                continue
            self._await_remittance(story, story.first_submitted if not story.resubmission else when.date())

    def _import_277ca(self, stories: list[Story], status: str, when: datetime.datetime) -> None:
        practice = self.ctx.practice
        if self.clearinghouse is None:
            self.clearinghouse = Clearinghouse.objects.get(practice=practice)
        ack = AckFile(
            clearinghouse_name=self.clearinghouse.receiver_name,
            clearinghouse_id=self.clearinghouse.receiver_id,
            provider_name=practice.name,
            provider_npi=practice.npi,
            date=when.date(),
            interchange_control_number=next(self.ack_control),
        )
        for story in stories:
            patient = story.encounter.record.patient
            ack.claims.append(
                AckClaim(
                    patient_control_number=story.claim.patient_control_number,
                    status=status,
                    charge=story.claim.charge_total,
                    service_date=story.encounter.service_date,
                    patient_last=patient.last_name,
                    patient_first=patient.first_name,
                    member_id=story.cover.coverage.member_id,
                )
            )
        result = x12_import(
            practice=practice,
            file_name=f"277CA-{when:%Y%m%d}-{ack.interchange_control_number}.277",
            content=ack_277ca(ack),
            source="demo",
            validate=False,
            now=when,
        )
        if not result.applied:
            raise RuntimeError(
                f"The demo 277CA {ack.interchange_control_number} was refused: {result.file.error}"
            )

    def _await_remittance(self, story: Story, submitted: datetime.date) -> None:
        profile = story.cover.book.profile
        lag = payment_lag_days(self.terms[profile.key], story.rng)
        due = max(submitted + datetime.timedelta(days=lag), self.moment.date() + datetime.timedelta(days=1))
        weekday = self.era_weekday[profile.key]
        day = due + datetime.timedelta(days=(weekday - due.weekday()) % 7)
        self.schedule(self.at(day, 7, self.era_minute[profile.key]), ERA, profile.key, story)

    # --- remittances ----------------------------------------------------------------------------
    def _era(self, group, when, payer_key) -> None:
        """The payer's weekly 835: adjudicate each claim, write the file, import it, act on the outcome."""
        ctx = self.ctx
        book = ctx.books[payer_key]
        practice = ctx.practice
        era = EraFile(
            payer_name=book.payer.name,
            payer_id=book.payer.payer_id,
            payer_tax_id=f"{abs(hash_text(book.payer.payer_id)) % 900_000_000 + 100_000_000}",
            payee_name=practice.name,
            payee_npi=practice.npi,
            payee_tax_id=practice.tax_id,
            payment_date=when.date(),
            trace_number=f"{book.payer.payer_id}{when:%y%m%d}",
            interchange_control_number=next(self.era_control),
        )
        stories = []
        backlog = self._deadline_soon(book, when.date())
        for story, _payload in group:
            if (
                backlog
                and story.claim is not None
                and not (story.secondary or story.resubmission or story.appeal_paid or story.reverse_denial)
            ):
                story.backlog, backlog = True, False
                self.backlogged.add(payer_key)
            claims = self._adjudicate(story)
            if story.rng.random() < UNMATCHED_RATE and claims[-1].status_code in ("1", "2"):
                # The payer keyed our claim number wrong: the exceptions queue gets it, the claim waits.
                claims[
                    -1
                ].patient_control_number = f"{int(claims[-1].patient_control_number) + 700_000_000:012d}"
                self.counts["unmatched"] += 1
            else:
                stories.append(story)
            era.claims.extend(claims)
        rng = random.Random(f"{ctx.seed}:{practice.slug}:era:{era.trace_number}")  # noqa: S311 - demo data
        commercial = book.profile.kind == "commercial"
        if commercial and era.claims:
            late = [c for c in era.claims if c.status_code == "1" and c.paid > 0]
            if late and rng.random() < INTEREST_RATE * len(late):
                claim = rng.choice(late)
                claim.interest = money(claim.paid * Decimal(rng.randint(5, 30)) / 1000)
            if rng.random() < RECOUPMENT_RATE and era.payment > 100:
                amount = money(Decimal(rng.randint(1500, 9000)) / 100)
                era.provider_adjustments.append(("WO", f"{rng.randint(10**9, 10**10 - 1)}", amount))
        if not era.claims:
            return
        result = x12_import(
            practice=practice,
            file_name=f"{book.payer.payer_id}-{when:%Y%m%d}.835",
            content=era_835(era),
            source="demo",
            validate=False,
            now=when,
        )
        if not result.applied:
            raise RuntimeError(f"The demo ERA {era.trace_number} was refused: {result.file.error}")
        self.counts["remittances"] += 1
        statuses = dict(
            Claim.objects.filter(pk__in=[s.claim.pk for s in stories]).values_list("pk", "status")
        )
        for story in stories:
            self._after_remittance(story, statuses[story.claim.pk], when)

    def _deadline_soon(self, book: PayerBook, remit_day: datetime.date) -> bool:
        """Whether a denial in this remittance, the payer's first such, would be due for appeal in fewer than
        ``DEADLINE_SOON_DAYS`` days after the cutoff (the queue's "soon" highlight): the one denial per payer
        the demo leaves in the queue."""
        if book.profile.key in self.backlogged:
            return False
        days_left = (remit_day - self.ctx.cutoff.date()).days + book.profile.appeal_limit_days
        return 1 <= days_left < DEADLINE_SOON_DAYS

    def _adjudicate(self, story: Story) -> list[EraClaim]:
        """The payer's decision on the claim, as 835 claim payments. A claim chosen for the backlog is
        denied whole for one of the payer's usual causes."""
        rng, encounter = story.rng, story.encounter
        cover = story.cover
        claims = []
        if story.reverse_denial:
            claims.append(
                self._era_claim(
                    story,
                    "22",
                    adjustments=[("CO", story.reverse_denial, -story.claim.charge_total)],
                    negative=True,
                )
            )
        if story.secondary:
            claims.append(self._secondary_claim(story))
            return claims
        carc, denied = "", {}
        if story.appeal_paid:
            # The appeal was overturned: the payer reprocesses the claim and pays it in this 835 (the
            # denials app moves the denials to overturned when it is posted).
            story.appeal_paid = False
            story.carc, story.denied_lines = "", {}
            outcomes = self.price(
                story.lines, cover=cover, underpay=False, rng=rng, service_date=encounter.service_date
            )
            claims.append(self._era_claim(story, "1", outcomes={o.line.pk: o for o in outcomes}, denied={}))
            return claims
        if story.reverse_denial:
            if not corrected_claim_paid(rng):
                carc, story.denied_again = story.reverse_denial, True
            story.reverse_denial = ""
        elif story.backlog:
            carc = denial_cause(self.terms[cover.book.profile.key], rng)
        else:
            carc, denied = claim_denial(
                terms=self.terms[cover.book.profile.key],
                lines=[(line.pk, line.procedure_code) for line in story.lines],
                days_to_submission=(story.first_submitted - encounter.service_date).days,
                missing_auth=story.missing_auth,
                rng=rng,
            )
        story.carc, story.denied_lines = carc, denied
        if carc:
            claims.append(self._era_claim(story, "4", denied={line.pk: carc for line in story.lines}))
            return claims
        outcomes = self.price(
            [line for line in story.lines if line.pk not in denied],
            cover=cover,
            underpay=not denied,
            rng=rng,
            service_date=encounter.service_date,
        )
        if encounter.secondary is not None:
            for outcome in outcomes:
                story.held[outcome.line.pk] = outcome.shares
                story.primary_paid[outcome.line.pk] = outcome.paid
        claims.append(self._era_claim(story, "1", outcomes={o.line.pk: o for o in outcomes}, denied=denied))
        return claims

    def _payer_claim_number(self, story: Story) -> str:
        key = story.cover.book.profile.key
        if key not in story.payer_claim_numbers:
            story.payer_claim_numbers[key] = (
                f"{story.cover.book.payer.payer_id[:3]}{story.rng.randint(10**10, 10**11 - 1)}"
            )
        return story.payer_claim_numbers[key]

    def _era_claim(
        self, story: Story, status: str, *, outcomes=None, denied=None, adjustments=(), negative: bool = False
    ) -> EraClaim:
        patient = story.encounter.record.patient
        claim = EraClaim(
            patient_control_number=story.claim.patient_control_number,
            status_code=status,
            charge=-story.claim.charge_total if negative else story.claim.charge_total,
            payer_claim_number=self._payer_claim_number(story),
            patient_last=patient.last_name,
            patient_first=patient.first_name,
            member_id=story.cover.coverage.member_id,
            adjustments=list(adjustments),
        )
        if negative:
            return claim
        for line in story.lines:
            service = EraService.unpaid(line)
            if denied and line.pk in denied:
                carc = denied[line.pk]
                service.adjustments = [("CO", carc, line.charge)]
                service.remarks = list(REMARKS.get(carc, []))
            else:
                outcome = outcomes[line.pk]
                service.paid, service.allowed = outcome.paid, outcome.allowed
                if line.charge > outcome.allowed:
                    service.adjustments.append(("CO", "45", line.charge - outcome.allowed))
                service.adjustments += [("PR", code, amount) for _r, code, amount in outcome.shares]
            claim.services.append(service)
        return claim

    def _secondary_claim(self, story: Story) -> EraClaim:
        """The secondary pays what the primary left to the patient: a supplement pays the coinsurance (the
        patient keeps the Part B deductible); Medicaid pays up to its own allowed and the rest is contractual
        (a dual-eligible patient cannot be billed). OA-23 carries the primary's part."""
        book = story.cover.book
        claim = self._era_claim(story, "2", outcomes={}, denied={}, negative=True)
        claim.charge = ZERO
        for line in story.lines:
            shares = story.held.get(line.pk, [])
            owed = sum((amount for _r, _c, amount in shares), ZERO)
            if not owed:
                continue
            claim.charge += line.charge
            service = EraService.unpaid(line)
            paid, deductible, contractual = secondary_payment(
                [(responsibility, code, cents(amount)) for responsibility, code, amount in shares],
                terms=self.terms[book.profile.key],
                line=line_facts(line),
                primary_paid=cents(story.primary_paid.get(line.pk, ZERO)),
            )
            service.paid = dollars(paid)
            adjustments = [
                ("OA", "23", line.charge - owed),
                ("PR", "1", dollars(deductible)),
                ("CO", "45", dollars(contractual)),
            ]
            service.adjustments = [a for a in adjustments if a[2] > 0]
            claim.services.append(service)
        return claim

    def price(
        self,
        lines: list[ClaimLine],
        *,
        cover: CoverageRecord,
        underpay: bool,
        rng: random.Random,
        service_date: datetime.date,
    ) -> list[LineOutcome]:
        """The payer's allowed amounts and the patient's share (``devdata.simulator.lines_price``), in
        dollars; the coverage's deductible met so far follows."""
        plan = cover.plan
        year = service_date.year
        prices, deductible_left = lines_price(
            [line_facts(line) for line in lines],
            terms=self.terms[cover.book.profile.key],
            copay=cents(plan.copay),
            deductible_left=cents(plan.deductible_in(year) - cover.deductible_met.get(year, ZERO)),
            coinsurance=int(plan.coinsurance * 1000),
            underpay=underpay,
            rng=rng,
            service_date=service_date,
        )
        cover.deductible_met[year] = plan.deductible_in(year) - dollars(deductible_left)
        return [
            LineOutcome(
                line=line,
                allowed=dollars(price.allowed),
                paid=dollars(price.paid),
                shares=[
                    (responsibility, code, dollars(amount)) for responsibility, code, amount in price.shares
                ],
            )
            for line, price in zip(lines, prices, strict=True)
        ]

    def _after_remittance(self, story: Story, status: str, when: datetime.datetime) -> None:
        """What the biller does next, from where the posting engine left the claim."""
        rng = story.rng
        day = when.date()
        if status == S.FORWARDED:
            if story.encounter.secondary is None:
                self.counts["forwarded_without_secondary"] += 1
                return
            self.schedule(self.at(self.business_day(day, rng.randint(1, 3)), 11), BILL_SECONDARY, "", story)
        elif status == S.DENIED and story.carc:
            self.counts["denied"] += 1
            self._denied(story, story.carc, story.lines)
            self._work_denial(story, when)
        elif status in (S.PARTIALLY_PAID, S.DENIED):
            # Some lines denied (a denied claim when the other lines paid nothing: all to the deductible).
            lines = [line for line in story.lines if line.pk in story.denied_lines]
            carc = next(iter(story.denied_lines.values()))
            self._denied(story, carc, lines)
            self._collect(story, day)
            if rng.random() < 0.2:
                return  # small-dollar line denials are the ones billers leave for later
            worked = self.at(self.business_day(day, rng.randint(5, 25)), 10, 15)
            if carc == "197" or rng.random() < 0.6:
                self.work(story, worked, "appeal_lines", carc)
            else:
                self.work(story, worked, "write_off", carc)  # accept the payer's bundling edit
        elif status == S.PAID:
            self._collect(story, day)

    def _denied(self, story: Story, carc: str, lines: list[ClaimLine]) -> None:
        for hook in self.ctx.on_denial:
            hook(story=story, carc=carc, lines=lines)

    # --- denial work ------------------------------------------------------------------------------
    def _work_denial(self, story: Story, when: datetime.datetime) -> None:
        """Fix and resubmit what the practice got wrong; appeal what the payer got wrong; write off what
        cannot be recovered. Some denials wait in the queue, unworked."""
        rng, carc, day = story.rng, story.carc, when.date()
        if story.backlog:
            self.counts["denials_near_deadline"] += 1
            return
        if rng.random() < 0.06:
            return
        if carc in CORRECTIONS and not story.denied_again:
            self.work(story, self.at(self.business_day(day, rng.randint(3, 15)), 10), "correct_denied", carc)
        elif carc in APPEALS:
            self.work(story, self.at(self.business_day(day, rng.randint(5, 25)), 10, 15), "appeal", carc)
        else:
            self.work(story, self.at(self.business_day(day, rng.randint(3, 15)), 15), "write_off", carc)

    def _work(self, group, when, key) -> None:
        action, reason = key
        stories = [story for story, _payload in group]
        ids = [story.claim.pk for story in stories]
        biller = self.ctx.biller
        day = when.date()
        if action == "correct_rejected":
            claim_transition_many(
                claim_ids=ids,
                to_status=S.CORRECTED,
                user=biller,
                reason="Fixed the registration data the payer rejected",
                at=when,
            )
            for story in stories:
                story.resubmission = True
                self.nightly(story, day, when)
        elif action == "correct_denied":
            claim_transition_many(
                claim_ids=ids, to_status=S.CORRECTED, user=biller, reason=CORRECTIONS[reason], at=when
            )
            for story in stories:
                story.resubmission, story.reverse_denial = True, reason
                self.nightly(story, day, when)
        elif action in ("appeal", "appeal_lines"):
            what = "Appeal of denied lines" if action == "appeal_lines" else "First-level appeal"
            for story in stories:
                if when >= self.letters_from:
                    self._appeal_letter_send(story, when)
                else:
                    appeal_file(
                        claim=story.claim,
                        user=biller,
                        at=when,
                        note=f"{what} sent with {APPEALS.get(reason, 'the office notes')}",
                    )
            for story in stories:
                decided = self.business_day(day, story.rng.randint(25, 60))
                self.work(story, self.at(decided, 9, 30), "appeal_decision", reason)
        elif action == "appeal_decision":
            self._appeal_decisions(stories, when, reason)
        elif action == "write_off":
            self._write_off(stories, when, reason)
        self.counts[action] += len(stories)

    def _appeal_letter_send(self, story: Story, when: datetime.datetime) -> None:
        """The appeal as the biller files it: a letter drafted from the denial's category template (the
        enclosures it names), made final (PDF) and marked sent, which files the appeal."""
        biller = self.ctx.biller
        denial = Denial.objects.filter(claim=story.claim, status__in=OPEN_STATUSES).order_by("pk").first()
        letter = letter_create(denial=denial, user=biller, at=when)
        letter = letter_finalize(letter=letter, user=biller, at=when)
        channel = LETTER_CHANNELS.get(story.cover.book.profile.kind, LetterChannel.PORTAL)
        letter_mark_sent(letter=letter, sent_on=when.date(), channel=channel, user=biller, at=when)
        self.counts["appeal_letters"] += 1

    def _appeal_decisions(self, stories: list[Story], when: datetime.datetime, carc: str) -> None:
        """The payer's appeal decision letter: overturned appeals are paid (posted from the letter), upheld
        ones go back to denied and are written off."""
        overturned, upheld = [], []
        for story in stories:
            terms = self.terms[story.encounter.primary.book.profile.key]
            (overturned if appeal_overturned(terms, story.rng) else upheld).append(story)
        for story in overturned:
            if story.carc and not story.denied_lines:
                # A whole claim denied: the payer pays it in its next 835, not by decision letter.
                story.appeal_paid = True
                self._await_remittance(story, when.date())
                continue
            lines = [line for line in story.lines if line.pk in story.denied_lines] or story.lines
            outcomes = self.price(
                lines,
                cover=story.encounter.primary,
                underpay=False,
                rng=story.rng,
                service_date=story.encounter.service_date,
            )
            appeal_decide(
                claim=story.claim,
                outcome="overturned",
                payments=[
                    AppealPayment(
                        line=outcome.line,
                        allowed=outcome.allowed,
                        paid=outcome.paid,
                        patient_shares=outcome.shares,
                    )
                    for outcome in outcomes
                ],
                user=self.ctx.biller,
                at=when,
            )
            self._collect(story, when.date())
        for story in upheld:
            appeal_decide(claim=story.claim, outcome="upheld", user=self.ctx.biller, at=when)
            day = self.business_day(when.date(), story.rng.randint(3, 15))
            self.work(story, self.at(day, 15), "write_off", carc)

    def _write_off(self, stories: list[Story], when: datetime.datetime, carc: str) -> None:
        """Write off what insurance still owes: a payer denial is never billed to the patient."""
        note = f"CARC {carc}: {carc_words(carc)}; not billable to the patient"
        for story in stories:
            denial_write_off(claim=story.claim, reason=note, user=self.ctx.biller, at=when)

    # --- secondary ------------------------------------------------------------------------------
    def _bill_secondary(self, group, when, _key) -> None:
        stories = {story.claim.pk: story for story, _payload in group}
        billed, refused = claims_bill_secondary(
            practice=self.ctx.practice, claim_ids=list(stories), user=self.ctx.biller, now=when
        )
        self.counts["secondary_not_billed"] += len(refused)
        self.counts["secondary_billed"] += len(billed)
        for claim_id in billed:
            story = stories[claim_id]
            story.secondary, story.resubmission = True, False
            self.nightly(story, when.date(), when)

    # --- the patient ------------------------------------------------------------------------------
    def _collect(self, story: Story, day: datetime.date) -> None:
        """The claim is settled with insurance: apply the copay held since check-in, send the statement;
        most patients pay what they owe, some pay part, some have not paid yet."""
        rng = story.rng
        if story.copay_held:
            self.weekly_payments(story, day, ("copay", story.copay_held, story.encounter.service_date))
            story.copay_held = ZERO
        roll = rng.random()
        if roll < 0.6:
            share = Decimal("1")
        elif roll < 0.75:
            share = Decimal(rng.randint(30, 60)) / 100
        else:
            return
        paid_on = day + datetime.timedelta(days=rng.randint(10, 75))
        self.weekly_payments(story, paid_on, ("pay", share, paid_on))

    def _payments(self, group, when, _key) -> None:
        """The week's patient payments, posted in one go against what each patient owes now."""
        ids = sorted({story.claim.pk for story, _payload in group})
        owed: dict[int, Decimal] = dict(
            ClaimLine.objects.filter(claim_id__in=ids, removed=False).values_list("pk", "patient_balance")
        )
        postings = []
        for story, (kind, amount_or_share, day) in group:
            open_lines = [line for line in story.lines if owed.get(line.pk, ZERO) > 0]
            total = sum((owed[line.pk] for line in open_lines), ZERO)
            if kind == "copay":
                amount = min(amount_or_share, total)
                visit_first = sorted(open_lines, key=lambda line: line.procedure_code not in OFFICE_VISITS)
                note, reference = (
                    "Copay collected at check-in",
                    f"CHK-IN-{story.claim.patient_control_number}",
                )
            else:
                amount = money(total * amount_or_share)
                visit_first = open_lines
                note, reference = (
                    story.rng.choice(PAYMENT_NOTES),
                    f"RCPT-{story.claim.patient_control_number}-{day:%m%d}",
                )
            entries = []
            for line in visit_first:
                if amount <= 0:
                    break
                part = min(owed[line.pk], amount)
                amount -= part
                owed[line.pk] -= part
                entries.append(
                    Entry(
                        line=line,
                        kind=K.PATIENT_PAYMENT,
                        party=Party.PATIENT,
                        amount=part,
                        effective_date=day,
                        note=note,
                    )
                )
            if entries:
                postings.append((story.claim, entries, reference))
        ledger_post_many(
            postings=postings,
            source=TransactionSource.PAYMENT,
            posted_at=when,
            user=self.ctx.collections,
            need_ids=False,
        )
        self.counts["patient_payments"] += len(postings)


def line_facts(line: ClaimLine) -> LineFacts:
    return LineFacts(key=line.pk, code=line.procedure_code, units=int(line.units), charge=cents(line.charge))


def dollars(amount: int) -> Decimal:
    """Cents from the simulator back to the money the services take."""
    return money(Decimal(amount) / 100)


def hash_text(text: str) -> int:
    """A stable number from text (Python's ``hash`` of a string changes from run to run)."""
    return int.from_bytes(text.encode()[:8].ljust(8, b"0"), "big")


def _months_back(day: datetime.date, months: int) -> datetime.date:
    """The first day of the month ``months`` months before ``day``'s."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return datetime.date(year, month + 1, 1)
