"""The batch page names every patient on the batch: opening it is an audit event (issue 16 item 4)."""

from claims.submission.batches import claims_submit
from rcm.models import AuditEvent
from tests.claims.test_pages_batches import ready
from tests.conftest import login


def test_opening_a_batch_page_records_the_batch_and_its_claims(billing, biller):
    claim = ready(billing)
    (batch,) = claims_submit(practice=billing.practice, user=biller).batches
    login(biller).get(f"/claims/batches/{batch.pk}/")
    event = AuditEvent.objects.get(action="view", object_type="claims.submissionbatch")
    assert (event.object_id, event.changes, event.user) == (str(batch.pk), {"ids": [claim.pk]}, biller)
    assert event.practice_id == billing.practice.pk
