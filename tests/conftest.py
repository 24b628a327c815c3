"""Shared fixtures: two practices and a persona per role, plus an outsider from the other practice."""

import pytest
from django.test import Client

from rcm.roles import Role
from tests.rcm.factories import MembershipFactory, PracticeFactory, UserFactory


@pytest.fixture
def practice(db):
    return PracticeFactory(name="Riverside Family Medicine", slug="riverside")


@pytest.fixture
def other_practice(db):
    return PracticeFactory(name="Lakeview Pediatrics", slug="lakeview")


def _member(practice, role, username):
    return MembershipFactory(practice=practice, role=role, user=UserFactory(username=username)).user


@pytest.fixture
def biller(practice):
    return _member(practice, Role.BILLER, "bill")


@pytest.fixture
def collections_user(practice):
    return _member(practice, Role.COLLECTIONS, "cora")


@pytest.fixture
def manager(practice):
    return _member(practice, Role.MANAGER, "mona")


@pytest.fixture
def admin_user(practice):
    return _member(practice, Role.ADMIN, "adam")


@pytest.fixture
def outsider(other_practice):
    return _member(other_practice, Role.ADMIN, "otto")


@pytest.fixture
def persona(practice):
    """persona(role) -> a signed-in test client for a new user with that role in ``practice``."""

    def make(role, username=None):
        user = _member(practice, role, username or f"{role}-persona")
        client = Client()
        client.force_login(user)
        client.user = user
        return client

    return make


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (the database is rolled back; cached aggregates must go too)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_audit_context():
    """Each test starts with the default (system) audit context."""
    from rcm.audit import AuditContext, _context

    token = _context.set(AuditContext(source="system"))
    yield
    _context.reset(token)
