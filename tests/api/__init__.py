from rest_framework.test import APIClient


def api(user) -> APIClient:
    """An API client signed in as ``user`` (who acts in their first practice unless X-Practice says)."""
    client = APIClient()
    client.force_authenticate(user)
    return client
