"""The SMS provider's webhook: a patient's reply reaches us here, so STOP is honoured at once.

Twilio posts each inbound text (form fields ``From``, ``To``, ``Body``) to ``/sms/twilio/inbound/``, signed
with the account's auth token (``X-Twilio-Signature``: base64 HMAC-SHA1 of the full URL followed by every
posted field's name and value, sorted by name). An unsigned or wrongly signed request changes nothing (403);
without ``SMS_TWILIO_AUTH_TOKEN`` the endpoint does not exist (404). The sending number is the deployment's
(``SMS_FROM_NUMBER``), shared by its practices, so STOP opts the number out in every practice, as the
carrier does for the number. Nothing of the message (number, words) is logged."""

import base64
import hashlib
import hmac
import logging

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payment_plans.reminders.services import sms_inbound

log = logging.getLogger(__name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def twilio_signature(token: str, url: str, params: dict[str, str]) -> str:
    """The signature Twilio sends for a form POST to ``url`` with ``params``."""
    payload = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@csrf_exempt  # signed by the provider instead (a provider cannot hold our CSRF cookie)
@require_POST
def twilio_inbound(request):
    token = settings.SMS_TWILIO_AUTH_TOKEN
    if not token:
        raise Http404("No SMS provider is configured.")
    params = {name: request.POST.get(name, "") for name in request.POST}
    expected = twilio_signature(token, request.build_absolute_uri(), params)
    if not hmac.compare_digest(expected, request.headers.get("X-Twilio-Signature", "")):
        log.warning("SMS webhook: a request without a valid signature was refused")
        return HttpResponseForbidden("The request is not signed by the SMS provider.")
    opted_out = sms_inbound(practice=None, phone=params.get("From", ""), body=params.get("Body", ""))
    log.info("SMS webhook: inbound text handled, %d patient(s) opted out of texts", opted_out)
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
