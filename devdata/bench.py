"""Large synthetic data for benchmarks: practices, patients, coverages, claims with their whole life
(ledger, status history, remittances, denials), written through bulk paths.

``bench_data_build`` makes ``claims`` claims (about 2.5 lines each) spread over ``practices`` practices
and ``months`` months of dates of service, with the demo's payers (``devdata.demo.payers``) deciding
as in the demo (``devdata.simulator``: payment lag, denial rates and causes, line edits, underpayment,
copays, deductibles and coinsurance, secondary payment, appeal outcomes) and the same story per claim
as the demo's
``ClaimStory`` (scrub, submit, reject and correct, adjudicate, deny and appeal or write off, cross
over to the secondary, patient payments), cut off at ``as_of``: recent claims are still drafts,
ready or submitted; older ones are paid, denied, appealed or written off.

Unlike the demo it does not call the services one claim at a time (that is ~100 claims/s; a million
would take hours). It plays the story in memory, in integer cents, and writes rows straight to the
tables: PostgreSQL ``COPY`` (psycopg 3) or, elsewhere, batched ``INSERT``. The rows still obey the
app's invariants, by construction:

- every ledger row's effect on the cached buckets comes from ``claims.ledger.EFFECTS`` (reversals
  negate the original's), so each line's and claim's cached balances equal what ``ledger_check``
  derives from the ledger;
- every status change is a move allowed by ``claims.state_machine.TRANSITIONS`` (checked as the
  story is played: an illegal move raises) and has its ``ClaimStatusChange`` row;
- remittance postings reference their ``RemittanceClaim`` the way ERA posting does
  (``claims.posting.ref_for``), so a later 835 reversal finds them;
- ``NumberSequence`` rows are moved past every number handed out, so the services never collide.

Determinism: one ``random.Random`` per practice seeded from ``seed``; the same options make the
same data (ids aside, which follow what the tables already hold).
"""

import dataclasses
import datetime
import hashlib
import json
import random
import time
from collections import defaultdict
from collections.abc import Callable

from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from claims.ledger import EFFECTS
from claims.models import (
    Balances,
    Claim,
    ClaimLine,
    ClaimStatus,
    ClaimStatusChange,
    Clearinghouse,
    Remittance,
    RemittanceAdjustment,
    RemittanceClaim,
    RemittanceLine,
    Transaction,
    X12File,
)
from claims.state_machine import TRANSITIONS
from denials.models import Denial
from denials.reference import carc_words, root_cause_default
from devdata.bench_plans import bench_plans_build
from devdata.demo.payers import RIVERSIDE_PAYERS, payers_create
from devdata.demo.people import npi_generate
from devdata.demo.reference import (
    ACUTE_ADULT,
    ACUTE_CHILD,
    CHRONIC_CONDITIONS,
    FEMALE_FIRST,
    LAST_NAMES,
    MALE_FIRST,
    MINOR_PROCEDURES,
    OFFICE_VISITS,
    PROCEDURES,
    STREET_NAMES,
    draft_wait_days,
)
from devdata.simulator import (
    LineFacts,
    PayerTerms,
    appeal_overturned,
    cents,
    claim_denial,
    corrected_claim_paid,
    lines_price,
    part,
    payer_terms,
    payment_lag_days,
    secondary_payment,
)
from rcm.models import (
    ChargeMasterEntry,
    Coverage,
    Membership,
    NumberSequence,
    Patient,
    Practice,
    Provider,
    ProviderRole,
    User,
)
from rcm.roles import Role

S = ClaimStatus
BUCKETS = Balances.BUCKETS
BUCKET_INDEX = {name: i for i, name in enumerate(BUCKETS)}
# (kind, party) -> [(bucket index, sign)], from the ledger's own table.
EFFECT_INDEX = {key: [(BUCKET_INDEX[b], s) for b, s in effect.items()] for key, effect in EFFECTS.items()}

BENCH_PASSWORD = "bench-password-1"  # noqa: S105 - benchmark logins on a benchmark database
BENCH_USERS = {
    "bench-biller": Role.BILLER,
    "bench-manager": Role.MANAGER,
    "bench-collections": Role.COLLECTIONS,
    "bench-admin": Role.ADMIN,
}
SLUG_PREFIX = "bench-"

CORRECTABLE = frozenset({"16", "27", "18"})
APPEALABLE = frozenset({"50", "197", "97"})
REJECTIONS = (
    "277CA A7:164 subscriber ID not found",
    "277CA A7:562 rendering provider NPI not on file",
    "277CA A3:21 missing or invalid information",
)
SCRUB_ERROR = json.dumps(
    [
        {
            "rule": "diagnosis_pointer",
            "severity": "error",
            "line": 1,
            "message": "The line points at no diagnosis.",
            "hint": "Point the line at a diagnosis.",
        }
    ]
)
EXTRA_CODES = (
    "36415",
    "85025",
    "80053",
    "80061",
    "83036",
    "81002",
    "87880",
    "87804",
    "93000",
    "94640",
    "96127",
    "99406",
    "90471",
    "90686",
    "90715",
    "20610",
    "11102",
    "17000",
    "69210",
)
VISITS = ("99212", "99213", "99214", "99215", "99203", "99204")
VISIT_WEIGHTS = (12, 40, 28, 6, 8, 6)
LINE_COUNTS = (1, 2, 3, 4, 5)
LINE_WEIGHTS = (25, 30, 25, 12, 8)  # mean 2.48 lines a claim
DIAGNOSES = tuple(CHRONIC_CONDITIONS) + tuple(code for code, _w, _p in ACUTE_ADULT + ACUTE_CHILD)
CITIES = (("Columbus", "OH", "432"), ("Dayton", "OH", "454"), ("Toledo", "OH", "436"), ("Akron", "OH", "443"))


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


@dataclasses.dataclass(frozen=True)
class BenchOptions:
    claims: int
    practices: int = 1
    seed: int = 1
    as_of: datetime.date | None = None
    months: int = 24
    remittance_detail: bool = True  # RemittanceLine / RemittanceAdjustment rows as well as RemittanceClaim
    # Stop every story once the claim is submitted and accepted (claims waiting for an ERA: the 835
    # posting benchmark pays them), in practices named ``slug_prefix``NNN.
    stop_after_submission: bool = False
    slug_prefix: str = "bench-"


# --- writing rows --------------------------------------------------------------------------------


class Table:
    """One table's columns, in the order rows are built; model fields not listed get their default."""

    def __init__(self, model: type[models.Model], columns: tuple[str, ...]):
        self.model, self.columns = model, columns
        by_column = {f.column: f for f in model._meta.concrete_fields if not f.generated}
        unknown = set(columns) - set(by_column)
        if unknown:
            raise ValueError(f"{model._meta.db_table} has no columns {sorted(unknown)}")
        self.fields = [by_column[c] for c in columns]
        extra = []
        for column, field in by_column.items():
            if column in columns:
                continue
            value = field.get_default()  # "" for a text field without a default
            if value is None and not field.null:
                raise ValueError(
                    f"bench data does not fill {model._meta.db_table}.{column} and it has no default"
                )
            extra.append((field, value))
        self.extra_fields = [f for f, _v in extra]
        self.extra_values = tuple(
            json.dumps(v) if isinstance(f, models.JSONField) and v is not None else v for f, v in extra
        )
        self.all_columns = list(columns) + [f.column for f in self.extra_fields]
        self.all_fields = self.fields + self.extra_fields
        self.name = model._meta.db_table


