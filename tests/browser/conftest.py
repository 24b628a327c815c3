"""Browser fixtures: the app on a live server, one Chromium per test module, a fresh page per test.

The live server runs in a thread of this process and reads the test database, so the tests use
``transactional_db`` (the data they create is committed, visible to the server, and flushed afterwards).
Under pytest-xdist each worker has its own database, live server and browser."""

import pytest
from playwright.sync_api import sync_playwright

from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, chromium_or_skip


@pytest.fixture(scope="module")
def browser():
    chromium_or_skip()
    with sync_playwright() as playwright, pytest.MonkeyPatch.context() as patch:
        # Playwright's sync API keeps an asyncio loop on this thread; the test's own ORM calls (setting
        # up claims, reading them back) are still plain synchronous code, so Django may run them.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def app(live_server, transactional_db):
    """The app on a live server over the test database; ``app.url`` is its base URL."""
    return live_server


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT, locale="en-US", timezone_id="America/Chicago")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
