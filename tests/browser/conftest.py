"""Browser tests: Playwright driving Debian's Chromium at /usr/bin/chromium (never downloaded)."""

import os

import pytest

from tests.conftest import CHROMIUM

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def new_context(browser, live_server):
    """Fresh browser contexts (separate cookies), e.g. a second visitor."""
    contexts = []

    def make(**kwargs):
        context = browser.new_context(base_url=live_server.url, **kwargs)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
