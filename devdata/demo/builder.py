"""Builds the whole demo: users, then each practice through a list of steps.

``demo_build`` creates the demo logins, then runs ``PRACTICE_STEPS`` for each practice in
``claims.demo.practices.PRACTICES``: the practice and its clinicians, payers with contracts and fee
schedules and the charge master, patients with coverage and consents, the encounter plan, and the claims
played forward through the services (``claims.demo.lifecycle``). Features that come later add their own
step (offering payment plans to patients with balances, sending statements...)
after ``claims_step``: a step is a function of the ``PracticeRun``, which carries everything built so far,
and owns its transactions (setup steps are atomic; ``claims_step`` commits once per simulated week).

Determinism: every random draw comes from ``demo_random`` seeded with the ``--seed``, the practice and,
for each claim, the claim's place in date order, and every date derives from ``as_of``. The same seed and
``as_of`` build the same data; adding a step that draws its own numbers does not change the claims.
"""

import dataclasses
import datetime
import random
import time
import zoneinfo
from collections.abc import Callable
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Sum

from claims.ledger import money
from claims.models import Balances, Claim, ClaimStatus, Clearinghouse, MueLimit, NcciPtpEdit, Transaction
from claims.scrubber.ncci import ncci_load_samples
from devdata.demo.accounts import accounts_step
from devdata.demo.encounters import Encounter, encounters_plan
from devdata.demo.lifecycle import PracticeSimulation, StoryContext
from devdata.demo.payers import PayerBook, payers_create
from devdata.demo.people import (
    Clinician,
    PatientFactory,
    PatientRecord,
    demo_users_create,
    memberships_create,
    practice_create,
    providers_create,
)
from devdata.demo.plans import PlanPayer, demo_plans_create, demo_reminders_play
from devdata.demo.practices import PRACTICES, PracticeSpec
from devdata.demo.reference import PROCEDURES
from kpis.selectors import revenue_cycle_costs
from kpis.services import kpi_snapshots_compute, revenue_cycle_cost_set
from rcm.audit import audit_context, audit_record
from rcm.models import AuditAction, ChargeMasterEntry, Practice, Provider, User
from rcm.practice_cache import changes_deferred

WINDOW_MONTHS = 15
PROGRESS_EVERY = 2000


@dataclasses.dataclass(frozen=True)
class DemoOptions:
    seed: int
    claims: int
    as_of: datetime.date


def demo_random(*parts) -> random.Random:
    """The demo's only source of randomness: a private generator seeded from ``parts`` (a string seed is
    hashed the same way on every run and platform). Never the global ``random``."""
    return random.Random(":".join(str(part) for part in parts))  # noqa: S311 - demo data, not security


def months_before(day: datetime.date, months: int) -> datetime.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return datetime.date(year, month + 1, min(day.day, 28))


@dataclasses.dataclass
class PracticeRun:
    """One practice being built: the options, the rows created so far, and the in-memory facts later
    steps need (payer books, patient records, the encounter plan)."""

    spec: PracticeSpec
    options: DemoOptions
    users: dict[str, User]
    log: Callable[[str], None]
    claims_target: int
    rng: random.Random
    tz: zoneinfo.ZoneInfo
    window_start: datetime.date
    window_end: datetime.date
    cutoff: datetime.datetime
    started: float = dataclasses.field(default_factory=time.monotonic)
    practice: Practice | None = None
    billing_provider: Provider | None = None
    clinicians: list[Clinician] = dataclasses.field(default_factory=list)
    books: dict[str, PayerBook] = dataclasses.field(default_factory=dict)
    charge_master: dict[str, Decimal] = dataclasses.field(default_factory=dict)
    patients: list[PatientRecord] = dataclasses.field(default_factory=list)
    encounters: list[Encounter] = dataclasses.field(default_factory=list)
    on_denial: list[Callable[..., None]] = dataclasses.field(default_factory=list)
    plan_payers: list[PlanPayer] = dataclasses.field(default_factory=list)
    counts: dict[str, int] = dataclasses.field(default_factory=dict)
    summary: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def start(
        cls,
        *,
        spec: PracticeSpec,
        options: DemoOptions,
        users: dict[str, User],
        claims_target: int,
        log: Callable[[str], None],
    ) -> "PracticeRun":
        tz = zoneinfo.ZoneInfo("America/New_York")
        return cls(
            spec=spec,
            options=options,
            users=users,
            log=log,
            claims_target=claims_target,
            rng=demo_random(options.seed, spec.slug, "setup"),
            tz=tz,
            window_start=months_before(options.as_of, WINDOW_MONTHS),
            window_end=options.as_of - datetime.timedelta(days=1),
            # Data runs through the evening before ``as_of``: nothing is dated after the moment it is built.
            cutoff=datetime.datetime.combine(options.as_of, datetime.time(0, 0), tzinfo=tz),
        )

    def moment(self, day: datetime.date, hour: int = 9) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time(hour), tzinfo=self.tz)


