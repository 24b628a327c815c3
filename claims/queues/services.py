"""Writes for the work queues: giving claims to a biller."""

from django.core.exceptions import ValidationError

from claims.models import Claim
from rcm.models import Membership
from rcm.practice_cache import claims_changed


def claims_assign(*, practice, claim_ids: list[int], assignee, user=None) -> int:
    """Give claims of ``practice`` to ``assignee`` (a member of the practice) or to nobody (None)."""
    if (
        assignee is not None
        and not Membership.objects.filter(practice=practice, user=assignee, is_active=True).exists()
    ):
        raise ValidationError({"assignee": "That user is not a member of this practice."})
    claims = list(Claim.objects.filter(practice=practice, pk__in=claim_ids))
    claims_changed([practice.pk])
    for claim in claims:  # saved one by one so each reassignment lands in the audit log
        claim.assigned_to = assignee
        claim.save(update_fields=["assigned_to"])
    return len(claims)
