import base64

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from rcm.audit import audit_change_rows, audit_object_label, audit_record
from rcm.exports import csv_writer
from rcm.health import health_report
from rcm.middleware import SESSION_PRACTICE_KEY
from rcm.models import ApiToken, AuditAction, AuditEvent, Membership
from rcm.permissions import role_required
from rcm.roles import Role
from rcm.selectors import audit_events_filtered
from rcm.services import (
    api_token_issue,
    api_token_revoke,
    membership_role_change,
    membership_set_active,
    practice_policy_update,
    team_member_add,
)
from rcm.signin import SESSION_TWO_FACTOR
from rcm.tenancy import get_scoped_or_404, scoped

AUDIT_PAGE_SIZE = 100


@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico where a page names no icon (the API, a downloaded file): the SVG."""
    return redirect(static("img/favicon.svg"), permanent=True)


@require_GET
@never_cache
def healthz(request):
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)


@login_required
@require_POST
def practice_switch(request):
    slug = request.POST.get("practice", "")
    membership = next((m for m in request.memberships if m.practice.slug == slug), None)
    if membership is None:
        messages.error(request, "You are not a member of that practice.")
        return redirect("home")
    request.session[SESSION_PRACTICE_KEY] = membership.practice_id
    messages.success(request, f"Now working in {membership.practice.name}.")
    return redirect("home")


@login_required
@never_cache
def account(request):
    """The user's practices, API tokens (issue, list, revoke) and two-factor sign-in."""
    issued = None
    if request.method == "POST":
        if revoke_id := request.POST.get("revoke"):
            token = ApiToken.objects.filter(
                user=request.user, pk=revoke_id if revoke_id.isdigit() else 0
            ).first()
            if token is None:
                messages.error(request, "No such token of yours.")
            else:
                api_token_revoke(token=token, user=request.user)
                messages.success(request, f"Token {token.prefix}… is revoked: it no longer works.")
            return redirect("account")
        for_session = request.POST.get("lifetime") == "session"
        issued = api_token_issue(
            user=request.user, session_key=(request.session.session_key or "") if for_session else ""
        )
        messages.success(request, "A new API token was issued. Copy it now: it is shown only once.")
    tokens = ApiToken.objects.filter(
        user=request.user, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )
    return render(
        request,
        "rcm/account.html",
        {
            "new_token": issued.key if issued else None,
            "tokens": tokens,
            "two_factor_on": TOTPDevice.objects.filter(user=request.user, confirmed=True).exists(),
        },
    )


def _two_factor_done(request):
    request.session[SESSION_TWO_FACTOR] = "done"
    return redirect(url_has_allowed_host_and_scheme_or_home(request))