class Sink:
    """Collects rows per table and writes them in batches."""

    flush_rows = 50_000

    def __init__(self):
        self.buffers: dict[str, list[tuple]] = defaultdict(list)
        self.tables: dict[str, Table] = {}
        self.counts: dict[str, int] = defaultdict(int)

    def add(self, table: Table, row: tuple) -> None:
        buffer = self.buffers[table.name]
        buffer.append(row)
        if len(buffer) >= self.flush_rows:
            self.tables[table.name] = table
            self.flush(table)

    def flush(self, table: Table) -> None:
        rows = self.buffers[table.name]
        if rows:
            self.write(table, rows)
            self.counts[table.name] += len(rows)
            self.buffers[table.name] = []

    def flush_all(self, tables: list[Table]) -> None:
        for table in tables:  # in dependency order (parents first)
            self.flush(table)

    def write(self, table: Table, rows: list[tuple]) -> None:
        raise NotImplementedError

    def drain(self) -> None:
        """Wait until everything written so far is in the database."""

    def close(self) -> None:
        pass


class CopySink(Sink):
    """PostgreSQL: COPY ... FROM STDIN in text format, built here (faster than adapting each value) and
    sent by a writer thread on its own connection, so the server loads one batch while Python makes
    the next (the machine has two cores: one each). Each COPY commits on its own."""

    flush_rows = 100_000

    def __init__(self):
        import queue
        import threading

        import psycopg

        super().__init__()
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        self.conn = psycopg.connect(**params, autocommit=True)
        with self.conn.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if cursor.fetchone()[0]:
                # Skip the foreign-key triggers in this session: the rows reference what was just made
                # (``bench_check`` verifies it), and a check per row would triple the load time.
                cursor.execute("SET session_replication_role = replica")
        self.queue: queue.Queue = queue.Queue(maxsize=3)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="bench-copy", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            try:
                if item is None:
                    return
                if self.error is None:
                    sql, text = item
                    with self.conn.cursor() as cursor, cursor.copy(sql) as copy:
                        copy.write(text)
            except BaseException as exc:  # handed to the main thread at its next write or drain
                self.error = exc
            finally:
                self.queue.task_done()

    def _raise(self) -> None:
        if self.error is not None:
            raise RuntimeError(f"COPY failed: {self.error}") from self.error

    def write(self, table: Table, rows: list[tuple]) -> None:
        self._raise()
        extra = table.extra_values
        text = "".join(
            "\t".join(
                "\\N" if v is None else ("t" if v is True else "f" if v is False else str(v))
                for v in row + extra
            )
            + "\n"
            for row in rows
        )
        self.queue.put((f"COPY {table.name} ({', '.join(table.all_columns)}) FROM STDIN", text))

    def drain(self) -> None:
        self.queue.join()
        self._raise()

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        self.conn.close()


class InsertSink(Sink):
    """Any other database (SQLite for tests): executemany INSERT with values prepared by the fields."""

    flush_rows = 5_000

    def write(self, table: Table, rows: list[tuple]) -> None:
        quote = connection.ops.quote_name
        sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in table.all_columns)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(table.all_columns))})"
        )
        fields = table.all_fields
        prepared = []
        for row in rows:
            values = []
            for field, value in zip(fields, row + table.extra_values, strict=True):
                if value is not None and isinstance(field, models.JSONField):
                    value = json.loads(value)
                values.append(
                    field.get_db_prep_save(
                        field.to_python(value)
                        if value is not None and not isinstance(field, models.JSONField)
                        else value,
                        connection,
                    )
                )
            prepared.append(values)
        with connection.cursor() as cursor:
            cursor.executemany(sql, prepared)


PATIENT = Table(
    Patient,
    (
        "id",
        "practice_id",
        "account_number",
        "first_name",
        "middle_name",
        "last_name",
        "date_of_birth",
        "sex",
        "address_line1",
        "address_line2",
        "city",
        "state",
        "postal_code",
        "phone",
        "email",
        "preferred_language",
        "time_zone",
        "guarantor_id",
        "guarantor_relationship",
        "created_at",
    ),
)
COVERAGE = Table(
    Coverage,
    (
        "id",
        "practice_id",
        "patient_id",
        "payer_id",
        "priority",
        "member_id",
        "group_number",
        "relationship",
        "subscriber_first_name",
        "subscriber_last_name",
        "subscriber_date_of_birth",
        "subscriber_sex",
        "effective_date",
        "end_date",
    ),
)
CLAIM = Table(
    Claim,
    (
        "id",
        "practice_id",
        "patient_id",
        "coverage_id",
        "payer_id",
        "billing_provider_id",
        "rendering_provider_id",
        "place_of_service",
        "frequency_code",
        "original_claim_id",
        "prior_authorization",
        "patient_control_number",
        "payer_claim_number",
        "diagnosis_codes",
        "status",
        "status_changed_at",
        "service_date",
        "created_at",
        "created_by_id",
        "first_submitted_at",
        "last_submitted_at",
        "adjudicated_at",
        "first_adjudicated_at",
        "first_adjudication_status",
        "scrub_status",
        "scrubbed_at",
        "scrub_findings",
        "assigned_to_id",
        "underpaid_amount",
        "secondary_pending",
        "edited_after_scrub",
        *BUCKETS,
    ),
)
LINE = Table(
    ClaimLine,
    (
        "id",
        "practice_id",
        "claim_id",
        "line_number",
        "procedure_code",
        "modifiers",
        "units",
        "charge",
        "service_date_from",
        "service_date_to",
        "diagnosis_pointers",
        "line_control_number",
        "removed",
        *BUCKETS,
    ),
)
TRANSACTION = Table(
    Transaction,
    (
        "id",
        "practice_id",
        "claim_id",
        "line_id",
        "kind",
        "party",
        "amount",
        "effective_date",
        "posted_at",
        "posted_by_id",
        "source",
        "source_reference",
        "payer_id",
        "group_code",
        "reason_code",
        "remark_codes",
        "responsibility",
        "note",
        "reverses_id",
    ),
)
STATUS_CHANGE = Table(
    ClaimStatusChange, ("id", "practice_id", "claim_id", "from_status", "to_status", "at", "by_id", "reason")
)
X12_FILE = Table(
    X12File,
    (
        "id",
        "practice_id",
        "kind",
        "file_name",
        "content",
        "sha256",
        "received_at",
        "source",
        "status",
        "error",
    ),
)
REMITTANCE = Table(
    Remittance,
    (
        "id",
        "practice_id",
        "x12_file_id",
        "payer_id",
        "payer_name",
        "payer_identifier",
        "trace_number",
        "handling_code",
        "payment_method",
        "payment_amount",
        "payment_date",
        "production_date",
        "payee_name",
        "payee_npi",
        "payee_tax_id",
        "posted_payments",
        "claim_count",
        "exception_count",
        "status",
        "received_at",
    ),
)
REMITTANCE_CLAIM = Table(
    RemittanceClaim,
    (
        "id",
        "remittance_id",
        "claim_id",
        "patient_control_number",
        "status_code",
        "charge",
        "paid",
        "patient_responsibility",
        "payer_claim_number",
        "posted",
        "position",
    ),
)
REMITTANCE_LINE = Table(
    RemittanceLine,
    (
        "id",
        "remittance_claim_id",
        "claim_line_id",
        "procedure_code",
        "modifiers",
        "charge",
        "paid",
        "allowed",
        "expected_allowed",
        "units",
        "service_date",
        "match_reason",
    ),
)
REMITTANCE_ADJUSTMENT = Table(
    RemittanceAdjustment,
    ("id", "remittance_claim_id", "remittance_line_id", "group_code", "reason_code", "amount"),
)
DENIAL = Table(
    Denial,
    (
        "id",
        "practice_id",
        "claim_id",
        "line_id",
        "remittance_claim_id",
        "group_code",
        "reason_code",
        "remark_codes",
        "amount",
        "status",
        "created_at",
        "status_changed_at",
        "category",
        "owner",
        "preventable",
        "remit_date",
        "appeal_deadline",
    ),
)

