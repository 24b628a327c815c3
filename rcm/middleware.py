"""Resolves the current practice and role for each signed-in request, and the audit context."""

import ipaddress

from django.conf import settings
from django.utils.cache import patch_cache_control

from rcm.audit import reset_context, set_context

SESSION_PRACTICE_KEY = "practice_id"


def client_ip(request) -> str | None:
    """The client's address. Behind ``RCM_TRUSTED_PROXIES`` proxies (default 0: none, use the socket's
    address) it is the entry that many places from the right of ``X-Forwarded-For``: each trusted proxy
    appends the address it saw, and anything further left was written by the client and proves nothing."""
    remote = request.META.get("REMOTE_ADDR") or None
    trusted = getattr(settings, "RCM_TRUSTED_PROXIES", 0)
    if trusted <= 0:
        return remote
    entries = [
        entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()
    ]
    if len(entries) < trusted:
        return remote
    candidate = entries[-trusted]
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return remote
    return candidate


def resolve_membership(user, wanted_practice_id=None, wanted_slug=None):
    """The user's active memberships and the one in force (the wanted one if the user has it)."""
    memberships = list(user.memberships_active())
    current = None
    for membership in memberships:
        if (wanted_practice_id is not None and membership.practice_id == wanted_practice_id) or (
            wanted_slug is not None and membership.practice.slug == wanted_slug
        ):
            current = membership
            break
    if current is None and memberships and wanted_slug is None:
        # No choice made yet: the practice the user joined first (their home practice).
        current = min(memberships, key=lambda m: (m.created_at, m.pk))
    return memberships, current


def attach_practice(request, user, *, wanted_practice_id=None, wanted_slug=None) -> None:
    memberships, current = resolve_membership(
        user, wanted_practice_id=wanted_practice_id, wanted_slug=wanted_slug
    )
    request.memberships = memberships
    request.membership = current
    request.practice = current.practice if current else None
    request.role = current.role if current else None


class CurrentPracticeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.memberships, request.membership, request.practice, request.role = [], None, None, None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            attach_practice(request, user, wanted_practice_id=request.session.get(SESSION_PRACTICE_KEY))
            token = set_context(user=user, ip_address=client_ip(request), source="web")
        else:
            token = set_context(user=None, ip_address=client_ip(request), source="web")
        try:
            return self.get_response(request)
        finally:
            reset_context(token)


class SecurityHeadersMiddleware:
    """Headers every response carries:

    - ``Content-Security-Policy`` (``RCM_CONTENT_SECURITY_POLICY``): scripts and styles only from our own
      static files, no inline script or style, nothing from other origins, no framing. Pages keep their
      behaviour in ``static/`` (``js/app.js``, ``kpis/dashboard.js``), so a script injected into a page
      does not run.
    - ``Cache-Control: no-store`` on API responses: they carry PHI, which no browser or proxy cache keeps.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.RCM_CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        if request.path_info.startswith("/api/"):
            patch_cache_control(response, no_store=True, no_cache=True, private=True, max_age=0)
        return response
