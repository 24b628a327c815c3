"""One error format for the whole API:

{"error": {"status": 400, "code": "invalid", "message": "...", "fields": {"npi": ["..."]}}}

``fields`` always maps a name to a list of messages: errors of nested input are named by their path
(``file.1`` for the second uploaded file, ``lines.0.charge``), never a nested object.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's error detail (dicts and lists nested as the input was) as ``{path: [message, ...]}``."""
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            for name, messages in _flatten(value, f"{prefix}.{key}" if prefix else str(key)).items():
                fields.setdefault(name, []).extend(messages)
    elif isinstance(detail, list):
        for index, item in enumerate(detail):
            if isinstance(item, dict | list):
                for name, messages in _flatten(item, f"{prefix}.{index}").items():
                    fields.setdefault(name, []).extend(messages)
            else:
                fields.setdefault(prefix, []).append(str(item))
    else:
        fields.setdefault(prefix, []).append(str(detail))
    return {name: messages for name, messages in fields.items() if messages}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = {
                ("non_field_errors" if key == "__all__" else key): value
                for key, value in exc.message_dict.items()
            }
        else:
            detail = {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    body = {"status": response.status_code, "code": "error", "message": "", "fields": {}}
    if isinstance(exc, exceptions.ValidationError):
        body["code"] = "invalid"
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body["fields"] = _flatten(detail)
        first = next(iter(body["fields"].items()), None)
        body["message"] = f"{first[0]}: {first[1][0]}" if first and first[1] else "Invalid input."
        if first and first[0] == "non_field_errors":
            body["message"] = first[1][0]
    elif isinstance(exc, exceptions.APIException):
        body["code"] = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
        body["message"] = str(exc.detail)
    response.data = {"error": body}
    return response


def error_response(message: str, *, code: str = "invalid", http_status: int = status.HTTP_400_BAD_REQUEST):
    return Response(
        {"error": {"status": http_status, "code": code, "message": message, "fields": {}}}, status=http_status
    )


def not_found(request, exception=None):
    """The project's 404 handler: under ``/api/`` a path no route matches answers in the API's error
    format (JSON), as an unknown id does; pages keep the HTML page."""
    if request.path.startswith("/api/"):
        body = {"status": 404, "code": "not_found", "message": "Not found.", "fields": {}}
        return JsonResponse({"error": body}, status=404)
    return page_not_found(request, exception)