# Parents before children: the order rows are flushed in.
TABLES = [
    PATIENT,
    COVERAGE,
    CLAIM,
    LINE,
    X12_FILE,
    REMITTANCE,
    REMITTANCE_CLAIM,
    REMITTANCE_LINE,
    REMITTANCE_ADJUSTMENT,
    TRANSACTION,
    STATUS_CHANGE,
    DENIAL,
]
BIG_TABLES = [
    PATIENT,
    COVERAGE,
    CLAIM,
    LINE,
    TRANSACTION,
    STATUS_CHANGE,
    REMITTANCE_CLAIM,
    REMITTANCE_LINE,
    REMITTANCE_ADJUSTMENT,
    DENIAL,
]


class Ids:
    """Primary keys handed out here, above what each table holds (the sequences are reset after)."""

    def __init__(self, tables: list[Table]):
        self.next: dict[str, int] = {}
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"SELECT MAX(id) FROM {connection.ops.quote_name(table.name)}")  # noqa: S608
                self.next[table.name] = (cursor.fetchone()[0] or 0) + 1

    def take(self, table: Table) -> int:
        value = self.next[table.name]
        self.next[table.name] = value + 1
        return value


# --- time ---------------------------------------------------------------------------------------

MINUTES_A_DAY = 1440


class Clock:
    """Moments as whole minutes from day 0 (date.toordinal() days), formatted once per day."""

    def __init__(self):
        self._days: dict[int, str] = {}

    def day(self, ordinal: int) -> str:
        text = self._days.get(ordinal)
        if text is None:
            text = self._days[ordinal] = datetime.date.fromordinal(ordinal).isoformat()
        return text

    def at(self, minute: int) -> str:
        day, rest = divmod(minute, MINUTES_A_DAY)
        return f"{self.day(day)} {rest // 60:02d}:{rest % 60:02d}:00+00:00"


class NotYet(Exception):
    """The next event of the story falls after the cutoff."""


# --- the practice's fixed data ------------------------------------------------------------------


@dataclasses.dataclass
class CoverageFacts:
    coverage_id: int
    terms: PayerTerms
    copay: int
    deductibles: dict[int, int]
    default_deductible: int
    coinsurance: int  # per mille
    deductible_met: dict[int, int] = dataclasses.field(default_factory=dict)

    def deductible_in(self, year: int) -> int:
        return self.deductibles.get(year, self.default_deductible)


@dataclasses.dataclass
class PatientFacts:
    patient_id: int
    age: int
    primary: CoverageFacts | None
    secondary: CoverageFacts | None


def bench_users() -> dict[str, User]:
    """The benchmark logins (one per role), created once; password ``BENCH_PASSWORD``."""
    users = {}
    password = None
    for username in BENCH_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            password = password or make_password(BENCH_PASSWORD)
            user = User.objects.create(
                username=username,
                password=password,
                first_name=username.split("-")[1].title(),
                last_name="Bench",
            )
        users[username] = user
    return users


def _practice_setup(
    *,
    number: int,
    rng: random.Random,
    users: dict[str, User],
    contracts_from: datetime.date,
    slug_prefix: str = SLUG_PREFIX,
):
    slug = f"{slug_prefix}{number:03d}"
    practice = Practice.objects.create(
        name=f"Bench Practice {number:03d}" if slug_prefix == SLUG_PREFIX else f"Bench {slug}",
        slug=slug,
        npi=npi_generate(rng=rng),
        tax_id=f"{rng.randint(10, 99)}{rng.randint(1000000, 9999999)}",
        address_line1=f"{number} Benchmark Way",
        city="Columbus",
        state="OH",
        postal_code="432151234",
        phone="614-555-0100",
    )
    Membership.objects.bulk_create(
        [Membership(user=users[name], practice=practice, role=role) for name, role in BENCH_USERS.items()]
    )
    group = Provider.objects.create(
        practice=practice,
        last_name=practice.name,
        is_organization=True,
        npi=npi_generate(rng=rng),
        taxonomy_code="207Q00000X",
        role=ProviderRole.BILLING,
    )
    clinicians = Provider.objects.bulk_create(
        [
            Provider(
                practice=practice,
                first_name=rng.choice(FEMALE_FIRST + MALE_FIRST),
                last_name=rng.choice(LAST_NAMES),
                credentials=rng.choice(("MD", "DO", "NP", "PA-C")),
                npi=npi_generate(rng=rng),
                taxonomy_code="207Q00000X",
                role=ProviderRole.RENDERING,
            )
            for _ in range(8)
        ]
    )
    books = payers_create(
        practice=practice, profiles=RIVERSIDE_PAYERS, rng=rng, contracts_from=contracts_from
    )
    ChargeMasterEntry.objects.bulk_create(
        [
            ChargeMasterEntry(practice=practice, procedure_code=code, description=words, charge=charge)
            for code, (_medicare, charge, words) in PROCEDURES.items()
        ]
    )
    Clearinghouse.objects.create(
        practice=practice,
        name="Bench Clearinghouse",
        submitter_name=practice.name[:60],
        submitter_id=f"BENCH{number:03d}",
        contact_name="Bench Biller",
        contact_phone="6145550100",
        receiver_name="BENCH CLEARINGHOUSE",
        receiver_id="BENCHCH",
    )
    return practice, group, clinicians, {key: payer_terms(book) for key, book in books.items()}


# --- the claim story ----------------------------------------------------------------------------


