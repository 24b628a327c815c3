"""What the browser tests share: Chromium's launch settings, signing in as a persona through the login
page, the axe-core check, and screenshots.

The browser is Debian's Chromium (``/usr/bin/chromium``), never one Playwright downloads: CI has no network
but the package registries. axe-core is the copy inside the ``axe-playwright-python`` wheel, injected into
the page, so nothing is fetched while the tests run."""

import os
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root in a container
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
VIEWPORT = {"width": 1440, "height": 900}
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
PASSWORD = "correct-horse-battery"  # tests.rcm.factories.UserFactory's password
# What fails a page: axe's two worst levels. "moderate" and "minor" findings are left to judgement.
FAILING_IMPACTS = ("critical", "serious")

_axe = Axe()


def chromium_or_skip() -> None:
    """Skip when Chromium is not installed, except in CI (``CI`` set), where a missing browser is a failure:
    the browser tests must not pass there by not running."""
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: install it with `apt-get install chromium` to run the browser tests."
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def sign_in(page, live_server, user, *, password: str = PASSWORD) -> None:
    """Sign ``user`` in through the login page, as a person does, and wait for the home page."""
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")


def axe_violations(page, *, impacts=FAILING_IMPACTS) -> list[dict]:
    """axe-core's violations on the page once loaded, those of ``impacts`` only."""
    page.wait_for_load_state()
    results = _axe.run(page)
    return [v for v in results.response["violations"] if v["impact"] in impacts]


def axe_report(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"{violation['impact']}: {violation['id']}: {violation['help']} ({violation['helpUrl']})"
        )
        for node in violation["nodes"]:
            where = ", ".join(map(str, node["target"]))
            lines.append(f"    {where}: {node['failureSummary'].splitlines()[-1].strip()}")
    return "\n".join(lines)


def axe_check(page) -> None:
    """Fail the test, listing each element, when axe-core finds a serious or critical violation on
    the page."""
    violations = axe_violations(page)
    if violations:
        pytest.fail(f"axe-core on {page.url}:\n{axe_report(violations)}", pytrace=False)


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Save the page as ``var/screenshots/<name>.png`` (the folder the README's screenshots are
    picked from)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # From the top: a page scrolled to an anchor would show its sticky top bar halfway down the picture.
    page.evaluate("window.scrollTo(0, 0)")
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
