"""Variance of every adjudicated line against its contract, recomputed in bulk.

An adjudicated line is a claim line its primary payer paid (CLP02 1 or 19, posted and not reversed since,
SVC03 above zero); when a line has several such payments the latest counts. The payer's allowed amount is
the one ERA posting kept on the remittance line (AMT*B6, else paid + patient responsibility); the expected
amount comes from the one pricing rule, ``rcm.pricing`` (the contract in force on the date of service, its
fee row, the claim's multiple-procedure ranking), so the variance page, the queue and posting never disagree.
With no contract or row the expected amount is unknown and stays so: the line is kept with kind "unknown".

The recompute is set-based: for a chunk of claims one query reads the adjudicated lines, one the claims
and one their lines (for the ranking), as plain tuples; each payer's price book is read once for the whole
run; the variances are replaced with one delete and one bulk insert (COPY on PostgreSQL, fed as the lines
are priced, so the server writes while Python prices). No query runs per line, and only claims with an
adjudicated line are priced. Claims found short beyond tolerance get an ``Underpayment``
(``claims.underpayments.services``), and one whose lines a later payment brought up to the contract is
recovered on its own.
"""

import datetime
import multiprocessing
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from decimal import ROUND_HALF_UP, Decimal
from itertools import groupby
from operator import attrgetter
from typing import NamedTuple

from django.db import connection, connections, transaction
from django.db.models import Max, Min, Q
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from claims.models import ZERO, Claim, ClaimLine, LineVariance, RemittanceLine, VarianceKind
from claims.underpayments.services import underpayments_sync
from rcm.bulk import bulk_insert_values
from rcm.models import Payer, PayerContract, Practice
from rcm.pricing import LineToPrice, PriceBook, is_facility

CENT = Decimal("0.01")
PRIMARY_PAID = ("1", "19")
CHUNK_CLAIMS = 50_000  # a transaction's worth: ~60,000 adjudicated lines, fewer round trips than 20,000


def tolerance(contract: PayerContract, expected: Decimal) -> Decimal:
    """The contract's tolerance for a line: its dollar amount or its percentage of the expected amount,
    whichever is larger."""
    percent_part = (expected * contract.underpayment_tolerance_percent / 100).quantize(CENT, ROUND_HALF_UP)
    return max(contract.underpayment_tolerance_amount, percent_part)


def variance_kind(contract: PayerContract | None, expected: Decimal | None, allowed: Decimal) -> str:
    """Underpaid when short by more than the tolerance, overpaid when over by more, else within; unknown
    without an expected amount."""
    if contract is None or expected is None:
        return VarianceKind.UNKNOWN
    limit = tolerance(contract, expected)
    if expected - allowed > limit:
        return VarianceKind.UNDERPAID
    if allowed - expected > limit:
        return VarianceKind.OVERPAID
    return VarianceKind.WITHIN


class Claims:
    """The claims a run covers: a list of ids (ERA posting's), or a range of ids of one practice (or of
    all), which filters as a plain index range instead of a long ``IN`` list (a bulk run's chunks)."""

    def __init__(self, *, ids=None, low=None, high=None, practice_id=None):
        self.ids = None if ids is None else sorted(set(ids))
        self.low, self.high, self.practice_id = low, high, practice_id

    def where(self, field: str, practice_field: str | None = None) -> Q:
        """Rows whose claim id is ``field``; ``practice_field`` narrows a range to the practice."""
        if self.ids is not None:
            return Q(**{f"{field}__in": self.ids})
        query = Q(**{f"{field}__gte": self.low, f"{field}__lt": self.high})
        if practice_field and self.practice_id is not None:
            query &= Q(**{practice_field: self.practice_id})
        return query


def adjudicated_lines(practice_ids: Iterable[int] | None = None, claims: Claims | None = None):
    """The remittance lines that adjudicate a claim line (see the module docstring), oldest first."""
    lines = RemittanceLine.objects.filter(
        claim_line__isnull=False,
        claim_line__removed=False,
        allowed__isnull=False,
        paid__gt=0,
        remittance_claim__posted=True,
        remittance_claim__reversed_by__isnull=True,
        remittance_claim__status_code__in=PRIMARY_PAID,
    )
    if practice_ids is not None:
        lines = lines.filter(remittance_claim__remittance__practice_id__in=list(practice_ids))
    if claims is not None:
        lines = lines.filter(
            # The practice of the remittance (joined already), not of the claim: joining the claims to
            # filter them by practice read every claim of the practice for each chunk.
            claims.where("remittance_claim__claim_id", "remittance_claim__remittance__practice_id")
        )
    return lines


class _Books:
    """Each (practice, payer)'s price book, read once per run."""

    def __init__(self):
        self.books: dict[tuple[int, int | None], PriceBook] = {}
        self.limits: dict[tuple[int, Decimal], Decimal] = {}  # tolerance by (contract, expected amount)

    def get(self, practice_id: int, payer_id: int | None) -> PriceBook:
        key = (practice_id, payer_id)
        if key not in self.books:
            # Only the keys are read: instances by primary key, without fetching the rows.
            payer = None if payer_id is None else Payer(pk=payer_id)
            self.books[key] = PriceBook.load(practice=Practice(pk=practice_id), payer=payer)
        return self.books[key]


