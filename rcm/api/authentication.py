"""API token authentication against hashed, expiring, revocable tokens (``rcm.models.ApiToken``).

``Authorization: Token <key>``: the key is hashed and looked up; an unknown, expired or revoked key is a 401
in the API's error format (never a page), and says no more than that."""

import datetime

from django.core.cache import cache
from django.utils import timezone
from rest_framework import authentication, exceptions

from rcm.middleware import client_ip
from rcm.models import ApiToken
from rcm.services import api_token_hash

# Recording the last use on every request would cost a write per request: once an hour is enough to tell a
# token in use from a forgotten one.
LAST_USED_PRECISION = datetime.timedelta(hours=1)


# Wrong keys from one address: after this many in a minute, the address waits (429) before trying more.
FAILURES_PER_MINUTE = 20


class HashedTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        failures_key = f"api-token-failures:{client_ip(request)}"
        if (cache.get(failures_key) or 0) >= FAILURES_PER_MINUTE:
            raise exceptions.Throttled(
                wait=60, detail="Too many wrong tokens from this address. Wait a minute."
            )
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            if not cache.add(failures_key, 1, timeout=60):
                try:
                    cache.incr(failures_key)
                except ValueError:  # expired between the two calls
                    cache.add(failures_key, 1, timeout=60)
            raise

    def authenticate_credentials(self, key):
        token = (
            ApiToken.objects.select_related("user").filter(key_hash=api_token_hash(key)).first()
            if key
            else None
        )
        now = timezone.now()
        if token is None or not token.is_usable(now) or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token
