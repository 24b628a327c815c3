"""Issue 16 item 8: 837 batch files (every patient's details and diagnoses) are downloaded by billers and
administrators; practice managers and collections specialists only where the practice allows it."""

import pytest

from claims.submission.batches import claims_submit
from rcm.models import AuditEvent
from rcm.roles import Role
from tests.api import api
from tests.claims.test_pages_batches import ready


@pytest.fixture
def batch(billing):
    ready(billing)
    (batch,) = claims_submit(practice=billing.practice).batches
    return batch


@pytest.mark.parametrize("role", [Role.MANAGER, Role.COLLECTIONS])
def test_managers_and_collections_do_not_download_837_files_by_default(role, batch, persona):
    client = persona(role)
    page = client.get(f"/claims/batches/{batch.pk}/")
    assert page.status_code == 200 and "Download .837" not in page.content.decode()
    response = client.get(f"/claims/batches/{batch.pk}/download/")
    assert response.status_code == 403
    assert "only billers and administrators download them" in response.content.decode()
    api_response = api(client.user).get(f"/api/batches/{batch.pk}/download/")
    assert api_response.status_code == 403
    assert api_response.json()["error"]["message"].startswith("837 files carry every patient's details")
    assert not AuditEvent.objects.filter(action="export", object_type="claims.submissionbatch").exists()


@pytest.mark.parametrize("role", [Role.MANAGER, Role.COLLECTIONS])
def test_a_practice_can_allow_managers_and_collections_to_download(role, batch, billing, persona):
    billing.practice.viewers_download_batches = True
    billing.practice.save()
    client = persona(role)
    assert "Download .837" in client.get(f"/claims/batches/{batch.pk}/").content.decode()
    response = client.get(f"/claims/batches/{batch.pk}/download/")
    assert response.status_code == 200 and response.content.decode().startswith("ISA*")
    assert (
        AuditEvent.objects.filter(
            action="export", object_type="claims.submissionbatch", user=client.user
        ).count()
        == 1
    )
