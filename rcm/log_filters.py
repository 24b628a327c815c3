"""Logging filters of the project (wired in ``settings.LOGGING``).

Django logs every refused request (403, 404, 400) on ``django.request`` as a warning, and for a
``PermissionDenied`` it attaches the exception, so the console shows a full traceback for what is an
ordinary answer: a user opening a page their role does not allow. A refusal is one line; only server
errors (5xx) keep their traceback."""

import logging


class RefusalsOnOneLine(logging.Filter):
    """Drop the traceback of a ``django.request`` record about a 4xx response; keep the line."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
