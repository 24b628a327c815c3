"""The harness itself: the axe check fails on a serious violation and names the element."""

import pytest

from tests.browser import harness
from tests.browser.harness import axe_check, axe_violations

pytestmark = pytest.mark.browser


def test_axe_check_fails_listing_serious_and_critical_violations(page):
    page.set_content(
        '<!doctype html><html lang="en"><head><title>t</title></head><body><main>'
        '<h1>Claims</h1><img src="x.png" id="logo"><p style="color:#aaa;background:#fff" id="faint">faint</p>'
        "</main></body></html>"
    )
    assert sorted((v["id"], v["impact"]) for v in axe_violations(page)) == [
        ("color-contrast", "serious"),
        ("image-alt", "critical"),
    ]
    with pytest.raises(pytest.fail.Exception) as failure:
        axe_check(page)
    assert "critical: image-alt: Images must have alternative text" in str(failure.value)
    assert "    #logo: " in str(failure.value)
    assert "serious: color-contrast: " in str(failure.value) and "    #faint: " in str(failure.value)


def test_axe_check_passes_a_clean_page(page):
    page.set_content(
        '<!doctype html><html lang="en"><head><title>t</title></head><body><main>'
        "<h1>Claims</h1><p>Readable text.</p></main></body></html>"
    )
    axe_check(page)


def test_without_chromium_the_tests_skip_but_fail_in_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(harness, "CHROMIUM", tmp_path / "chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium is missing: install it with `apt-get install"):
        harness.chromium_or_skip()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="chromium is missing"):
        harness.chromium_or_skip()
