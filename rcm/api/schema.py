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
