"""The landing page of each role: real numbers from the ledger and the claims, and a query count that
does not grow with the data."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from claims.ledger import Entry, ledger_post, transaction_reverse
from claims.models import TransactionKind as K
from claims.services import LineInput
from claims.state_machine import claim_transition
from rcm.audit import audit_record
from rcm.models import PayerContract, Provider
from rcm.roles import Role
from tests.claims import factories
from tests.conftest import login
from tests.rcm.factories import CoverageFactory, PatientFactory, PayerFactory, ProviderFactory

# Pinned query counts: session, user, memberships (middleware), team and "your recent activity",
# plus each role's panels.
LANDING_QUERIES = {
    Role.BILLER: 7,  # + claims by status, claims needing work
    Role.COLLECTIONS: 8,  # + top patient balances, patient A/R totals, aging
    Role.MANAGER: 8,  # + claims by status, aging, ledger totals
    Role.ADMIN: 7,  # + practice counts, recent audit events
}


def make_claim(practice, *, charge="100.00", days_ago=10, statuses=(), **kwargs):
    """A claim of one line at ``charge`` with a date of service ``days_ago`` days back, moved through
    ``statuses``."""
    kwargs.setdefault(
        "provider", Provider.objects.filter(practice=practice).first() or ProviderFactory(practice=practice)
    )
    dos = timezone.localdate() - datetime.timedelta(days=days_ago)
    claim = factories.make_claim(
        practice,
        lines=[LineInput(procedure_code="99213", charge=Decimal(charge), service_date_from=dos)],
        **kwargs,
    )
    for status in statuses:
        claim_transition(claim=claim, to_status=status)
    return claim


def _post(claim, *entries, source="remittance"):
    line = claim.lines.get()
    return ledger_post(
        claim=claim,
        source=source,
        entries=[
            Entry(line=line, kind=kind, amount=Decimal(amount), party=party)
            for kind, amount, party in entries
        ],
    )


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- biller -----------------------------------------------------------------------------------


def test_biller_sees_claims_by_status_and_the_oldest_claims_needing_work(practice, biller):
    make_claim(practice)  # a draft: not work for the queue
    submitted_first = make_claim(practice, charge="300.00", statuses=("ready", "submitted"))
    denied = make_claim(practice, charge="1250.00", statuses=("ready", "submitted", "denied"))
    rejected = make_claim(practice, charge="80.00", statuses=("ready", "submitted", "rejected"))
    paid = make_claim(practice, statuses=("ready", "submitted"))
    _post(paid, (K.INSURANCE_PAYMENT, "100.00", "insurance"))
    claim_transition(claim=paid, to_status="paid")
    response = login(biller).get("/")
    assert response.templates[0].name == "rcm/home_biller.html"
    assert [c.pk for c in response.context["needing_work"]] == [submitted_first.pk, denied.pk, rejected.pk]
    counts = {row["status"]: (row["count"], row["balance"]) for row in response.context["status_counts"]}
    assert counts["denied"] == (1, Decimal("1250.00"))
    assert counts["paid"] == (1, Decimal("0.00"))
    assert counts["draft"] == (1, Decimal("100.00"))
    assert response.context["claims_total"] == 5
    assert response.context["claims_balance"] == Decimal("1730.00")
    text = _text(response)
    assert 'href="/claims/?status=denied"' in text
    assert "$1,730.00" in text and "$1,250.00" in text
    assert f'href="/claims/{denied.pk}/"' in text


# --- collections ------------------------------------------------------------------------------


def test_collections_sees_the_largest_patient_balances_and_patient_ar(practice, collections_user):
    small, large, credit = (PatientFactory(practice=practice) for _ in range(3))
    nothing_owed = PatientFactory(practice=practice)
    for patient, owed in ((small, "25.00"), (large, "1840.10")):
        claim = make_claim(
            practice,
            coverage=CoverageFactory(practice=practice, patient=patient),
            statuses=("ready", "submitted"),
            charge="2000.00",
        )
        _post(claim, (K.TRANSFER_TO_PATIENT, owed, "insurance"))
    overpaid = make_claim(practice, patient=credit, self_pay=True, charge="40.00")
    _post(overpaid, (K.PATIENT_PAYMENT, "40.00", "patient"))
    _post(overpaid, (K.REFUND, "15.00", "patient"))  # the refund reopens $15.00
    _post(overpaid, (K.PATIENT_PAYMENT, "20.00", "patient"))  # paid twice: a $5.00 credit
    make_claim(practice, coverage=CoverageFactory(practice=practice, patient=nothing_owed))
    response = login(collections_user).get("/")
    assert response.templates[0].name == "rcm/home_collections.html"
    assert [(p.pk, p.patient_balance_total) for p in response.context["top_patients"]] == [
        (large.pk, Decimal("1840.10")),
        (small.pk, Decimal("25.00")),
    ]
    assert response.context["patient_ar"] == {
        "owed": Decimal("1865.10"),
        "credits": Decimal("-5.00"),
        "patients": 2,
        "claims": 2,
    }
    text = _text(response)
    assert "$1,865.10" in text and "-$5.00" in text and "$1,840.10" in text
    assert f'href="/patients/{large.pk}/"' in text


# --- manager ----------------------------------------------------------------------------------


def test_manager_sees_ar_aging_by_date_of_service_and_the_last_30_days(practice, manager):
    for days_ago, charge in (
        (0, "10.00"),
        (30, "20.00"),
        (31, "40.00"),
        (75, "80.00"),
        (120, "160.00"),
        (121, "320.00"),
        (400, "640.00"),
    ):
        make_claim(practice, days_ago=days_ago, charge=charge)
    # 10 days ago: $500 charged, $300 paid by the payer, $50 transferred and $20 paid by the patient
    paid = make_claim(practice, days_ago=10, charge="500.00", statuses=("ready", "submitted"))
    _post(
        paid,
        (K.INSURANCE_PAYMENT, "300.00", "insurance"),
        (K.CONTRACTUAL_ADJUSTMENT, "150.00", "insurance"),
        (K.TRANSFER_TO_PATIENT, "50.00", "insurance"),
    )
    _post(paid, (K.PATIENT_PAYMENT, "20.00", "patient"), source="payment")
    # a payment posted in error and reversed does not count
    (mistake,) = _post(paid, (K.PATIENT_PAYMENT, "7.00", "patient"), source="payment")
    transaction_reverse(original=mistake)
    voided = make_claim(practice, days_ago=5, charge="999.00")
    claim_transition(claim=voided, to_status="voided")
    response = login(manager).get("/")
    assert response.templates[0].name == "rcm/home_manager.html"
    aging = response.context["aging"]
    assert [(b["label"], b["count"], b["insurance"], b["patient"]) for b in aging["buckets"]] == [
        ("0–30", 3, Decimal("30.00"), Decimal("30.00")),
        ("31–60", 1, Decimal("40.00"), Decimal("0.00")),
        ("61–90", 1, Decimal("80.00"), Decimal("0.00")),
        ("91–120", 1, Decimal("160.00"), Decimal("0.00")),
        ("120+", 2, Decimal("960.00"), Decimal("0.00")),
    ]
    assert (aging["insurance"], aging["patient"], aging["total"]) == (
        Decimal("1270.00"),
        Decimal("30.00"),
        Decimal("1300.00"),
    )
    assert [b["percent"] for b in aging["buckets"]] == [
        Decimal("4.6"),
        Decimal("3.1"),
        Decimal("6.2"),
        Decimal("12.3"),
        Decimal("73.8"),
    ]
    assert [b["bar"] for b in aging["buckets"]] == [6, 4, 8, 16, 100]
    recent = response.context["recent"]
    # charges dated in the last 30 days (today and the 29 before): $10 + $500 + the voided $999 (its charge
    # stays on the ledger); the $20 of 30 days ago is out
    assert response.context["recent_since"] == timezone.localdate() - datetime.timedelta(days=29)
    assert recent["charges"] == Decimal("1509.00")
    assert (recent["insurance_payments"], recent["patient_payments"], recent["payments"]) == (
        Decimal("300.00"),
        Decimal("20.00"),
        Decimal("320.00"),
    )
    assert recent["adjustments"] == Decimal("150.00")
    text = _text(response)
    assert "$1,300.00" in text and "$1,509.00" in text and "$320.00" in text
    assert ' w-100" title=' in text  # the largest bucket's bar: a width class (the CSP refuses style=)
    # every aging bucket drills down to exactly the claims it counts
    client = login(manager)
    for bucket in aging["buckets"]:
        listed = client.get("/claims/", {"aging": bucket["key"]}).context["page"].object_list
        assert len(listed) == bucket["count"]
        assert sum(c.balance_total for c in listed) == bucket["total"]
    assert 'href="/claims/?aging=120%2B&amp;sort=-balance"' in text


# --- admin ------------------------------------------------------------------------------------


def test_admin_sees_setup_counts_and_recent_audit_events(practice, admin_user, biller, other_practice):
    make_claim(practice)  # one provider, one payer
    PayerFactory(practice=practice, is_active=False)
    payer = PayerFactory(practice=practice)
    PayerContract.objects.create(
        practice=practice, payer=payer, name="2026", effective_date=datetime.date(2026, 1, 1)
    )
    PayerContract.objects.create(
        practice=practice,
        payer=payer,
        name="2020",
        effective_date=datetime.date(2020, 1, 1),
        end_date=datetime.date(2020, 12, 31),
    )
    ProviderFactory(practice=other_practice)
    audit_record(action="view", practice=practice, object_type="rcm.patient", object_id=42, user=biller)
    audit_record(action="view", practice=other_practice, object_type="rcm.patient", object_id=43, user=biller)
    response = login(admin_user).get("/")
    assert response.templates[0].name == "rcm/home_admin.html"
    assert response.context["counts"] == {
        "providers": 1,
        "payers": 2,
        "contracts": 2,
        "active_contracts": 1,
        "members": 2,
    }
    events = response.context["recent_audit"]
    assert all(e.practice_id == practice.pk for e in events)
    assert (events[0].action, events[0].object_type, events[0].object_id, events[0].user) == (
        "view",
        "rcm.patient",
        "42",
        biller,
    )
    assert not any(e.object_id == "43" for e in events)
    assert 'href="/audit/?object_type=rcm.patient&amp;object_id=42"' in response.content.decode()


# --- query counts -----------------------------------------------------------------------------


def _populate(practice, n):
    """``n`` patients, each with a claim in every panel's view: denied with a patient balance, an audit
    event."""
    for _ in range(n):
        claim = make_claim(practice, days_ago=15, statuses=("ready", "submitted"))
        _post(
            claim, (K.INSURANCE_PAYMENT, "50.00", "insurance"), (K.TRANSFER_TO_PATIENT, "10.00", "insurance")
        )
        claim_transition(claim=claim, to_status="denied")
        audit_record(action="view", practice=practice, object_type="claims.claim", object_id=claim.pk)
    PayerFactory(practice=practice)


@pytest.mark.parametrize("role", Role.values)
def test_landing_query_count_is_the_same_for_1_and_10_rows(
    role, practice, persona, django_assert_num_queries
):
    client = persona(role)
    _populate(practice, 1)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/").status_code == 200
    _populate(practice, 9)
    with django_assert_num_queries(LANDING_QUERIES[role]):
        response = client.get("/")
    assert len(one) == LANDING_QUERIES[role]
    # the data really is there: the page is not constant because it is empty
    if role == Role.BILLER:
        assert len(response.context["needing_work"]) == 10
    elif role == Role.COLLECTIONS:
        assert len(response.context["top_patients"]) == 10
    elif role == Role.MANAGER:
        assert response.context["aging"]["count"] == 10
    else:
        assert len(response.context["recent_audit"]) == 15
