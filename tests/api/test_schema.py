import pytest
import yaml
from django.core.management import call_command

from tests.conftest import login

OPERATIONS = {
    "/api/patients/": {"get", "post"},
    "/api/patients/{id}/": {"get"},
    "/api/patients/search/": {"post"},
    "/api/coverages/": {"get", "post"},
    "/api/coverages/{id}/": {"get"},
    "/api/payers/": {"get", "post"},
    "/api/payers/{id}/": {"get", "patch"},
    "/api/payers/{id}/deactivate/": {"post"},
    "/api/contracts/": {"get", "post"},
    "/api/contracts/{id}/": {"get", "patch"},
    "/api/contracts/{id}/new-rate-year/": {"post"},
    "/api/contracts/{id}/fee-schedule/": {"get", "post"},
    "/api/contracts/{id}/fee-schedule/export/": {"get"},
    "/api/providers/": {"get"},
    "/api/providers/{id}/": {"get"},
    "/api/claims/": {"get", "post"},
    "/api/claims/{id}/": {"get", "put"},
    "/api/claims/{id}/scrub/": {"post"},
    "/api/claims/{id}/bill-secondary/": {"post"},
    "/api/batches/": {"get", "post"},
    "/api/batches/{id}/": {"get"},
    "/api/batches/{id}/download/": {"get"},
    "/api/x12-files/": {"get", "post"},
    "/api/x12-files/{id}/": {"get"},
    "/api/queues/": {"get"},
    "/api/queues/{slug}/claims/": {"get"},
    "/api/queues/assign/": {"post"},
}
HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


@pytest.fixture
def schema(manager):
    response = login(manager).get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def _request_schema(schema, path):
    content = schema["paths"][path]["post"]["requestBody"]["content"]
    assert list(content) == ["application/json"]
    name = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    return schema["components"]["schemas"][name]


def test_the_schema_lists_the_core_model_operations(schema):
    for path, methods in OPERATIONS.items():
        assert set(schema["paths"][path]) & HTTP_METHODS == methods, path


def test_the_create_request_bodies_are_described(schema):
    claim = _request_schema(schema, "/api/claims/")
    assert set(claim["required"]) == {"patient", "coverage", "billing_provider", "diagnosis_codes", "lines"}
    assert claim["properties"]["coverage"]["nullable"] is True
    line_ref = claim["properties"]["lines"]["items"]["$ref"].rsplit("/", 1)[1]
    line = schema["components"]["schemas"][line_ref]
    assert set(line["properties"]) == {
        "procedure_code",
        "modifiers",
        "units",
        "charge",
        "service_date_from",
        "service_date_to",
        "diagnosis_pointers",
    }
    assert set(line["required"]) == {"procedure_code", "charge", "service_date_from"}
    assert (line["properties"]["charge"]["type"], line["properties"]["charge"]["format"]) == (
        "string",
        "decimal",
    )

    patient = _request_schema(schema, "/api/patients/")
    assert {"first_name", "last_name", "date_of_birth", "sex", "guarantor"} <= set(patient["properties"])
    assert "account_number" not in patient["required"]

    coverage = _request_schema(schema, "/api/coverages/")
    assert {"patient", "payer", "member_id", "effective_date"} <= set(coverage["required"])

    search = _request_schema(schema, "/api/patients/search/")
    assert set(search["properties"]) == {"last_name", "first_name", "date_of_birth", "account_number"}


def test_no_operation_takes_patient_details_in_the_query_string(schema):
    query_parameters = {
        parameter["name"]
        for path in OPERATIONS
        for method, operation in schema["paths"][path].items()
        if method in HTTP_METHODS
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query"
    }
    assert query_parameters == {
        "page",
        "page_size",
        "status",
        "payer",
        "patient",
        "ordering",
        "sort",
        "assigned_to",
        "unassigned",
        "as",  # the fee schedule export's file type
    }


def test_claim_statuses_are_one_enum_everywhere(schema):
    components = schema["components"]["schemas"]
    ref = {"$ref": "#/components/schemas/ClaimStatusEnum"}
    assert components["ClaimStatusChange"]["properties"]["from_status"] == ref
    assert components["ClaimStatusChange"]["properties"]["to_status"] == ref
    assert components["Claim"]["properties"]["status"] == ref
    assert components["ClaimStatusEnum"]["enum"][:3] == ["draft", "ready", "submitted"]


