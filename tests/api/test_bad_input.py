"""Bad input is never a 500 (issue #16, item 5): each case answers a clear refusal naming the problem,
and saves nothing but the refused file where files are kept."""

import pathlib
import re
import threading
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections

from claims.edi.intake import x12_import
from claims.models import Claim, Remittance, Transaction, X12File
from claims.scrubber.ncci import ncci_load_samples
from tests.api import api
from tests.api.test_claims_api import _new_claim, chart  # noqa: F401 - chart is a fixture
from tests.claims.conftest import Billing
from tests.claims.era_builder import era
from tests.claims.test_era_posting import _paid_era, submitted
from tests.claims.test_pages_remittances import unknown_payment
from tests.conftest import login

ROOT = pathlib.Path(__file__).resolve().parents[2]
NUL_REFUSAL = (
    "This is not an X12 text file: it holds NUL bytes (a binary file, or text saved as UTF-16). "
    "Save it as plain text (ASCII or UTF-8) and upload it again."
)


def _upload(name, content: bytes):
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def _error(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]


@pytest.fixture
def billing(practice):
    ncci_load_samples()
    return Billing(practice)


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
        era(trace="EFT-UTF16", claims=[]).encode("utf-16"),
    ],
    ids=["binary", "utf-16"],
)
def test_a_file_with_nul_bytes_is_refused_clearly_and_kept_without_them(biller, content):
    error = _error(
        api(biller).post("/api/x12-files/", {"file": [_upload("scan.835", content)]}, format="multipart"), 400
    )
    assert error["message"] == f"scan.835 was refused: {NUL_REFUSAL} Nothing was changed."
    kept = X12File.objects.get()
    assert (kept.status, kept.error) == ("refused", NUL_REFUSAL)
    assert "\x00" not in kept.content
    assert not Remittance.objects.exists()


def test_the_upload_page_refuses_a_nul_byte_file_with_the_same_words(biller):
    response = login(biller).post(
        "/claims/files/upload/", {"files": [_upload("scan.835", b"ISA\x00\x00")]}, follow=True
    )
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        f"scan.835 was refused: {NUL_REFUSAL} Nothing was changed."
    ]


def test_two_files_one_empty_are_refused_naming_the_empty_one(biller):
    files = [_upload("good.999", b"ISA*00*"), _upload("empty.835", b"")]
    error = _error(api(biller).post("/api/x12-files/", {"file": files}, format="multipart"), 400)
    assert error["fields"] == {"file": ["empty.835 was refused: the file is empty. Nothing was changed."]}
    assert error["message"] == "file: empty.835 was refused: the file is empty. Nothing was changed."
    assert not X12File.objects.exists()


def test_the_page_and_the_api_share_one_upload_size_limit(biller, settings):
    settings.RCM_MAX_UPLOAD_MB = 1
    big = b"ISA" + b"*" * (1024 * 1024)
    refusal = "big.835 was refused: it is larger than 1 MB. Nothing was changed."
    error = _error(api(biller).post("/api/x12-files/", {"file": [_upload("big.835", big)]}), 400)
    assert error["fields"] == {"file": [refusal]}
    page = login(biller).post("/claims/files/upload/", {"files": [_upload("big.835", big)]}, follow=True)
    assert [str(m) for m in page.context["messages"]] == [refusal]
    assert not X12File.objects.exists()


def test_error_fields_are_always_names_with_lists_of_messages(biller, chart):  # noqa: F811
    body = _new_claim(chart)
    body["lines"] = [{"units": "1"}]  # a line without its keys: DRF's nested errors
    error = _error(api(biller).post("/api/claims/", body, format="json"), 400)
    assert all(
        isinstance(name, str) and isinstance(messages, list) for name, messages in error["fields"].items()
    )
    assert all(isinstance(message, str) for messages in error["fields"].values() for message in messages)


def test_two_lines_of_five_billion_are_refused_not_overflowed(biller, chart):  # noqa: F811
    body = _new_claim(chart)
    for line in body["lines"]:
        line["charge"] = "5000000000.00"
    before = (Claim.objects.count(), Transaction.objects.count())
    error = _error(api(biller).post("/api/claims/", body, format="json"), 400)
    assert error["fields"]["lines[1].charge"] == [
        "A line's charge must be at most $999,999.99 (got $5,000,000,000.00)."
    ]
    assert (Claim.objects.count(), Transaction.objects.count()) == before


def test_every_api_view_parses_json_with_the_guarded_parser():
    offenders = [
        str(path.relative_to(ROOT))
        for app in ("rcm", "claims", "denials", "payment_plans", "kpis")
        for path in (ROOT / app).rglob("*.py")
        if re.search(r"from rest_framework\.parsers import .*\bJSONParser\b", path.read_text())
    ]
    assert offenders == []


def test_a_deeply_nested_json_body_is_a_400(biller):
    body = "[" * 100_000 + "]" * 100_000
    error = _error(api(biller).post("/api/claims/", body, content_type="application/json"), 400)
    assert (error["code"], error["message"]) == (
        "parse_error",
        "JSON parse error - the body is nested too deeply.",
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_three_rewrapped_copies_of_one_era_at_once_post_once_and_every_file_is_kept(practice):
    """Three envelopes (other control numbers: other files) around one payment (TRN02): one posts, the
    other two are refused as already posted, and all three files are kept."""
    ncci_load_samples()
    claim = submitted(Billing(practice))
    texts = [era(control=f"00000070{n}", trace="EFT-REWRAP", claims=[_paid_era(claim)]) for n in range(3)]
    barrier = threading.Barrier(3)
    results, failures = [], []

    def worker(text):
        try:
            barrier.wait(10)
            results.append(x12_import(practice=practice, file_name="copy.835", content=text))
        except Exception as exc:  # noqa: BLE001 - the test reports any
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(text,)) for text in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert sorted(r.file.status for r in results) == ["applied", "refused", "refused"]
    assert all("was already posted from" in r.file.error for r in results if r.file.status == "refused")
    assert X12File.objects.count() == 3
    assert Remittance.objects.count() == 1
    claim.refresh_from_db()
    assert claim.insurance_paid == Decimal("138.00")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite does not check numeric precision")
def test_an_era_with_an_amount_too_large_for_its_column_is_refused_and_kept(billing):
    text = era(trace="EFT-HUGE", claims=[unknown_payment(paid="99999999999999.00")])
    result = x12_import(practice=billing.practice, file_name="huge.835", content=text)
    assert (result.file.status, result.file.error) == (
        "refused",
        "A number in this file is too large (an amount or a count out of range).",
    )
    assert X12File.objects.filter(status="refused").count() == 1
    assert not Remittance.objects.exists()
