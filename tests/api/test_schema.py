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
    "/api/payers/": {"get"},
    "/api/payers/{id}/": {"get"},
    "/api/providers/": {"get"},
    "/api/providers/{id}/": {"get"},
    "/api/claims/": {"get", "post"},
    "/api/claims/{id}/": {"get"},
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
        "procedure_code", "modifiers", "units", "charge", "service_date_from", "service_date_to", "diagnosis_pointers"}
    assert set(line["required"]) == {"procedure_code", "charge", "service_date_from"}
    assert (line["properties"]["charge"]["type"], line["properties"]["charge"]["format"]) == ("string", "decimal")

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
        for method, operation in schema["paths"][path].items() if method in HTTP_METHODS
        for parameter in operation.get("parameters", []) if parameter["in"] == "query"
    }
    assert query_parameters == {"page", "page_size", "status", "payer", "patient", "ordering"}


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
