"""Debian's headless Chromium driven by Playwright (no Playwright browser download: its
`executable_path` is the system browser), with a fresh profile and no background traffic."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from tests.services import skip_or_fail

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 1000}


@contextmanager
def chromium(profile: Path) -> Iterator[BrowserContext]:
    """A browser context on a fresh profile in `profile`; skips (or fails, when services are
    required) without Playwright or /usr/bin/chromium."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install -e '.[test]')")
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing (scripts/install-system-deps.sh installs it)")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            viewport=VIEWPORT,  # type: ignore[arg-type]
        )
        try:
            yield context
        finally:
            context.close()
