"""What every browser test shares: Debian's Chromium through Playwright, and the app served
on 127.0.0.1.

CI installs Chromium and sets ARREARS_TEST_REQUIRE_BROWSER=1, so there these tests run or
fail; on a machine without Chromium they are skipped and say so.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, async_playwright

from bot.runtime import Runtime
from bot.web import build_app

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

needs_browser = pytest.mark.skipif(
    not CHROMIUM.exists() and os.environ.get("ARREARS_TEST_REQUIRE_BROWSER") != "1",
    reason="no /usr/bin/chromium (apt-get install chromium)",
)


@asynccontextmanager
async def served(runtime: Runtime) -> AsyncIterator[str]:
    """The app on a free port; yields its base URL."""
    server = TestServer(build_app(runtime), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()