def url_has_allowed_host_and_scheme_or_home(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("home")


@login_required
@never_cache
def two_factor_enrol(request):
    """Turn on two-factor sign-in: scan the QR code (drawn as SVG here, nothing fetched) into an
    authenticator app and give one code to confirm it."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="authenticator", confirmed=False)
    if request.method == "POST":
        code = "".join(request.POST.get("code", "").split())
        if code.isdigit() and device.verify_token(code):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            audit_record(
                action=AuditAction.UPDATE,
                object_type="rcm.user",
                object_id=request.user.pk,
                changes={"two_factor": [False, True]},
            )
            messages.success(request, "Two-factor sign-in is on: each sign-in now asks for a code.")
            return _two_factor_done(request)
        messages.error(request, "That code does not match. Check the app's current code and try again.")
    qr_svg = segno.make(device.config_url, error="m").svg_inline(
        scale=5, title="QR code for your authenticator app"
    )
    return render(
        request,
        "registration/two_factor_enrol.html",
        {
            "qr_svg": qr_svg,
            "secret": base64.b32encode(device.bin_key).decode(),
            "next": request.GET.get("next", ""),
        },
    )


@login_required
@never_cache
def two_factor_verify(request):
    """The second step of sign-in for users with two-factor on: the code from their app."""
    if request.method == "POST":
        code = "".join(request.POST.get("code", "").split())
        devices = list(TOTPDevice.objects.filter(user=request.user, confirmed=True))
        # django-otp makes each try after a wrong code wait longer (1 s, 2 s, 4 s...): say so when it does.
        waits = [info for allowed, info in (d.verify_is_allowed() for d in devices) if not allowed]
        if devices and len(waits) == len(devices) and all(w and w.get("locked_until") for w in waits):
            seconds = max(1, round((min(w["locked_until"] for w in waits) - timezone.now()).total_seconds()))
            messages.error(
                request, f"Too many wrong codes: wait {seconds} s, then type the app's current code."
            )
        elif code.isdigit() and any(device.verify_token(code) for device in devices):
            return _two_factor_done(request)
        else:
            audit_record(
                action=AuditAction.LOGIN_FAILED,
                object_type="rcm.user",
                object_id=request.user.pk,
                changes={"two_factor": "wrong code"},
            )
            messages.error(request, "That code does not match. Check the app's current code and try again.")
    return render(request, "registration/two_factor_verify.html", {"next": request.GET.get("next", "")})


AUDIT_EXPORT_HEADER = ["When", "User", "Action", "Object", "Object id", "Changes", "IP address", "Source"]


def _audit_rows_for_export(events):
    for event in events.iterator(chunk_size=2000):
        changes = "; ".join(
            f"{row.label}: {row.old} → {row.new}" if row.is_change else f"{row.label}: {row.new}"
            for row in audit_change_rows(event)
        )
        yield [
            timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S"),
            event.username,
            event.get_action_display(),
            audit_object_label(event.object_type),
            event.object_id,
            changes,
            event.ip_address or "",
            event.source,
        ]


@role_required("audit.view")
@never_cache
def audit_log(request):
    """The practice's audit trail, a page at a time; ``format=csv`` exports the filtered events (a date
    range for a compliance review), and the export is itself an audit event naming the filters."""
    events = audit_events_filtered(scoped(AuditEvent, request.practice), request.GET)
    if request.GET.get("format") == "csv":
        audit_record(
            action=AuditAction.EXPORT,
            practice=request.practice,
            object_type="rcm.auditevent",
            changes={
                key: request.GET[key]
                for key in ("date_from", "date_to", "user", "action", "object_type", "object_id")
                if request.GET.get(key)
            },
        )
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        response["Cache-Control"] = "no-store"
        writer = csv_writer(response)
        writer.writerow(AUDIT_EXPORT_HEADER)
        for row in _audit_rows_for_export(events):
            writer.writerow(row)
        return response
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "event": event,
            "object_label": audit_object_label(event.object_type),
            "changes": audit_change_rows(event),
        }
        for event in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "rcm/audit_log.html",
        {
            "page": page,
            "rows": rows,
            "filters": request.GET,
            "querystring": query.urlencode(),
            "actions": AuditAction.choices,
        },
    )


# --- The practice's team (administrators only) ----------------------------------------------------------


def _first_error(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        field, messages_ = next(iter(error.message_dict.items()))
        return (
            messages_[0] if field == "__all__" else f"{field.replace('_', ' ').capitalize()}: {messages_[0]}"
        )
    return error.messages[0]


@role_required("settings.edit")
@never_cache
def team(request):
    """The practice's members and their roles: add someone, change a role, deactivate or bring back. Every
    change is in the audit log (memberships are audited models; a new user is an event of its own)."""
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "policy":
                practice_policy_update(
                    practice=request.practice,
                    by=request.user,
                    idle_timeout_minutes=request.POST.get("idle_timeout_minutes"),
                    require_two_factor=request.POST.get("require_two_factor") == "on",
                    viewers_download_batches=request.POST.get("viewers_download_batches") == "on",
                )
                messages.success(request, "The practice's sign-in and data policy is saved.")
            elif action == "add":
                membership = team_member_add(
                    practice=request.practice,
                    by=request.user,
                    username=request.POST.get("username", ""),
                    role=request.POST.get("role", ""),
                    first_name=request.POST.get("first_name", "").strip(),
                    last_name=request.POST.get("last_name", "").strip(),
                    email=request.POST.get("email", "").strip(),
                    password=request.POST.get("password", ""),
                )
                messages.success(
                    request, f"{membership.user.get_username()} joined as {membership.get_role_display()}."
                )
            else:
                membership = get_scoped_or_404(
                    Membership.objects.select_related("user"),
                    request.practice,
                    pk=request.POST.get("membership") or 0,
                )
                if action == "role":
                    membership = membership_role_change(
                        membership=membership, role=request.POST.get("role", ""), by=request.user
                    )
                    messages.success(
                        request, f"{membership.user.get_username()} is now {membership.get_role_display()}."
                    )
                elif action in ("deactivate", "reactivate"):
                    membership = membership_set_active(
                        membership=membership, active=action == "reactivate", by=request.user
                    )
                    state = "active again" if membership.is_active else "deactivated"
                    messages.success(request, f"{membership.user.get_username()} is {state}.")
                else:
                    messages.error(request, "Unknown action.")
        except ValidationError as error:
            messages.error(request, _first_error(error))
            if action == "add":
                return render(request, "rcm/team.html", _team_context(request, request.POST), status=400)
        return redirect("team")
    return render(request, "rcm/team.html", _team_context(request, {}))


def _team_context(request, form_values) -> dict:
    return {
        "members": scoped(Membership, request.practice)
        .select_related("user")
        .order_by("-is_active", "user__username"),
        "roles": Role.choices,
        "form": {
            key: form_values.get(key, "") for key in ("username", "first_name", "last_name", "email", "role")
        },
    }
