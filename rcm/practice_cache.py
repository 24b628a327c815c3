"""Whole-practice aggregates cached until what they are computed from changes.

Status counts and A/R totals read every claim of a practice (hundreds of thousands at a billing
company), and the pages that show them are opened all day. Each practice has a version token in the
cache; the services that change claims (new claims, status moves, ledger postings) call
``claims_changed`` and the practice gets a new token (at once, and again when their transaction
commits), so every aggregate cached under the old one is recomputed on its next read. A reader never
sees a result from before a committed change: a result computed from older data is stored under an
older token.

The claims are one topic; the KPI figures (computed by Celery into snapshots, read with the practice's
targets, costs and payer names) are another, ``KPI_FIGURES``: cached dashboard figures are renewed by
``practice_changed(ids, KPI_FIGURES)`` when a computation lands or a target, cost or payer changes, not at
every posting."""

import contextlib
import logging
import uuid
from contextvars import ContextVar

from django.core.cache import cache
from django.db import transaction

TIMEOUT = 15 * 60  # an aggregate nobody changed is still recomputed now and then
log = logging.getLogger(__name__)


CLAIMS = "claims"
KPI_FIGURES = "kpi-figures"


def _version_key(practice_id: int, topic: str = CLAIMS) -> str:
    return f"practice:{practice_id}:{topic}-version"


def _version(practice_id: int, topic: str = CLAIMS) -> str:
    key = _version_key(practice_id, topic)
    version = cache.get(key)
    if version is None:
        cache.add(key, uuid.uuid4().hex, None)
        version = cache.get(key)
    return version


def practice_cached(practice, name: str, compute, *, topic: str = CLAIMS):
    """``compute()`` for ``practice``, from the cache while the practice's ``topic`` (its claims unless
    said) is unchanged. With the cache down the value is computed every time: slower pages, never a failed
    one."""
    try:
        key = f"practice:{practice.pk}:{name}:{_version(practice.pk, topic)}"
        value = cache.get(key)
    except Exception:  # noqa: BLE001 - any cache backend error
        log.warning("cache unavailable: %s computed without it", name)
        return compute()
    if value is None:
        value = compute()
        with contextlib.suppress(Exception):
            cache.set(key, value, TIMEOUT)
    return value


_deferred: ContextVar[set | None] = ContextVar("practice_cache_deferred", default=None)


@contextlib.contextmanager
def changes_deferred():
    """For data generators that change thousands of claims in a row (``seed_demo``): the practices they
    change are renewed once, when the block ends, instead of at every posting and status move."""
    changed: set[int] = set()
    token = _deferred.set(changed)
    try:
        yield
    finally:
        _deferred.reset(token)
        claims_changed(changed)


def claims_changed(practice_ids) -> None:
    """Forget the cached aggregates of these practices' claims: now (so no reader is served what was
    cached before the change) and again when the current transaction commits (so nothing computed while
    it was open outlives it)."""
    ids = {int(pk) for pk in practice_ids if pk is not None}
    deferred = _deferred.get()
    if ids and deferred is not None:
        deferred.update(ids)
        return
    practice_changed(ids, CLAIMS)


def practice_changed(practice_ids, topic: str) -> None:
    """Forget what is cached for these practices under ``topic``, now and when the transaction commits."""
    ids = {int(pk) for pk in practice_ids if pk is not None}
    if not ids:
        return

    def renew():
        # A cache that is down must not stop a posting: the change is logged and the entries it would have
        # replaced expire within TIMEOUT.
        try:
            cache.set_many({_version_key(pk, topic): uuid.uuid4().hex for pk in ids}, None)
        except Exception:  # noqa: BLE001 - any cache backend error
            log.warning("cache unavailable: cached %s of practices %s not renewed", topic, sorted(ids))

    renew()
    transaction.on_commit(renew)
