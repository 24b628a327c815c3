"""Text messages: a small backend interface, like Django's email backends.

``sms_backend()`` builds the backend named by ``settings.SMS_BACKEND``. ``FileSmsBackend`` appends one JSON
line per message to ``settings.SMS_FILE_PATH`` (development and the demo); ``TwilioSmsBackend`` posts to the
Twilio REST API (a real provider, configured by the ``SMS_TWILIO_*`` settings); ``LocmemSmsBackend`` keeps
messages in memory for tests.
"""

import base64
import json
import threading
import urllib.parse
import urllib.request
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string


class SmsBackend:
    def send(self, *, to: str, body: str) -> str:
        """Send one message; return the provider's message id. Raise on failure."""
        raise NotImplementedError


class FileSmsBackend(SmsBackend):
    _lock = threading.Lock()

    def send(self, *, to: str, body: str) -> str:
        path = Path(settings.SMS_FILE_PATH)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"at": timezone.now().isoformat(), "to": to, "body": body}, ensure_ascii=False)
        with self._lock, path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
        return f"file:{path.name}"


class LocmemSmsBackend(SmsBackend):
    outbox: list[dict] = []

    def send(self, *, to: str, body: str) -> str:
        self.outbox.append({"to": to, "body": body})
        return f"locmem:{len(self.outbox)}"


class TwilioSmsBackend(SmsBackend):
    API = "https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages.json"

    def send(self, *, to: str, body: str) -> str:
        sid, token = settings.SMS_TWILIO_ACCOUNT_SID, settings.SMS_TWILIO_AUTH_TOKEN
        if not (sid and token and settings.SMS_FROM_NUMBER):
            raise RuntimeError(
                "Twilio SMS needs SMS_TWILIO_ACCOUNT_SID, SMS_TWILIO_AUTH_TOKEN and SMS_FROM_NUMBER."
            )
        data = urllib.parse.urlencode({"To": to, "From": settings.SMS_FROM_NUMBER, "Body": body}).encode()
        request = urllib.request.Request(self.API.format(sid=sid), data=data, method="POST")  # noqa: S310
        request.add_header("Authorization", "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode())
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - fixed https URL
            return json.loads(response.read())["sid"]


def sms_backend() -> SmsBackend:
    return import_string(settings.SMS_BACKEND)()
