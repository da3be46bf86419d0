"""The real app on a loopback port, and Debian's Chromium driven by Playwright.

The browser tests skip (with the reason) where /usr/bin/chromium is missing; `.ci/run` installs it.
Playwright's own browser download is never used.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from agents import ModelProvider
from service.__main__ import DEV_USER
from service.app import create_app
from service.config import Settings
from service.db import Database
from tests.api.conftest import make_token, model_provider, settings  # noqa: F401  (the API tests' fixtures, shared)
from tests.live_server import serve_asgi

CHROMIUM = Path("/usr/bin/chromium")
# Headless in a container: no sandbox (no user namespaces), no GPU, and nothing that phones home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# For the browser test modules: `pytestmark = needs_chromium`.
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: apt-get install -y chromium")


@pytest.fixture
async def base_url(
    settings: Settings,  # noqa: F811
    database: Database,
    model_provider: ModelProvider | None,  # noqa: F811
) -> AsyncIterator[str]:
    async with serve_asgi(create_app(settings, model_provider=model_provider)) as (_, url):
        yield url


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1280, "height": 760})
    page = await context.new_page()
    page.set_default_timeout(10_000)
    yield page
    await context.close()


@pytest.fixture
def token(make_token: Callable[..., str]) -> str:  # noqa: F811
    # The dev user of `make run`, so the screenshot shows what a first run shows.
    return make_token(DEV_USER, timedelta(hours=1))
