"""A quiet start: a refused request logs one line (no traceback), the favicon is served, the package
metadata uses an SPDX license string."""

import logging
import tomllib
from pathlib import Path

from tests.conftest import login

ROOT = Path(__file__).resolve().parents[2]


def _handled(record: logging.LogRecord) -> logging.LogRecord:
    """Pass the record through the filters ``settings.LOGGING`` put on ``django.request``."""
    logger = logging.getLogger("django.request")
    assert logger.filters, "django.request has no filter"
    for log_filter in logger.filters:
        log_filter.filter(record)
    return record


def test_a_403_is_logged_on_one_line_without_a_traceback(persona, caplog):
    client = persona("collections")
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get("/claims/queues/").status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert [(r.levelname, r.getMessage(), r.exc_info) for r in records] == [
        ("WARNING", "Forbidden (Permission denied): /claims/queues/", None)
    ]
    assert "Traceback" not in caplog.text


def test_a_server_error_keeps_its_traceback():
    try:
        raise RuntimeError("boom")
    except RuntimeError as error:
        exc_info = (type(error), error, error.__traceback__)
    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "Internal Server Error", (), exc_info
    )
    record.status_code = 500
    assert _handled(record).exc_info == exc_info


def test_the_favicon_is_linked_from_every_page_and_served_at_favicon_ico(biller, client):
    html = login(biller).get("/").content.decode()
    assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in html
    response = client.get("/favicon.ico")
    assert (response.status_code, response.url) == (301, "/static/img/favicon.svg")
    assert (ROOT / "static" / "img" / "favicon.svg").read_text().startswith("<svg ")


def test_the_license_is_an_spdx_string_with_a_setuptools_that_reads_it():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "AGPL-3.0-or-later"
    assert "setuptools>=77" in project["build-system"]["requires"]