# --- steps ---------------------------------------------------------------------------------------


@transaction.atomic
def practice_step(run: PracticeRun) -> None:
    """The practice, its members (the demo logins), its clinicians and its clearinghouse (EDI identities)."""
    founded = run.moment(run.window_start.replace(year=run.window_start.year - 6, day=1))
    run.practice = practice_create(spec=run.spec, rng=run.rng, created_at=founded)
    memberships_create(practice=run.practice, spec=run.spec, users=run.users, at=founded)
    run.billing_provider, run.clinicians = providers_create(practice=run.practice, spec=run.spec, rng=run.rng)
    clearinghouse = Clearinghouse(
        practice=run.practice,
        name="Availity (demo)",
        submitter_name=run.spec.name.upper()[:60],
        submitter_id=f"RCM{run.practice.npi[-7:]}",
        contact_name="Billing Office",
        contact_phone=f"{run.spec.area_code}5550100",
        receiver_name="AVAILITY LLC",
        receiver_id="030240928",
        production=True,
    )
    clearinghouse.full_clean(exclude=["practice"], validate_unique=False, validate_constraints=False)
    clearinghouse.save()
    run.counts["providers"] = 1 + len(run.clinicians)


@transaction.atomic
def payers_step(run: PracticeRun) -> None:
    """Payers with contracts and fee schedules, and the practice's charge master."""
    contracts_from = datetime.date(run.window_start.year - 2, 1, 1)
    run.books = payers_create(
        practice=run.practice, profiles=run.spec.payers, rng=run.rng, contracts_from=contracts_from
    )
    entries = [
        ChargeMasterEntry(practice=run.practice, procedure_code=code, description=description, charge=charge)
        for code, (_medicare, charge, description) in PROCEDURES.items()
    ]
    entries[0].full_clean(exclude=["practice"], validate_unique=False, validate_constraints=False)
    ChargeMasterEntry.objects.bulk_create(entries)
    run.charge_master = {entry.procedure_code: entry.charge for entry in entries}
    run.counts.update(payers=len(run.books), charge_master_entries=len(entries))


@transaction.atomic
def patients_step(run: PracticeRun) -> None:
    """About one patient per 2.5 claims, up to the practice's panel size (2,000 at Riverside)."""
    factory = PatientFactory(
        practice=run.practice,
        spec=run.spec,
        rng=run.rng,
        books=run.books,
        clinicians=run.clinicians,
        window_start=run.window_start,
        as_of=run.options.as_of,
        tz=run.tz,
    )
    factory.build(count=max(40, min(run.spec.max_patients, round(run.claims_target / 2.5))))
    run.counts.update(factory.save())
    run.patients = factory.records


def encounters_step(run: PracticeRun) -> None:
    run.encounters = encounters_plan(
        records=run.patients,
        clinicians=run.clinicians,
        count=run.claims_target,
        rng=run.rng,
        start=run.window_start,
        end=run.window_end,
        pediatric=run.spec.pediatric,
    )


def ncci_step(run: PracticeRun) -> None:
    """The scrubber's NCCI edits: the sample PTP and MUE tables, unless a table is loaded already."""
    if not NcciPtpEdit.objects.exists() and not MueLimit.objects.exists():
        with transaction.atomic():
            ncci_load_samples()


def claims_step(run: PracticeRun) -> None:
    """The encounters' claims, played forward day by day through the services (``claims.demo.lifecycle``);
    one database transaction per simulated week."""
    context = StoryContext(
        practice=run.practice,
        billing_provider=run.billing_provider,
        charge_master=run.charge_master,
        cutoff=run.cutoff,
        tz=run.tz,
        biller=run.users["biller"],
        collections=run.users["collections"] if "collections" in run.spec.members else None,
        books=run.books,
        seed=run.options.seed,
        on_denial=run.on_denial,
    )

    def progress(done: int, total: int) -> None:
        run.log(f"  {run.spec.slug}: {done:,} / {total:,} claims ({time.monotonic() - run.started:.0f} s)")

    simulation = PracticeSimulation(
        context=context,
        encounters=run.encounters,
        log=run.log,
        progress=progress,
        rng_for=lambda index: demo_random(run.options.seed, run.spec.slug, "claim", index),
    )
    run.counts.update(simulation.run())


def kpis_step(run: PracticeRun) -> None:
    """The KPI snapshots of every day of the demo's window, so the manager's dashboard (12 months of
    trend and the period before) shows the demo's numbers at once; the nightly task keeps them current."""
    started = time.monotonic()
    rows = kpi_snapshots_compute(practice=run.practice, start=run.window_start, end=run.window_end)
    run.counts["kpi_snapshots"] = rows
    days = (run.window_end - run.window_start).days + 1
    run.log(f"  {run.spec.slug}: KPI snapshots for {days} days ({time.monotonic() - started:.1f} s)")