class PracticeBuilder:
    """Builds one practice's patients and claims into ``sink``."""

    def __init__(
        self,
        *,
        practice,
        group,
        clinicians,
        terms: dict[str, PayerTerms],
        users,
        ids: Ids,
        sink: Sink,
        clock: Clock,
        rng: random.Random,
        options: BenchOptions,
        first_day: int,
        cutoff_day: int,
    ):
        self.practice, self.group, self.clinicians, self.terms = practice, group, clinicians, terms
        self.pid = practice.pk
        self.biller = users["bench-biller"].pk
        self.collections = users["bench-collections"].pk
        self.ids, self.sink, self.clock, self.rng, self.options = ids, sink, clock, rng, options
        self.first_day, self.cutoff_day = first_day, cutoff_day
        self.cutoff = cutoff_day * MINUTES_A_DAY
        self.charges = {code: cents(charge) for code, (_m, charge, _w) in PROCEDURES.items()}
        self.remittances: dict[tuple[int, int], list] = {}
        self.claim_number = 0
        self.x12_hash_seed = f"{practice.slug}:{options.seed}"

    # patients ---------------------------------------------------------------------------------
    def _coverage(
        self,
        patient_id: int,
        terms: PayerTerms,
        priority: int,
        effective: int,
        first: str,
        last: str,
        dob: str,
        sex: str,
    ) -> CoverageFacts:
        rng = self.rng
        plan = rng.choices(terms.plans, weights=terms.plan_weights)[0]
        coverage_id = self.ids.take(COVERAGE)
        member = f"{terms.edi_id[:3]}{rng.randint(100000000, 999999999)}"
        self.sink.add(
            COVERAGE,
            (
                coverage_id,
                self.pid,
                patient_id,
                terms.payer_id,
                priority,
                member,
                f"G{rng.randint(1000, 9999)}" if terms.key not in ("medicare", "medicaid") else "",
                "18",
                first,
                last,
                dob,
                sex,
                self.clock.day(effective),
                None,
            ),
        )
        return CoverageFacts(
            coverage_id=coverage_id,
            terms=terms,
            copay=cents(plan.copay),
            deductibles={year: cents(amount) for year, amount in plan.yearly_deductibles},
            default_deductible=cents(plan.deductible),
            coinsurance=int(plan.coinsurance * 1000),
        )

    def patients_create(self, count: int, first_number: int) -> list[PatientFacts]:
        rng, clock, terms = self.rng, self.clock, self.terms
        registered_from = self.first_day - 400
        people = []
        for number in range(first_number, first_number + count):
            patient_id = self.ids.take(PATIENT)
            roll = rng.random()
            age = (
                rng.randint(0, 17)
                if roll < 0.2
                else rng.randint(18, 64)
                if roll < 0.75
                else rng.randint(65, 92)
            )
            sex = "F" if rng.random() < 0.53 else "M"
            first = rng.choice(FEMALE_FIRST if sex == "F" else MALE_FIRST)
            last = rng.choice(LAST_NAMES)
            dob_ordinal = self.cutoff_day - age * 365 - rng.randint(0, 364)
            dob = clock.day(dob_ordinal)
            city, state, zip3 = rng.choice(CITIES)
            registered = rng.randint(registered_from, self.first_day)
            self.sink.add(
                PATIENT,
                (
                    patient_id,
                    self.pid,
                    f"A{number:07d}",
                    first,
                    rng.choice("ABCDEFGHJKLMNPRSTW"),
                    last,
                    dob,
                    sex,
                    f"{rng.randint(100, 9999)} {rng.choice(STREET_NAMES)}",
                    "",
                    city,
                    state,
                    f"{zip3}{rng.randint(10, 99)}",
                    f"614-555-{rng.randint(100, 199):04d}",
                    f"{first.lower()}.{last.lower().replace(chr(39), '')}@example.com",
                    "English",
                    "America/New_York",
                    None,
                    "",
                    clock.at(registered * MINUTES_A_DAY + 600),
                ),
            )
            effective = registered - rng.randint(0, 700)
            primary = secondary = None
            if age >= 65:
                primary = self._coverage(patient_id, terms["medicare"], 1, effective, first, last, dob, sex)
                if rng.random() < 0.2:
                    key = "medicaid" if rng.random() < 0.3 else "summit"
                    secondary = self._coverage(patient_id, terms[key], 2, effective, first, last, dob, sex)
            else:
                roll = rng.random()
                key = (
                    "medicaid"
                    if roll < 0.18
                    else "summit"
                    if roll < 0.53
                    else "keystone"
                    if roll < 0.78
                    else "crestline"
                    if roll < 0.95
                    else None
                )
                if key is not None:
                    primary = self._coverage(patient_id, terms[key], 1, effective, first, last, dob, sex)
            people.append(PatientFacts(patient_id=patient_id, age=age, primary=primary, secondary=secondary))
        return people

    # claims -----------------------------------------------------------------------------------
    def claims_create(self, patients: list[PatientFacts], count: int) -> None:
        rng = self.rng
        span = self.cutoff_day - self.first_day
        # Dates of service: weekdays, a few Saturdays; the story runs in date order so deductibles fill in
        # turn.
        days = sorted(self.first_day + rng.randrange(span) for _ in range(count))
        for day in days:
            if datetime.date.fromordinal(day).weekday() == 6:
                day -= 1
            ClaimPlay(self, rng.choice(patients), day).play()

    def remittance_for(self, terms: PayerTerms, day: int) -> list:
        """The day's ERA from ``terms``' payer: [id, paid cents, claim count, next position]."""
        key = (terms.payer_id, day)
        remit = self.remittances.get(key)
        if remit is None:
            remit = self.remittances[key] = [self.ids.take(REMITTANCE), 0, 0, 0, terms]
        return remit

    def remittances_write(self) -> None:
        clock = self.clock
        for (_payer_id, day), (remit_id, paid, claims, _position, terms) in sorted(self.remittances.items()):
            file_id = self.ids.take(X12_FILE)
            trace = f"EFT{terms.edi_id}{day}"
            at = clock.at(day * MINUTES_A_DAY + 480)
            sha = hashlib.sha256(f"{self.x12_hash_seed}:{trace}".encode()).hexdigest()
            self.sink.add(
                X12_FILE,
                (
                    file_id,
                    self.pid,
                    "835",
                    f"{trace}.835",
                    "(generated by bench_data)",
                    sha,
                    at,
                    "sftp",
                    "applied",
                    "",
                ),
            )
            self.sink.add(
                REMITTANCE,
                (
                    remit_id,
                    self.pid,
                    file_id,
                    terms.payer_id,
                    terms.payer_name,
                    terms.edi_id,
                    trace,
                    "I",
                    "ACH",
                    _money(paid),
                    clock.day(day),
                    clock.day(day),
                    self.practice.name[:120],
                    self.practice.npi,
                    self.practice.tax_id,
                    _money(paid),
                    claims,
                    0,
                    "posted",
                    at,
                ),
            )


@dataclasses.dataclass
class LineState:
    line_id: int
    number: int
    code: str
    units: int
    charge: int
    buckets: list[int]


