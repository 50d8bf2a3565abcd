"""Helpers for the real-browser tests: Debian's Chromium driven by Playwright.

The fixtures that use these (`browser`, `page`) live in `storefront/tests/fixtures.py`. Nothing here
downloads a browser: the tests use the system's Chromium, or skip (fail with REQUIRE_BROWSER=1)
without it.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Screenshots of the pages a buyer sees, for a person to look at (gitignored).
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Long enough for a slow CI machine, short enough that a broken page fails the test quickly.
TIMEOUT_MS = 15_000


def require_chromium() -> str:
    """The Chromium to launch; skips the test without it (fails when REQUIRE_BROWSER=1)."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return str(CHROMIUM)
    message = f"The browser tests need Debian's Chromium at {CHROMIUM}, which is missing."
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(
            f"{message} Install it with `apt-get install -y chromium` "
            "(never `playwright install`), or unset REQUIRE_BROWSER to skip these tests.",
            pytrace=False,
        )
    pytest.skip(f"{message} Install it with `apt-get install -y chromium` to run them.")


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as test-artifacts/<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
