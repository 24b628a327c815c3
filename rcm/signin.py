"""Session policy after the password: idle sign-out and the two-factor step.

At sign-in (``on_login``) the session records the time and whether this user must give a one-time code
(they have a confirmed TOTP device, or their practice requires one of managers and administrators); the
middleware then only reads the session, so an ordinary request costs no query for either check.

- Idle timeout: a session with no request for the practice's ``idle_timeout_minutes`` (15 by default) is
  signed out; each request moves the deadline on (written at most once a minute, not on every request).
- Two-factor: until the code is given, every page but the verify/enrol pages and sign-out answers with a
  redirect there (the API with a 403 in its error format).
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from rcm.roles import Role
from rcm.services import api_tokens_revoke_for_session

SESSION_LAST_ACTIVITY = "last_activity"
SESSION_TWO_FACTOR = "two_factor"  # "verify" (a device to check), "enrol" (required, none yet), "done"
# The deadline moves on with each request, but the session is written at most this often (seconds).
ACTIVITY_WRITE_INTERVAL = 60
TWO_FACTOR_ROLES = frozenset({Role.MANAGER, Role.ADMIN})


def idle_timeout_seconds(practice) -> int:
    minutes = practice.idle_timeout_minutes if practice is not None else settings.RCM_IDLE_TIMEOUT_MINUTES
    return int(minutes) * 60


def two_factor_state(user) -> str:
    """What the sign-in still needs: "verify" when the user has a confirmed device, "enrol" when a practice
    they manage or administer requires a code and they have none, else "done"."""
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return "verify"
    required = user.memberships_active().filter(role__in=TWO_FACTOR_ROLES, practice__require_two_factor=True)
    return "enrol" if required.exists() else "done"


def on_login(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    request.session[SESSION_LAST_ACTIVITY] = int(time.time())
    request.session[SESSION_TWO_FACTOR] = two_factor_state(user)
    # The stored session ends after the longest idle timeout of the user's practices, counted from its last
    # write (the middleware writes at least once a minute of activity); the middleware applies the timeout
    # of the practice in force.
    timeouts = [idle_timeout_seconds(m.practice) for m in user.memberships_active()]
    request.session.set_expiry(
        min(max(timeouts, default=idle_timeout_seconds(None)), settings.SESSION_COOKIE_AGE)
    )


def on_logout(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        api_tokens_revoke_for_session(session_key=request.session.session_key or "")


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


# Paths a signed-in user may reach before giving the code: a user with a device only the verify step (never
# enrolment, which would let a password alone add a second device), a user who must enrol only enrolment.
TWO_FACTOR_OPEN = {"verify": ("two_factor_verify", "logout"), "enrol": ("two_factor_enrol", "logout")}


class SessionPolicyMiddleware:
    """After ``CurrentPracticeMiddleware`` (it needs the practice's idle timeout)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is None or session is None or not user.is_authenticated:
            return self.get_response(request)  # not signed in through a session (none, or an API token)
        now = int(time.time())
        if SESSION_LAST_ACTIVITY not in session:
            # A session signed in before this policy existed: it starts now, two-factor included.
            session[SESSION_LAST_ACTIVITY] = now
            session[SESSION_TWO_FACTOR] = two_factor_state(user)
        timeout = idle_timeout_seconds(getattr(request, "practice", None))
        if now - session[SESSION_LAST_ACTIVITY] > timeout:
            minutes = timeout // 60
            logout(request)
            if _is_api(request):
                return JsonResponse(
                    {
                        "error": {
                            "status": 401,
                            "code": "session_expired",
                            "message": f"Signed out after {minutes} minutes without activity.",
                            "fields": {},
                        }
                    },
                    status=401,
                )
            messages.info(request, f"You were signed out after {minutes} minutes without activity.")
            return redirect(f"{reverse('login')}?next={request.path}")
        if now - session[SESSION_LAST_ACTIVITY] >= ACTIVITY_WRITE_INTERVAL:
            session[SESSION_LAST_ACTIVITY] = now

        state = session.get(SESSION_TWO_FACTOR, "done")
        if state != "done" and not self._open(request, state):
            if _is_api(request):
                return JsonResponse(
                    {
                        "error": {
                            "status": 403,
                            "code": "two_factor_required",
                            "message": "Give your one-time code at sign-in first.",
                            "fields": {},
                        }
                    },
                    status=403,
                )
            target = "two_factor_verify" if state == "verify" else "two_factor_enrol"
            return redirect(f"{reverse(target)}?next={request.path}")
        return self.get_response(request)

    @staticmethod
    def _open(request, state) -> bool:
        try:
            return resolve(request.path_info).url_name in TWO_FACTOR_OPEN.get(state, ())
        except Resolver404:
            return False
