"""Issue 16 item 8: a Content-Security-Policy with no inline script or style (and templates that need none),
no-store on API responses, the API schema and docs for signed-in users only."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from tests.conftest import login

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def _policy(response) -> dict[str, str]:
    return {
        part.split()[0]: " ".join(part.split()[1:])
        for part in response["Content-Security-Policy"].split(";")
        if part.strip()
    }


@pytest.mark.parametrize("path", ["/", "/patients/", "/audit/", "/account/", "/kpis/"])
def test_pages_carry_a_policy_that_refuses_inline_script_and_style(manager, path):
    response = login(manager).get(path)
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in response["Content-Security-Policy"]


def test_the_sign_in_page_carries_the_policy_too(db):
    assert _policy(Client().get("/login/"))["default-src"] == "'self'"


# Templates only WeasyPrint renders (into PDFs, on the server): their <style> never reaches a browser.
PDF_TEMPLATES = {
    "kpis/report.html",
    "kpis/scorecard_pdf.html",
    "denials/letter_pdf.html",
    "claims/underpayment_letter.html",
    "payment_plans/plan_agreement_pdf.html",
    "payment_plans/statement_pdf.html",
}


def test_no_template_has_an_inline_script_handler_or_style():
    offences = []
    for path in TEMPLATES.rglob("*.html"):
        if str(path.relative_to(TEMPLATES)) in PDF_TEMPLATES:
            continue  # WeasyPrint renders it on the server into a PDF: no browser sees it
        text = path.read_text()
        for match in re.finditer(r"<script\b([^>]*)>", text):
            attributes = match.group(1)
            if "src=" not in attributes and 'type="application/json"' not in attributes:
                offences.append(f"{path.relative_to(TEMPLATES)}: inline <script>")
        offences += [
            f"{path.relative_to(TEMPLATES)}: {m.group(0)}" for m in re.finditer(r"\son[a-z]+=", text)
        ]
        offences += [
            f"{path.relative_to(TEMPLATES)}: style attribute" for _ in re.finditer(r"\sstyle=", text)
        ]
        offences += [f"{path.relative_to(TEMPLATES)}: <style>" for _ in re.finditer(r"<style\b", text)]
    assert offences == []


def test_api_responses_are_not_stored_by_any_cache(manager):
    client = APIClient()
    client.force_authenticate(manager)
    response = client.get("/api/patients/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_the_api_schema_and_docs_need_a_signed_in_user(manager):
    anonymous = APIClient()
    for path in ("/api/schema/", "/api/docs/"):
        response = anonymous.get(path)
        assert response.status_code == 401, path
        assert b"paths" not in response.content
    client = login(manager)
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert "<script>" not in docs.content.decode()  # Swagger UI starts from a script file, not inline
    # Swagger UI styles the elements it builds inline: its page alone allows inline styles, never scripts.
    assert _policy(docs)["style-src"] == "'self' 'unsafe-inline'" and _policy(docs)["script-src"] == "'self'"
    assert client.get("/api/redoc/").url == "/api/docs/"
