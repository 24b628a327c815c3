"""Resolves the current practice and role for each signed-in request, and the audit context."""

from django.conf import settings

from rcm.audit import reset_context, set_context

SESSION_PRACTICE_KEY = "practice_id"


def client_ip(request) -> str | None:
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR") or None


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