class VarianceRow(NamedTuple):
    """A ``LineVariance`` as written: its fields, in the order ``bulk_insert_values`` is given them."""

    practice_id: int
    claim_id: int
    claim_line_id: int
    remittance_line_id: int
    payer_id: int | None
    procedure_code: str
    service_date: datetime.date
    paid_date: datetime.date
    units: Decimal
    contract_id: int | None
    fee_row_id: int | None
    expected_allowed: Decimal | None
    allowed: Decimal
    paid: Decimal
    variance: Decimal | None
    kind: str
    computed_at: str  # ISO 8601 with its offset


class ChunkReads(NamedTuple):
    """What pricing a chunk needs, read: each adjudicated line's latest payment by claim line, the claims
    (payer, place of service) and their lines in claim order."""

    latest: dict
    claims: dict
    claim_lines: list


def _chunk_reads(claims: Claims) -> ChunkReads:
    """Three reads (plain tuples) for ``claims``."""
    latest = {}
    for payment in (
        adjudicated_lines(claims=claims)
        .annotate(
            paid_on=Coalesce(
                "remittance_claim__remittance__payment_date",
                TruncDate("remittance_claim__remittance__received_at"),
            )
        )
        .values_list("claim_line_id", "id", "allowed", "paid", "paid_on", named=True)
        .order_by("id")
    ):
        latest[payment.claim_line_id] = payment  # a later payment of the line replaces an earlier one
    if not latest:
        return ChunkReads({}, {}, [])
    # The claims apart from their lines: two index range scans instead of a lookup of the claim per line.
    payers_and_places = {
        claim.pk: claim
        for claim in Claim.objects.filter(claims.where("pk", "practice_id")).values_list(
            "pk", "practice_id", "payer_id", "place_of_service", named=True
        )
    }
    claim_lines = (
        ClaimLine.objects.filter(claims.where("claim_id", "practice_id"), removed=False)
        # Pricing reads the first modifier only: taken as text, not a JSON list decoded per line.
        .annotate(first_modifier=KT("modifiers__0"))
        .values_list(
            "claim_id",
            "id",
            "procedure_code",
            "units",
            "charge",
            "service_date_from",
            "first_modifier",
            named=True,
        )
        .order_by("claim_id", "line_number", "id")
    )
    return ChunkReads(latest, payers_and_places, list(claim_lines))


def _close_connection() -> None:
    connection.close()  # ``connection`` is the calling thread's


def _reads_ahead(chunks: list[Claims]) -> Iterator[ChunkReads]:
    """Each chunk's reads, the next one read by a second connection while the caller prices and writes
    the current one (PostgreSQL works on the reads on the other core). Each chunk is read in one
    repeatable-read transaction, so its three reads agree with each other."""

    def read(chunk: Claims) -> ChunkReads:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            return _chunk_reads(chunk)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="variance-reads") as pool:
        try:
            pending = pool.submit(read, chunks[0])
            for following in [*chunks[1:], None]:
                reads = pending.result()
                if following is not None:
                    pending = pool.submit(read, following)
                yield reads
        finally:
            pool.submit(_close_connection).result()  # the reading thread's own connection


def _kind(limits: dict, contract: PayerContract | None, expected: Decimal | None, allowed: Decimal) -> str:
    """``variance_kind`` with each (contract, expected amount)'s tolerance worked out once per run (a bulk
    run meets a few thousand expected amounts across a million lines)."""
    if contract is None or expected is None:
        return VarianceKind.UNKNOWN
    key = (contract.id, expected)
    limit = limits.get(key)
    if limit is None:
        limit = limits[key] = tolerance(contract, expected)
    if expected - allowed > limit:
        return VarianceKind.UNDERPAID
    if allowed - expected > limit:
        return VarianceKind.OVERPAID
    return VarianceKind.WITHIN


def _priced_rows(latest: dict, claims: dict, claim_lines: list, books: _Books, now) -> Iterator[VarianceRow]:
    limits = books.limits
    # The same moment on every row, written as text once: COPY formatted an aware datetime per row (2 s a
    # million); PostgreSQL and Django's own path both read the ISO form with its offset.
    stamp = now.isoformat()
    for claim_id, group in groupby(claim_lines, key=attrgetter("claim_id")):
        lines = list(group)
        if not any(line.id in latest for line in lines):
            continue  # nothing adjudicated on this claim: nothing to price
        claim = claims[claim_id]
        book = books.get(claim.practice_id, claim.payer_id)
        facility = is_facility(claim.place_of_service)
        prices = book.price_claim(
            [
                LineToPrice(  # positional: built for every line of a bulk run
                    line.procedure_code,
                    line.service_date_from,
                    (line.first_modifier,) if line.first_modifier else (),
                    line.units,
                    line.charge,
                    facility,
                )
                for line in lines
            ]
        )
        for line, price in zip(lines, prices, strict=True):
            payment = latest.get(line.id)
            if payment is None:
                continue
            contract = None if price is None else price.contract
            expected = None if price is None else price.amount
            yield VarianceRow(  # positional, in the order of its fields
                claim.practice_id,
                claim_id,
                line.id,
                payment.id,
                claim.payer_id,
                line.procedure_code[:5],
                line.service_date_from,
                payment.paid_on,
                line.units,
                None if contract is None else contract.id,  # ``id``, not ``pk``: a property call per row
                None if price is None or price.fee_row is None else price.fee_row.id,
                expected,
                payment.allowed,
                payment.paid,
                None if expected is None else expected - payment.allowed,
                _kind(limits, contract, expected, payment.allowed),
                stamp,
            )