def test_the_schema_generates_without_warnings_and_validates(db, tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert "/api/claims/{id}/" in yaml.safe_load((tmp_path / "schema.yml").read_text())["paths"]


def _component(schema, ref):
    return schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


def test_claim_editing_takes_the_create_body_without_the_patient(schema):
    content = schema["paths"]["/api/claims/{id}/"]["put"]["requestBody"]["content"]
    update = _component(schema, content["application/json"]["schema"])
    create = _request_schema(schema, "/api/claims/")
    assert set(update["properties"]) == set(create["properties"]) - {"patient"}
    assert set(update["required"]) == {"coverage", "billing_provider", "diagnosis_codes", "lines"}
    assert update["properties"]["lines"] == create["properties"]["lines"]


def test_every_new_operation_documents_its_errors_in_the_error_format(schema):
    error = {"$ref": "#/components/schemas/Error"}
    expected = {
        ("/api/claims/{id}/scrub/", "post"): {"200", "400", "403", "404"},
        ("/api/claims/{id}/bill-secondary/", "post"): {"200", "400", "403", "404"},
        ("/api/claims/{id}/", "put"): {"200", "400", "403", "404"},
        ("/api/batches/", "post"): {"201", "400", "403"},
        ("/api/batches/{id}/download/", "get"): {"200", "403", "404"},
        ("/api/x12-files/", "post"): {"201", "400", "403"},
        ("/api/queues/{slug}/claims/", "get"): {"200", "400", "403", "404"},
        ("/api/queues/assign/", "post"): {"200", "400", "403", "409"},
        ("/api/queues/{slug}/next/", "post"): {"200", "403", "404"},
    }
    for (path, method), codes in expected.items():
        responses = schema["paths"][path][method]["responses"]
        codes = codes | {"401", "429"}  # every signed-in operation: no valid token or session; throttled
        assert set(responses) == codes, path
        for code in codes - {"200", "201"}:
            assert responses[code]["content"] == {"application/json": {"schema": error}}, (path, code)


def test_the_837p_download_and_the_x12_upload_are_described(schema):
    download = schema["paths"]["/api/batches/{id}/download/"]["get"]
    assert download["responses"]["200"]["content"] == {"application/edi-x12": {"schema": {"type": "string"}}}
    assert [p["name"] for p in download["parameters"] if p["in"] == "query"] == []
    upload = schema["paths"]["/api/x12-files/"]["post"]["requestBody"]["content"]
    assert list(upload) == ["multipart/form-data"]
    body = _component(schema, upload["multipart/form-data"]["schema"])
    assert body["properties"]["file"]["items"] == {"type": "string", "format": "binary"}


def test_queue_claims_are_paginated_and_the_queue_is_one_of_the_known_slugs(schema):
    operation = schema["paths"]["/api/queues/{slug}/claims/"]["get"]
    (slug,) = [p for p in operation["parameters"] if p["in"] == "path"]
    assert slug["schema"]["enum"] == [
        "deadlines",
        "denied",
        "no_response",
        "ready",
        "rejected",
        "scrub_errors",
        "underpaid",
    ]
    page = _component(schema, operation["responses"]["200"]["content"]["application/json"]["schema"])
    row = _component(schema, page["properties"]["results"]["items"])
    assert set(row["properties"]) == {
        "id",
        "patient_control_number",
        "patient",
        "payer",
        "status",
        "service_date",
        "balance_total",
        "deadline",
        "assigned_to",
        "scrub_status",
    }
    queues = schema["paths"]["/api/queues/"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    assert queues["type"] == "array"  # every queue at once, not paginated


def test_a_contract_names_its_base_payer_by_id(schema):
    created = _request_schema(schema, "/api/contracts/")
    assert "base_contract" not in created["properties"]
    assert {key: created["properties"]["base_payer"][key] for key in ("type", "nullable")} == {
        "type": "integer",
        "nullable": True,
    }
    assert created["properties"]["base_payer"]["description"] == (
        "For % of a base schedule: the base payer (an id); its contract in force on each date of service is "
        "the base."
    )
    read = schema["components"]["schemas"]["Contract"]["properties"]
    assert (read["base_payer"]["type"], "base_contract" in read) == ("integer", False)
