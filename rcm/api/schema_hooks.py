"""OpenAPI post-processing: the answers every authenticated operation can give, documented once.

A missing, bad, expired or revoked token, or an idle session, is a 401; too many requests a 429 (DRF
throttles, wrong tokens from one address). Both come in the API's one error format."""

ERROR_REF = {"$ref": "#/components/schemas/Error"}
COMMON_ERRORS = {
    "401": "Not signed in: no token, or a bad, expired or revoked one, or a session signed out when idle.",
    "429": "Too many requests: wait and try again (the Retry-After header says how long).",
}


def document_authentication_errors(result, generator, request, public):
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if operation.get("security") == [{}]:  # an operation open to anyone
                continue
            for code, description in COMMON_ERRORS.items():
                operation["responses"].setdefault(
                    code, {"content": {"application/json": {"schema": ERROR_REF}}, "description": description}
                )
    return result