def costs_step(run: PracticeRun) -> None:
    """The manager's revenue-cycle cost of each month the demo covers whole (and the month to date), about
    3% of the month's cash, so the dashboard shows a cost to collect. After the snapshots: it reads their
    cash."""
    rng = demo_random(run.options.seed, run.spec.slug, "costs")
    manager = run.users["manager"] if "manager" in run.spec.members else None
    for row in revenue_cycle_costs(run.practice, end_month=run.window_end):
        if row.month < run.window_start or not row.cash:
            continue
        cost = money(row.cash * Decimal(rng.randint(250, 350)) / 10000)
        revenue_cycle_cost_set(
            practice=run.practice, month=row.month, amount=cost, user=manager, today=run.window_end
        )


def payment_plans_step(run: PracticeRun) -> None:
    """Payment plans for patients who owe (every plan state), made before the accounts step bills the rest,
    and their payments up to the reminder days (``devdata.demo.plans``)."""
    started = time.monotonic()
    user = run.users["collections"] if "collections" in run.spec.members else None
    rng = demo_random(run.options.seed, run.spec.slug, "plans")
    counts, run.plan_payers = demo_plans_create(
        practice=run.practice, as_of=run.options.as_of, user=user, rng=rng
    )
    run.counts.update(counts)
    run.log(
        f"  {run.spec.slug}: {counts['payment_plans']} payment plans ({time.monotonic() - started:.1f} s)"
    )


def reminders_step(run: PracticeRun) -> None:
    """The last days played after the statements: plan payments as they fall due, and the daily reminder
    job, so plans turn delinquent and defaulted and reminders land in the outbox (``var/mail/``, the SMS
    file) and the patient log."""
    started = time.monotonic()
    user = run.users["collections"] if "collections" in run.spec.members else None
    rng = demo_random(run.options.seed, run.spec.slug, "reminders")
    run.counts.update(
        demo_reminders_play(
            practice=run.practice, as_of=run.options.as_of, payers=run.plan_payers, user=user, rng=rng
        )
    )
    run.log(f"  {run.spec.slug}: payment plans and reminders ({time.monotonic() - started:.1f} s)")


PRACTICE_STEPS: list[Callable[[PracticeRun], None]] = [
    practice_step,
    payers_step,
    patients_step,
    encounters_step,
    ncci_step,
    claims_step,
    payment_plans_step,
    accounts_step,
    reminders_step,
    kpis_step,
    costs_step,
]


# --- the whole demo ------------------------------------------------------------------------------


def practice_summary(practice: Practice) -> dict:
    """Claims per status (every status listed, in life-cycle order), money totals and row counts."""
    by_status = dict(
        Claim.objects.filter(practice=practice).values_list("status").annotate(n=Count("id")).order_by()
    )
    totals = Claim.objects.filter(practice=practice).aggregate(**{b: Sum(b) for b in Balances.BUCKETS})
    return {
        "claims": sum(by_status.values()),
        "claims_by_status": {status: by_status.get(status, 0) for status in ClaimStatus.values},
        "transactions": Transaction.objects.filter(practice=practice).count(),
        # SQLite sums decimals as floats: round back to cents for the report.
        "totals": {bucket: str(money(str(value or 0))) for bucket, value in totals.items()},
    }


def demo_claim_split(*, claims: int) -> list[int]:
    """Claims per practice: each secondary practice gets its share, the main practice the rest."""
    others = [round(claims * spec.claim_share) for spec in PRACTICES[1:]]
    return [claims - sum(others), *others]


def demo_build(*, options: DemoOptions, log: Callable[[str], None] = print) -> list[PracticeRun]:
    """Create the demo logins and both practices with 15 months of history up to ``options.as_of``.

    Guarantees: audit logging of individual rows is off (one summary ``create`` event per practice is
    written instead); cached practice aggregates are renewed once at the end (``changes_deferred``); claims
    and money go through the services only (``claims_create_many``, ``claims_scrub``, ``claims_submit``,
    ``claim_transition_many``, ``x12_import`` of generated 835s, ``claims_bill_secondary``,
    ``ledger_post_many``); the same options build the same data. The caller checks that no demo data
    exists yet."""
    runs = []
    with audit_context(user=None, source="command", enabled=False), changes_deferred():
        with transaction.atomic():
            users = demo_users_create()
        for spec, target in zip(PRACTICES, demo_claim_split(claims=options.claims), strict=True):
            run = PracticeRun.start(spec=spec, options=options, users=users, claims_target=target, log=log)
            for step in PRACTICE_STEPS:
                step(run)
            run.summary = practice_summary(run.practice)
            run.counts.update(claims=run.summary["claims"], transactions=run.summary["transactions"])
            audit_record(
                action=AuditAction.CREATE,
                practice=run.practice,
                object_type="claims.claim",
                changes={
                    "seed_demo": {
                        "seed": options.seed,
                        "as_of": options.as_of.isoformat(),
                        **run.counts,
                        "claims_by_status": run.summary["claims_by_status"],
                    }
                },
            )
            runs.append(run)
    return runs
