"""Additions to the generated OpenAPI schema (drf-spectacular post-processing hooks)."""

ERROR_400 = {
    "description": "Invalid input: the message and ``fields`` name the problem (for a list: a page that "
    "does not exist, or a bad filter).",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def document_page_errors(result, generator, request, public):
    """Every paginated list answers 400 to a page that does not exist (``rcm.api.pagination``): say so."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            ok = operation.get("responses", {}).get("200", {})
            body = ok.get("content", {}).get("application/json", {}).get("schema", {})
            if body.get("$ref", "").startswith("#/components/schemas/Paginated"):
                operation["responses"].setdefault("400", ERROR_400)
    return result


ERROR_403 = {
    "description": "Not allowed: the role may not do this, or the X-Practice header names no practice of "
    "the user.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
ERROR_404 = {
    "description": "No such object in this practice (the id is another practice's, or does not exist).",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def document_practice_errors(result, generator, request, public):
    """Every signed-in operation works in one practice with a role: a practice the user has not, or a role
    without the permission, is a 403; an operation on an object by id answers 404 when the id is not one
    of the practice's. Say so wherever a view did not."""
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if operation.get("security") == [{}]:  # an operation open to anyone
                continue
            operation["responses"].setdefault("403", ERROR_403)
            if "{" in path:
                operation["responses"].setdefault("404", ERROR_404)
    return result