class ClaimPlay:
    """One claim's story, played forward to the cutoff (the demo's ``ClaimStory``, in cents)."""

    def __init__(self, builder: PracticeBuilder, patient: PatientFacts, day: int):
        self.b, self.patient, self.dos = builder, patient, day
        self.rng = builder.rng
        self.now = day * MINUTES_A_DAY + 540
        self.status = S.DRAFT
        self.history: list[tuple] = []
        self.first_submitted = self.last_submitted = self.adjudicated = None
        self.first_adjudicated, self.first_adjudication = None, ""
        self.status_changed = None
        self.scrub_status, self.scrubbed_at, self.findings = "", None, "[]"
        self.edited_after_scrub = False
        self.underpaid = 0
        self.secondary_pending = False
        self.payer_claim_number = ""
        self.assigned_to = None
        self.txn_ids: dict[int, tuple] = {}

    # helpers ----------------------------------------------------------------------------------
    def later(self, days: int = 0, hours: tuple[int, int] = (8, 18)) -> int:
        day = self.now // MINUTES_A_DAY + days
        minute = day * MINUTES_A_DAY + self.rng.randint(hours[0] * 60, hours[1] * 60 - 1)
        self.now = max(minute, self.now + 1)
        if self.now >= self.b.cutoff:
            raise NotYet
        return self.now

    def move(self, to_status: str, reason: str, by=None) -> None:
        if to_status not in TRANSITIONS[self.status]:
            raise ValueError(f"bench data tried {self.status} -> {to_status}")
        self.b.sink.add(
            STATUS_CHANGE,
            (
                self.b.ids.take(STATUS_CHANGE),
                self.b.pid,
                self.claim_id,
                self.status,
                to_status,
                self.b.clock.at(self.now),
                by,
                reason,
            ),
        )
        self.status, self.status_changed = to_status, self.now
        if to_status == S.SUBMITTED:
            self.last_submitted = self.now
            self.first_submitted = self.first_submitted or self.now
        if to_status in (S.PAID, S.PARTIALLY_PAID, S.DENIED, S.FORWARDED):
            self.adjudicated = self.now
            if self.first_adjudicated is None:
                self.first_adjudicated, self.first_adjudication = self.now, to_status

    def post(
        self,
        line: LineState,
        kind: str,
        party: str,
        amount: int,
        *,
        source: str,
        reference: str = "",
        payer_id=None,
        group: str = "",
        reason: str = "",
        responsibility: str = "",
        note: str = "",
        by=None,
        reverses: int | None = None,
        at: int | None = None,
    ) -> int | None:
        if amount <= 0:
            return None
        b = self.b
        txn_id = b.ids.take(TRANSACTION)
        if reverses is not None:
            original_kind, original_party = self.txn_ids[reverses]
            effect = [(i, -s) for i, s in EFFECT_INDEX[(original_kind, original_party)]]
            party = original_party
        else:
            effect = EFFECT_INDEX[(kind, party)]
            self.txn_ids[txn_id] = (kind, party)
        for index, sign in effect:
            line.buckets[index] += sign * amount
        at = self.now if at is None else at
        b.sink.add(
            TRANSACTION,
            (
                txn_id,
                b.pid,
                self.claim_id,
                line.line_id,
                kind,
                party,
                _money(amount),
                b.clock.day(at // MINUTES_A_DAY),
                b.clock.at(at),
                by,
                source,
                reference,
                payer_id,
                group,
                reason,
                "[]",
                responsibility,
                note,
                reverses,
            ),
        )
        return txn_id

    # the story --------------------------------------------------------------------------------
    def play(self) -> None:
        b, rng, patient = self.b, self.rng, self.patient
        b.claim_number += 1
        self.claim_id = b.ids.take(CLAIM)
        self.pcn = f"{b.pid:03d}{b.claim_number:09d}"
        self.coverage = patient.primary
        self._lines()
        lag = rng.choices((0, 1, 2, 3, 4), weights=(55, 28, 9, 5, 3))[0]
        self.now = min(self.dos + lag, b.cutoff_day - 1) * MINUTES_A_DAY + rng.randint(540, 1139)
        self.created = self.now
        self.status_changed = self.now
        party = "insurance" if self.coverage else "patient"
        for line in self.lines:
            line.charge_txn = self.post(
                line,
                "charge",
                party,
                line.charge,
                source="charge_entry",
                reference=self.pcn,
                by=b.biller,
                at=self.now,
            )
        try:
            self._tell()
        except NotYet:
            pass
        self._write()

    def _lines(self) -> None:
        b, rng = self.b, self.rng
        count = rng.choices(LINE_COUNTS, weights=LINE_WEIGHTS)[0]
        visit = rng.choices(VISITS, weights=VISIT_WEIGHTS)[0]
        codes = [visit] + rng.sample(EXTRA_CODES, count - 1)
        diagnoses = rng.sample(DIAGNOSES, rng.choice((1, 1, 2, 2, 3, 4)))
        self.diagnoses = json.dumps(diagnoses)
        has_minor = any(code in MINOR_PROCEDURES for code in codes)
        self.lines = []
        day = b.clock.day(self.dos)
        for number, code in enumerate(codes, 1):
            units = 1
            charge = b.charges[code]
            modifiers = '["25"]' if number == 1 and has_minor else "[]"
            pointers = "[1, 2]" if len(diagnoses) > 1 and number == 1 else "[1]"
            line = LineState(b.ids.take(LINE), number, code, units, charge, [0] * 7)
            line.row = [
                line.line_id,
                b.pid,
                self.claim_id,
                number,
                code,
                modifiers,
                "1.000",
                _money(charge),
                day,
                day,
                pointers,
                f"{self.pcn}-{number}",
                False,
            ]
            self.lines.append(line)
        self.missing_auth = set()
        self.prior_authorization = ""
        if self.patient.primary is not None:
            needs = {code for code in codes} & self.patient.primary.terms.prior_auth_codes
            if needs and rng.random() < 0.8:
                self.prior_authorization = f"PA{rng.randint(10_000_000, 99_999_999)}"
            elif needs:
                self.missing_auth = needs

    def _tell(self) -> None:
        rng = self.rng
        if self.coverage is None:
            self._self_pay()
            return
        if rng.random() < 0.004:
            self._void_duplicate()
            return
        self._copay_at_visit()
        self._scrub()
        if not self._send():
            return
        if self.b.options.stop_after_submission:
            return
        self._primary_adjudication()

    def _copay_at_visit(self) -> None:
        copay = self.coverage.copay
        visit = next((line for line in self.lines if line.code in OFFICE_VISITS), None)
        if copay and visit is not None and self.rng.random() < 0.75:
            self.post(
                visit,
                "patient_payment",
                "patient",
                copay,
                source="payment",
                by=self.b.collections,
                reference=f"CHK-IN-{self.pcn}",
                note="Copay collected at check-in",
                at=self.now + 1,
            )

    def _self_pay(self) -> None:
        at = self.now + 2
        for line in self.lines:
            self.post(
                line,
                "other_adjustment",
                "patient",
                part(line.charge, 35, 100),
                source="user",
                by=self.b.biller,
                note="Self-pay discount (practice policy)",
                at=at,
            )
        if self.rng.random() < 0.6:
            self._patient_payment(at + 3, 1, 1)

    def _void_duplicate(self) -> None:
        self.later(days=self.rng.choice((0, 1)))
        for line in self.lines:
            self.post(
                line,
                "reversal",
                "",
                line.charge,
                source="user",
                reverses=line.charge_txn,
                by=self.b.biller,
                note="Duplicate charge entry",
            )
        self.move(S.VOIDED, "Duplicate of a claim entered the same day", by=self.b.biller)

    def _scrub(self) -> None:
        rng = self.rng
        days = draft_wait_days(rng)
        if rng.random() < 0.04:
            # The scrubber stops it first; someone fixes it a few days later (the scrub-errors queue).
            at = self.now
            self.scrub_status, self.scrubbed_at, self.findings = "errors", at, SCRUB_ERROR
            if rng.random() < 0.3:
                self.assigned_to = self.b.biller
            self.later(days=days + rng.randint(1, 6))
            self.edited_after_scrub = True
        else:
            self.later(days=days)
        self.scrub_status, self.scrubbed_at, self.findings = "clean", self.now, "[]"
        self.move(S.READY, "Scrubber: no edits", by=self.b.biller)

    def _send(self, resubmission: bool = False) -> bool:
        rng, terms = self.rng, self.coverage.terms
        self.later(days=rng.choice((0, 0, 1)), hours=(17, 20))
        day = self.b.clock.day(self.now // MINUTES_A_DAY).replace("-", "")
        self.move(S.SUBMITTED, f"837P batch {day}-{terms.edi_id}", by=self.b.biller)
        if not resubmission and rng.random() < 0.025:
            self.later(days=rng.randint(1, 2), hours=(6, 9))
            self.move(S.REJECTED, rng.choice(REJECTIONS))
            if rng.random() < 0.3:
                self.assigned_to = self.b.biller
            self.later(days=rng.randint(1, 6))
            self.move(S.CORRECTED, "Corrected the registration data the payer rejected", by=self.b.biller)
            self.later()
            self.move(S.READY, "Scrubber: no edits", by=self.b.biller)
            return self._send(resubmission=True)
        if rng.random() < 0.004:
            return False
        self.later(days=rng.randint(1, 3), hours=(6, 9))
        self.move(S.ACCEPTED, "277CA: accepted for adjudication")
        return rng.random() >= 0.005

    def _await(self, terms: PayerTerms) -> None:
        self.later(days=payment_lag_days(terms, self.rng), hours=(7, 11))

    def _primary_adjudication(self) -> None:
        rng, coverage = self.rng, self.coverage
        terms = coverage.terms
        self._await(terms)
        carc, denied = claim_denial(
            terms=terms,
            lines=[(line.line_id, line.code) for line in self.lines],
            days_to_submission=self.first_submitted // MINUTES_A_DAY - self.dos,
            missing_auth=self.missing_auth,
            rng=rng,
        )
        carc = carc or None
        self.payer_claim_number = self.payer_claim_number or f"{terms.edi_id}{self.claim_id:010d}"
        if carc is not None:
            self._remit(terms, [], denied_lines=self.lines, carc=carc, status_code="4")
            self.move(S.DENIED, f"ERA {terms.payer_name}: CARC {carc} ({carc_words(carc)})")
            self._work_denial(carc)
            return
        paid_lines = [line for line in self.lines if line.line_id not in denied]
        denied_lines = [line for line in self.lines if line.line_id in denied]
        to_secondary = self.patient.secondary is not None and not denied
        outcomes = self._price(paid_lines, underpay=not denied)
        self._remit(
            terms,
            outcomes,
            denied_lines=denied_lines,
            carc=next(iter(denied.values()), ""),
            hold_for_secondary=to_secondary,
        )
        if denied:
            self.move(S.PARTIALLY_PAID, f"ERA {terms.payer_name}: lines denied")
            self._collect_from_patient()
            self._work_line_denial(next(iter(denied.values())), denied_lines)
        elif to_secondary and any(self.held.values()):
            self.move(S.FORWARDED, f"ERA {terms.payer_name}: crossed over to the secondary")
            self.secondary_pending = True
            self._secondary()
        else:
            self.move(S.PAID, f"ERA {terms.payer_name}: paid")
            self._collect_from_patient()

    def _price(self, lines: list[LineState], underpay: bool) -> list[tuple]:
        """(line, allowed, paid, shares [(responsibility, carc, cents)], expected) per line, from
        ``devdata.simulator.lines_price``; an underpayment past the contracts' $1.00 tolerance is noted."""
        coverage = self.coverage
        year = datetime.date.fromordinal(self.dos).year
        prices, deductible_left = lines_price(
            [LineFacts(line.line_id, line.code, line.units, line.charge) for line in lines],
            terms=coverage.terms,
            copay=coverage.copay,
            deductible_left=coverage.deductible_in(year) - coverage.deductible_met.get(year, 0),
            coinsurance=coverage.coinsurance,
            underpay=underpay,
            rng=self.rng,
        )
        coverage.deductible_met[year] = coverage.deductible_in(year) - deductible_left
        outcomes = []
        for line, price in zip(lines, prices, strict=True):
            short = price.expected - price.allowed
            if short > 100:
                self.underpaid += short
            outcomes.append((line, price.allowed, price.paid, price.shares, price.expected))
        return outcomes

    def _remit(
        self,
        terms: PayerTerms,
        outcomes: list[tuple],
        *,
        denied_lines=(),
        carc: str = "",
        status_code: str = "1",
        hold_for_secondary: bool = False,
    ) -> None:
        """One CLP on the day's ERA from ``terms``' payer, and its postings (as ERA posting writes them)."""
        b = self.b
        day = self.now // MINUTES_A_DAY
        remit = b.remittance_for(terms, day)
        rc_id = b.ids.take(REMITTANCE_CLAIM)
        reference = f"remit-claim:{rc_id}"
        paid_total = sum(o[2] for o in outcomes)
        pr_total = 0 if hold_for_secondary else sum(s[2] for o in outcomes for s in o[3])
        charge_total = sum(o[0].charge for o in outcomes) + sum(line.charge for line in denied_lines)
        remit[1] += paid_total
        remit[2] += 1
        remit[3] += 1
        b.sink.add(
            REMITTANCE_CLAIM,
            (
                rc_id,
                remit[0],
                self.claim_id,
                self.pcn,
                status_code,
                _money(charge_total),
                _money(paid_total),
                _money(pr_total),
                self.payer_claim_number,
                True,
                remit[3],
            ),
        )
        detail = b.options.remittance_detail
        self.held = {}
        for line, allowed, paid, shares, expected in outcomes:
            contractual = line.buckets[5] - allowed
            self.post(
                line,
                "insurance_payment",
                "insurance",
                paid,
                source="remittance",
                reference=reference,
                payer_id=terms.payer_id,
            )
            self.post(
                line,
                "contractual_adjustment",
                "insurance",
                contractual,
                source="remittance",
                reference=reference,
                payer_id=terms.payer_id,
                group="CO",
                reason="45",
            )
            if hold_for_secondary:
                self.held[line.line_id] = shares
            else:
                for responsibility, reason, amount in shares:
                    self.post(
                        line,
                        "transfer_to_patient",
                        "insurance",
                        amount,
                        source="remittance",
                        reference=reference,
                        payer_id=terms.payer_id,
                        group="PR",
                        reason=reason,
                        responsibility=responsibility,
                    )
            if detail:
                rl_id = b.ids.take(REMITTANCE_LINE)
                b.sink.add(
                    REMITTANCE_LINE,
                    (
                        rl_id,
                        rc_id,
                        line.line_id,
                        line.code,
                        line.row[5],
                        _money(line.charge),
                        _money(paid),
                        _money(allowed),
                        _money(expected),
                        "1.000",
                        b.clock.day(self.dos),
                        "REF*6R line control number",
                    ),
                )
                if contractual > 0:
                    b.sink.add(
                        REMITTANCE_ADJUSTMENT,
                        (b.ids.take(REMITTANCE_ADJUSTMENT), rc_id, rl_id, "CO", "45", _money(contractual)),
                    )
                for _responsibility, reason, amount in shares:
                    b.sink.add(
                        REMITTANCE_ADJUSTMENT,
                        (b.ids.take(REMITTANCE_ADJUSTMENT), rc_id, rl_id, "PR", reason, _money(amount)),
                    )
        cause = root_cause_default(carc) if denied_lines else None
        for line in denied_lines:
            rl_id = None
            if detail:
                rl_id = b.ids.take(REMITTANCE_LINE)
                b.sink.add(
                    REMITTANCE_LINE,
                    (
                        rl_id,
                        rc_id,
                        line.line_id,
                        line.code,
                        line.row[5],
                        _money(line.charge),
                        "0.00",
                        None,
                        None,
                        "1.000",
                        b.clock.day(self.dos),
                        "REF*6R line control number",
                    ),
                )
                b.sink.add(
                    REMITTANCE_ADJUSTMENT,
                    (b.ids.take(REMITTANCE_ADJUSTMENT), rc_id, rl_id, "CO", carc, _money(line.charge)),
                )
            b.sink.add(
                DENIAL,
                (
                    b.ids.take(DENIAL),
                    b.pid,
                    self.claim_id,
                    line.line_id,
                    rc_id,
                    "CO",
                    carc,
                    "[]",
                    _money(line.buckets[5]),
                    "new",
                    b.clock.at(self.now),
                    b.clock.at(self.now),
                    cause.category,
                    cause.owner,
                    cause.preventable,
                    b.clock.day(self.now // MINUTES_A_DAY),
                    # The bench contracts keep the default 180-day appeal limit.
                    b.clock.day(self.now // MINUTES_A_DAY + 180),
                ),
            )

    def _secondary(self) -> None:
        secondary = self.patient.secondary
        terms = secondary.terms
        self.later(days=self.rng.randint(2, 10))
        # Billing the secondary (claim_bill_secondary): nothing was transferred to the patient, so the
        # claim simply goes back to ready with the secondary coverage, and out again.
        self.secondary_pending = False
        self.coverage = secondary
        self.move(S.READY, f"billing the secondary: {terms.payer_name}", by=self.b.biller)
        self.later(days=self.rng.choice((0, 1)), hours=(17, 20))
        self.move(S.SUBMITTED, f"837P batch (secondary) {terms.edi_id}", by=self.b.biller)
        self._await(terms)
        b = self.b
        day = self.now // MINUTES_A_DAY
        remit = b.remittance_for(terms, day)
        rc_id = b.ids.take(REMITTANCE_CLAIM)
        reference = f"remit-claim:{rc_id}"
        paid_total = pr_total = charge_total = 0
        for line in self.lines:
            shares = self.held.get(line.line_id, [])
            owed = sum(amount for _r, _c, amount in shares)
            if not owed:
                continue
            charge_total += line.charge
            pays, deductible, contractual = secondary_payment(
                shares,
                terms=terms,
                line=LineFacts(line.line_id, line.code, line.units, line.charge),
                primary_paid=line.buckets[1],
            )
            self.post(
                line,
                "insurance_payment",
                "insurance",
                pays,
                source="remittance",
                reference=reference,
                payer_id=terms.payer_id,
            )
            self.post(
                line,
                "transfer_to_patient",
                "insurance",
                deductible,
                source="remittance",
                reference=reference,
                payer_id=terms.payer_id,
                group="PR",
                reason="1",
                responsibility="deductible",
            )
            self.post(
                line,
                "contractual_adjustment",
                "insurance",
                contractual,
                source="remittance",
                reference=reference,
                payer_id=terms.payer_id,
                group="CO",
                reason="45",
            )
            pr_total += deductible
            paid_total += pays
        remit[1] += paid_total
        remit[2] += 1
        remit[3] += 1
        b.sink.add(
            REMITTANCE_CLAIM,
            (
                rc_id,
                remit[0],
                self.claim_id,
                self.pcn,
                "2",
                _money(charge_total),
                _money(paid_total),
                _money(pr_total),
                f"{terms.edi_id}{self.claim_id:010d}",
                True,
                remit[3],
            ),
        )
        self.move(S.PAID, f"ERA {terms.payer_name}: secondary paid")
        self._collect_from_patient()

    def _write_off(self, lines, carc: str) -> None:
        for line in lines:
            self.post(
                line,
                "write_off",
                "insurance",
                line.buckets[5],
                source="user",
                by=self.b.biller,
                group="CO",
                reason=carc,
                note=f"CARC {carc}: {carc_words(carc)}; not billable to the patient",
            )

    def _work_denial(self, carc: str) -> None:
        rng = self.rng
        terms = self.coverage.terms
        if rng.random() < 0.3:
            self.assigned_to = self.b.biller
        if rng.random() < 0.06:
            return
        if carc in CORRECTABLE:
            self.later(days=rng.randint(3, 15))
            self.move(S.CORRECTED, f"Corrected and resubmitted (CARC {carc})", by=self.b.biller)
            self.later(days=rng.choice((0, 1)))
            self.move(S.READY, "Scrubber: no edits", by=self.b.biller)
            if not self._send(resubmission=True):
                return
            self._await(terms)
            if corrected_claim_paid(rng):
                self._pay_in_full()
                return
            self._remit(terms, [], denied_lines=self.lines, carc=carc, status_code="4")
            self.move(S.DENIED, f"ERA {terms.payer_name}: CARC {carc} (again)")
        elif carc in APPEALABLE:
            self.later(days=rng.randint(5, 25))
            self.move(S.APPEALED, "First-level appeal sent", by=self.b.biller)
            self.later(days=rng.randint(25, 60), hours=(7, 11))
            if appeal_overturned(terms, rng):
                self._pay_in_full()
                return
            self.move(S.DENIED, "Appeal upheld by the payer")
        self.later(days=rng.randint(3, 15))
        self._write_off(self.lines, carc)
        self.move(S.WRITTEN_OFF, f"Written off: CARC {carc}", by=self.b.biller)

    def _pay_in_full(self) -> None:
        outcomes = self._price(self.lines, underpay=False)
        self._remit(self.coverage.terms, outcomes)
        self.move(S.PAID, f"ERA {self.coverage.terms.payer_name}: paid")
        self._collect_from_patient()

    def _work_line_denial(self, carc: str, lines) -> None:
        rng = self.rng
        if rng.random() < 0.2:
            return
        self.later(days=rng.randint(5, 25))
        if carc == "197" or rng.random() < 0.6:
            self.move(S.APPEALED, "Appeal of denied lines sent", by=self.b.biller)
            self.later(days=rng.randint(25, 60), hours=(7, 11))
            if appeal_overturned(self.coverage.terms, rng):
                self._remit(self.coverage.terms, self._price(lines, underpay=False))
                self.move(S.PAID, "Appeal overturned, lines paid")
                self._collect_from_patient()
                return
            self.later(days=rng.randint(3, 15))
        self._write_off(lines, carc)
        self.move(S.WRITTEN_OFF, f"Denied lines written off: CARC {carc}", by=self.b.biller)

    def _collect_from_patient(self) -> None:
        owed = sum(line.buckets[6] for line in self.lines if line.buckets[6] > 0)
        if not owed:
            return
        rng = self.rng
        roll = rng.random()
        in_full = 0.7 if owed < 7500 else 0.5
        if roll < in_full:
            numerator, denominator = 1, 1
        elif roll < in_full + 0.15:
            numerator, denominator = rng.randint(30, 60), 100
        else:
            return
        at = self.now + rng.randint(10, 75) * MINUTES_A_DAY
        if at < self.b.cutoff:  # a branch on the patient's own clock: the story goes on without it
            self._patient_payment(at, numerator, denominator)

    def _patient_payment(self, at: int, numerator: int, denominator: int) -> None:
        owed = sum(line.buckets[6] for line in self.lines if line.buckets[6] > 0)
        amount = part(owed, numerator, denominator)
        for line in self.lines:
            if amount <= 0:
                break
            paid = min(max(line.buckets[6], 0), amount)
            amount -= paid
            self.post(
                line,
                "patient_payment",
                "patient",
                paid,
                source="payment",
                by=self.b.collections,
                at=at,
                reference=f"RCPT-{self.pcn}",
                note="Card payment (patient portal)",
            )

    # rows ---------------------------------------------------------------------------------------
    def _write(self) -> None:
        b, clock = self.b, self.b.clock
        totals = [0] * 7
        for line in self.lines:
            for i in range(7):
                totals[i] += line.buckets[i]
            b.sink.add(LINE, (*line.row, *(_money(v) for v in line.buckets)))

        def at(minute):
            return None if minute is None else clock.at(minute)

        coverage = self.coverage
        b.sink.add(
            CLAIM,
            (
                self.claim_id,
                b.pid,
                self.patient.patient_id,
                coverage.coverage_id if coverage else None,
                coverage.terms.payer_id if coverage else None,
                b.group.pk,
                self.rng.choice(b.clinicians).pk,
                "11",
                "1",
                None,
                self.prior_authorization,
                self.pcn,
                self.payer_claim_number,
                self.diagnoses,
                self.status,
                clock.at(self.status_changed),
                clock.day(self.dos),
                clock.at(self.created),
                b.biller,
                at(self.first_submitted),
                at(self.last_submitted),
                at(self.adjudicated),
                at(self.first_adjudicated),
                self.first_adjudication,
                self.scrub_status,
                at(self.scrubbed_at),
                self.findings,
                self.assigned_to,
                _money(self.underpaid),
                self.secondary_pending,
                self.edited_after_scrub,
                *(_money(v) for v in totals),
            ),
        )


# --- indexes ------------------------------------------------------------------------------------


def _deferrable_indexes(tables: list[Table]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the plain indexes of ``tables``: not those behind a primary key or
    unique constraint, which stay."""
    names = [t.name for t in tables]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
            """,
            [names],
        )
        return list(cursor.fetchall())


# --- the whole build ----------------------------------------------------------------------------


@dataclasses.dataclass
class BuildReport:
    practices: list[str]
    counts: dict[str, int]
    seconds: float
    phases: dict[str, float]


def bench_data_build(
    options: BenchOptions, *, log: Callable[[str], None] = lambda message: None
) -> BuildReport:
    """Fill the database with ``options.claims`` claims over ``options.practices`` new practices.

    Guarantees: the rows obey the ledger identities (cached buckets = ledger), every status change
    is allowed by the state machine and recorded, and the number sequences sit past every number
    used. On PostgreSQL the plain indexes of the big tables are dropped during a load into empty
    tables and built again at the end (even when the load fails)."""
    started = time.monotonic()
    phases: dict[str, float] = {}
    as_of = options.as_of or timezone.localdate()
    cutoff_day = as_of.toordinal()
    first_day = cutoff_day - round(options.months * 30.44)
    contracts_from = datetime.date.fromordinal(first_day - 800)
    postgres = connection.vendor == "postgresql"
    sink: Sink = CopySink() if postgres else InsertSink()
    clock = Clock()
    users = bench_users()
    existing = Practice.objects.filter(slug__regex=rf"^{options.slug_prefix}[0-9]+$").count()
    per_practice = [
        options.claims // options.practices + (1 if i < options.claims % options.practices else 0)
        for i in range(options.practices)
    ]
    dropped: list[tuple[str, str]] = []
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("SET synchronous_commit = off")
            cursor.execute("SET maintenance_work_mem = '512MB'")
            if not Claim.objects.exists():
                dropped = _deferrable_indexes(BIG_TABLES)
                for name, _definition in dropped:
                    cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    names = []
    try:
        for index, count in enumerate(per_practice):
            number = existing + index + 1
            rng = random.Random(f"bench:{options.seed}:{number}")  # noqa: S311 - synthetic data, not security
            phase = time.monotonic()
            with transaction.atomic():
                practice, group, clinicians, terms = _practice_setup(
                    number=number,
                    rng=rng,
                    users=users,
                    contracts_from=contracts_from,
                    slug_prefix=options.slug_prefix,
                )
            ids = Ids(TABLES)  # the setup took a few ids of its own tables only; the big ones are ours
            names.append(practice.slug)
            builder = PracticeBuilder(
                practice=practice,
                group=group,
                clinicians=clinicians,
                terms=terms,
                users=users,
                ids=ids,
                sink=sink,
                clock=clock,
                rng=rng,
                options=options,
                first_day=first_day,
                cutoff_day=cutoff_day,
            )
            with transaction.atomic():
                patients = builder.patients_create(max(1, count // 4), 1)
                sink.flush_all([PATIENT, COVERAGE])
                builder.claims_create(patients, count)
                builder.remittances_write()
                sink.flush_all(TABLES)
                sink.drain()
                NumberSequence.objects.update_or_create(
                    practice=practice, name="claim", defaults={"last_value": builder.claim_number}
                )
                NumberSequence.objects.update_or_create(
                    practice=practice, name="patient_account", defaults={"last_value": len(patients)}
                )
            plans = bench_plans_build(practice=practice, as_of=as_of, rng=rng)
            sink.counts.update({f"payment_plans.{name}": value for name, value in plans.items()})
            phases[f"practice {practice.slug}"] = round(time.monotonic() - phase, 1)
            log(
                f"{practice.slug}: {count} claims, {len(patients)} patients "
                f"in {phases[f'practice {practice.slug}']} s"
            )
    finally:
        with connection.cursor() as cursor:
            sink.close()
            if postgres:
                cursor.execute("RESET synchronous_commit")
            phase = time.monotonic()
            for name, definition in dropped:
                log(f"building index {name}")
                cursor.execute(definition)
            if dropped:
                phases["indexes"] = round(time.monotonic() - phase, 1)
            for statement in connection.ops.sequence_reset_sql(no_style(), [t.model for t in TABLES]):
                cursor.execute(statement)
            if postgres:
                phase = time.monotonic()
                # VACUUM sets the visibility map as autovacuum would on a live database, so the covering
                # indexes answer index-only (it cannot run inside a transaction: the tests' data is analyzed).
                command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
                for table in BIG_TABLES:
                    cursor.execute(f"{command} {table.name}")
                phases["vacuum"] = round(time.monotonic() - phase, 1)
    from rcm.practice_cache import claims_changed

    claims_changed(
        Practice.objects.filter(slug__in=names).values_list("pk", flat=True)
    )  # written around the services
    return BuildReport(
        practices=names, counts=dict(sink.counts), seconds=round(time.monotonic() - started, 1), phases=phases
    )


# --- checking -----------------------------------------------------------------------------------


@dataclasses.dataclass
class CheckReport:
    lines: list[str]
    problems: list[str]


# (child table, child column, parent table): the references checked for the sampled claims.
REFERENCES = (
    ("claims_claimline", "claim_id", "claims_claim"),
    ("claims_transaction", "line_id", "claims_claimline"),
    ("claims_transaction", "claim_id", "claims_claim"),
    ("claims_transaction", "reverses_id", "claims_transaction"),
    ("claims_claimstatuschange", "claim_id", "claims_claim"),
    ("claims_remittanceclaim", "remittance_id", "claims_remittance"),
    ("claims_remittanceline", "remittance_claim_id", "claims_remittanceclaim"),
    ("denials_denial", "remittance_claim_id", "claims_remittanceclaim"),
    ("denials_denial", "line_id", "claims_claimline"),
)


def bench_check(*, sample: int = 2000, seed: int = 1) -> CheckReport:
    """Verify the invariants on a random sample of claims (any data, not only generated data)."""
    from claims.ledger import ledger_check

    lines, problems = [], []
    rng = random.Random(seed)  # noqa: S311 - sampling, not security
    bounds = Claim.objects.aggregate(low=models.Min("id"), high=models.Max("id"))
    if bounds["low"] is None:
        return CheckReport(lines=["No claims."], problems=[])
    span = bounds["high"] - bounds["low"] + 1
    candidates = rng.sample(range(bounds["low"], bounds["high"] + 1), min(sample, span))
    claims = list(
        Claim.objects.filter(pk__in=candidates).values(
            "pk", "practice_id", "status", "patient_control_number"
        )
    )
    claim_ids = [c["pk"] for c in claims]
    by_practice = defaultdict(list)
    for claim in claims:
        by_practice[claim["practice_id"]].append(claim["pk"])
    started = time.monotonic()
    for practice_id, ids in by_practice.items():
        practice = Practice.objects.get(pk=practice_id)
        problems.extend(ledger_check(practice=practice, claim_ids=ids))
    lines.append(
        f"ledger_check on {len(claim_ids)} sampled claims of {len(by_practice)} practices: "
        f"{len(problems)} problems ({time.monotonic() - started:.2f} s)"
    )

    # Status history: a chain of allowed moves that ends where the claim is.
    history = defaultdict(list)
    for change in (
        ClaimStatusChange.objects.filter(claim_id__in=claim_ids)
        .order_by("claim_id", "at", "id")
        .values("claim_id", "from_status", "to_status")
    ):
        history[change["claim_id"]].append(change)
    bad_history = 0
    for claim in claims:
        status = S.DRAFT
        for change in history[claim["pk"]]:
            if change["from_status"] != status or change["to_status"] not in TRANSITIONS[status]:
                problems.append(
                    f"claim {claim['pk']}: history moves {change['from_status']} -> "
                    f"{change['to_status']} after {status}"
                )
                bad_history += 1
            status = change["to_status"]
        if status != claim["status"]:
            problems.append(
                f"claim {claim['pk']}: status is {claim['status']} but its history ends at {status}"
            )
            bad_history += 1
    lines.append(f"status histories of {len(claim_ids)} claims: {bad_history} problems")

    # References: nothing of the sampled claims points at a missing row.
    quote = connection.ops.quote_name
    orphans = 0
    with connection.cursor() as cursor:
        for child, column, parent in REFERENCES:
            # table and column names come from REFERENCES above, never from input
            placeholders = ",".join(["%s"] * len(claim_ids))
            if child == "claims_remittanceline":
                scope = (
                    f"c.remittance_claim_id IN (SELECT id FROM claims_remittanceclaim "  # noqa: S608
                    f"WHERE claim_id IN ({placeholders}))"
                )
            else:
                scope = f"c.claim_id IN ({placeholders})"
            cursor.execute(
                f"SELECT COUNT(*) FROM {quote(child)} c LEFT JOIN {quote(parent)} p ON p.id = c.{column} "  # noqa: S608
                f"WHERE c.{column} IS NOT NULL AND p.id IS NULL AND {scope}",
                claim_ids,
            )
            missing = cursor.fetchone()[0]
            if missing:
                problems.append(f"{missing} {child}.{column} rows point at no {parent} row")
                orphans += missing
        cursor.execute(
            f"SELECT COUNT(*) FROM claims_transaction t JOIN claims_claimline l ON l.id = t.line_id "  # noqa: S608
            f"WHERE t.claim_id <> l.claim_id AND t.claim_id IN ({','.join(['%s'] * len(claim_ids))})",
            claim_ids,
        )
        crossed = cursor.fetchone()[0]
        if crossed:
            problems.append(f"{crossed} transactions sit on a line of another claim")
    lines.append(f"references of the sampled claims' rows: {orphans} missing parents")

    # Sequences: the services' next numbers are free.
    behind = 0
    for practice in Practice.objects.all():
        top = Claim.objects.filter(practice=practice).aggregate(top=models.Max("patient_control_number"))[
            "top"
        ]
        if not top or not top.isdigit():
            continue
        sequence = NumberSequence.objects.filter(practice=practice, name="claim").first()
        if sequence is None or sequence.last_value < int(top[-9:]):
            problems.append(f"practice {practice.slug}: the claim sequence is behind claim {top}")
            behind += 1
    lines.append(f"claim number sequences: {behind} behind")
    return CheckReport(lines=lines, problems=problems)