def _recompute_claims(claims: Claims, books: _Books, now, user, reads: ChunkReads | None = None) -> int:
    reads = reads or _chunk_reads(claims)
    rows = _priced_rows(*reads, books, now)  # priced as COPY asks for them
    stale = LineVariance.objects.filter(claims.where("claim_id", "practice_id"))
    stale._raw_delete(stale.db)  # derived rows, nothing points at them: one DELETE, no rows fetched first
    shortfalls: dict[int, Decimal] = defaultdict(lambda: ZERO)

    def tallied(rows):
        for row in rows:
            if row.kind == VarianceKind.UNDERPAID:
                shortfalls[row.claim_id] += row.variance
            yield row

    count = bulk_insert_values(LineVariance, VarianceRow._fields, tallied(rows))
    underpayments_sync(
        claims=claims.where("claim_id", "practice_id"),
        claims_pk=claims.where("pk", "practice_id"),
        shortfalls=dict(shortfalls),
        now=now,
        user=user,
    )
    return count


def variances_recompute(
    *,
    practice: Practice | None = None,
    claim_ids: Iterable[int] | None = None,
    now: datetime.datetime | None = None,
    user=None,
    workers: int = 1,
) -> int:
    """Recompute the variances of every adjudicated line: of ``claim_ids`` when given (ERA posting passes
    the claims it posted), else of ``practice``, else of every practice. Returns the number of lines.

    Guarantees: afterwards each adjudicated line has exactly one ``LineVariance`` (lines no longer
    adjudicated, e.g. after a reversal, have none), each claim short beyond tolerance has an underpayment
    with its current shortfall, and each claim's ``underpaid_amount`` is what its open or appealed
    underpayment is short. Runs in one transaction per chunk of claims (all of ``claim_ids`` in one).
    With ``workers`` above 1 (PostgreSQL, outside a transaction, in a process allowed children: the
    ``compute_variances`` command), the chunks are shared among that many processes."""
    now = now or timezone.now()
    if claim_ids is not None:
        with transaction.atomic():
            return _recompute_claims(Claims(ids=claim_ids), _Books(), now, user)
    # Every adjudicated line and every stale variance belongs to one of the practice's claims: the range of
    # their ids bounds the run (an index lookup, where the adjudicated lines' own bounds took seconds).
    bounds = (Claim.objects.all() if practice is None else Claim.objects.filter(practice=practice)).aggregate(
        low=Min("pk"), high=Max("pk")
    )
    if bounds["low"] is None:
        return 0
    chunks = [
        Claims(low=start, high=start + CHUNK_CLAIMS, practice_id=None if practice is None else practice.pk)
        for start in range(bounds["low"], bounds["high"] + 1, CHUNK_CLAIMS)
    ]
    # Other connections see what this one sees only outside a caller's transaction (and SQLite has one
    # writer): then the chunks can be read ahead, and shared among processes.
    concurrent = connection.vendor == "postgresql" and not connection.in_atomic_block and len(chunks) > 1
    workers = min(workers, len(chunks))
    if concurrent and workers > 1 and not multiprocessing.current_process().daemon:
        return _recompute_in_processes(chunks, now, user, workers)
    return _recompute_chunks(chunks, now, user, read_ahead=concurrent)


def _recompute_chunks(chunks: list[Claims], now, user, *, read_ahead: bool) -> int:
    books = _Books()
    total = 0
    reads = _reads_ahead(chunks) if read_ahead and len(chunks) > 1 else [None] * len(chunks)
    for chunk, read in zip(chunks, reads, strict=True):
        with transaction.atomic():
            total += _recompute_claims(chunk, books, now, user, read)
    return total


def _recompute_in_processes(chunks: list[Claims], now, user, workers: int) -> int:
    """The chunks dealt out in turn to ``workers`` forked processes, each with its own connections and
    price books, each chunk in its own transaction as in one process (chunks are disjoint ranges of claims,
    so the processes never write the same rows). Python prices on one core per process while PostgreSQL
    writes on the others."""
    # A forked process must open its own connections: none of the parent's (nor of its pool) may be shared.
    connections.close_all()
    for alias in connections:
        if hasattr(connections[alias], "close_pool"):
            connections[alias].close_pool()
    shares = [chunks[i::workers] for i in range(workers)]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        counts = pool.map(_recompute_share, shares, [now] * workers, [user] * workers)
        return sum(counts)


def _recompute_share(chunks: list[Claims], now, user) -> int:
    try:
        return _recompute_chunks(chunks, now, user, read_ahead=True)
    finally:
        connections.close_all()
