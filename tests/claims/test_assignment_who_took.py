"""Issue 16 item 8: assigning a claim someone just took says who took it and when."""

import datetime

from django.utils import timezone

from claims.models import Claim
from claims.queues.services import claims_assign
from rcm.audit import audit_context
from rcm.models import AuditEvent
from tests.claims.test_pages_queues import _text, rejected
from tests.conftest import login


def _assigned_earlier(claim, *, to, by, minutes):
    Claim.objects.filter(pk=claim.pk).update(assigned_to=to)
    AuditEvent.objects.create(
        at=timezone.now() - datetime.timedelta(minutes=minutes, seconds=5),
        user=by,
        username=by.username,
        practice=claim.practice,
        action="update",
        object_type="claims.claim",
        object_id=str(claim.pk),
        changes={"assigned_to_id": [None, to.pk]},
    )


def test_assigning_a_claim_someone_took_two_minutes_ago_says_so(billing, biller, admin_user):
    claim = rejected(billing)
    admin_user.first_name, admin_user.last_name = "Dana", "Scully"
    admin_user.save()
    _assigned_earlier(claim, to=admin_user, by=admin_user, minutes=2)
    response = login(biller).post(
        f"/claims/{claim.pk}/assign/", {"assignee": biller.pk, "expected": ""}, follow=True
    )
    assert (
        f"Dana Scully took claim {claim.patient_control_number} 2 minutes ago; nothing was changed."
        in _text(response)
    )
    assert Claim.objects.get(pk=claim.pk).assigned_to == admin_user


def test_a_claim_given_to_someone_says_who_gave_it(billing, biller, admin_user, manager):
    claim = rejected(billing)
    _assigned_earlier(claim, to=admin_user, by=manager, minutes=5)
    response = login(biller).post(
        f"/claims/{claim.pk}/assign/", {"assignee": biller.pk, "expected": ""}, follow=True
    )
    name = admin_user.get_full_name()
    assert f"mona gave claim {claim.patient_control_number} to {name} 5 minutes ago" in _text(response)


def test_a_claim_taken_through_the_service_just_now_says_just_now(billing, biller, admin_user):
    claim = rejected(billing)
    with audit_context(user=admin_user, source="web"):
        claims_assign(practice=billing.practice, claim_ids=[claim.pk], assignee=admin_user, user=admin_user)
    response = login(biller).post(
        f"/claims/{claim.pk}/assign/", {"assignee": biller.pk, "expected": ""}, follow=True
    )
    assert f"{admin_user.get_full_name()} took claim {claim.patient_control_number} just now" in _text(
        response
    )
