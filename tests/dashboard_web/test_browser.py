"""The dashboard in headless Chromium against a real local platform (`LocalPlatform`: the
registry, two TF model servers, the gateway with a drift monitor, `tfprod controller`), with
predict traffic running: live data shows (phase, weights, step, checks, rates, drift, the A/B
interval), and "abort" works only with the right token."""

from __future__ import annotations

import re
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.dashboard_web.browser import VIEWPORT, chromium
from tests.dashboard_web.platform import DEPLOYMENT, Running, controller_get, running_platform
from tests.services import skip_or_fail

try:
    from playwright.sync_api import expect
except ImportError:
    skip_or_fail("playwright is not installed (pip install -e '.[test]')")

pytestmark = [pytest.mark.slow, pytest.mark.service]

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WAIT_MS = 60_000
expect.set_options(timeout=WAIT_MS)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with running_platform(tmp_path_factory.mktemp("dashboard")) as running:
        yield running


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@pytest.fixture
def page(browser: BrowserContext) -> Iterator[Page]:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    page.close()
    assert errors == []


def phase(platform: Running) -> str | None:
    summary = controller_get(platform, f"/v1/deployments/{DEPLOYMENT}")
    phase: str | None = summary["phase"]
    return phase


def decisions(platform: Running) -> list[str]:
    history = controller_get(platform, f"/v1/deployments/{DEPLOYMENT}/history")
    return [decision["action"] for decision in history["decisions"]]


def wait_for_phase(platform: Running, wanted: str, timeout: float = 60) -> str | None:
    deadline = time.monotonic() + timeout
    current = phase(platform)
    while current != wanted and time.monotonic() < deadline:
        time.sleep(0.2)
        current = phase(platform)
    return current


def test_shows_live_data_of_the_running_platform(
    platform: Running, page: Page, tmp_path: Path
) -> None:
    assert wait_for_phase(platform, "progressing") == "progressing"
    page.goto(f"{platform.controller}/dashboard/#token={platform.token}")

    row = page.locator(f"#deployments tr[data-deployment='{DEPLOYMENT}']")
    row.locator(".phase", has_text="progressing").wait_for(timeout=WAIT_MS)
    expect(row.locator(".weights-cell")).to_have_text("v1 80%, v2 20%")
    assert page.url == f"{platform.controller}/dashboard/"  # the token left the address bar
    expect(page.locator("#detail-step")).to_have_text(re.compile(r"^step 1/2: v2 at 20% for "))
    page.locator("#checks td", has_text="criterion error_rate < 50%").wait_for(timeout=WAIT_MS)
    # Two metric points per version drawn, and the shifted feature f0 over the threshold.
    page.wait_for_function(
        "() => [...document.querySelectorAll('#rate-chart path')]"
        ".filter((p) => (p.getAttribute('d').match(/L/g) || []).length >= 1).length === 2",
        timeout=WAIT_MS,
    )
    page.locator("#drift-chart rect.over").wait_for(timeout=WAIT_MS)
    expect(page.locator("#drift-chart text").first).to_have_text("f0")
    expect(page.locator("#ab-summary")).to_have_text(re.compile(r"^v2 vs v1 at alpha 0\.001"))
    ab_row = page.locator("#ab tbody tr", has_text="error_rate (decrease)")
    interval = ab_row.locator("svg.interval line").nth(1)  # drawn only for a finite interval
    interval.wait_for(state="attached", timeout=WAIT_MS)
    expect(ab_row.locator("td").nth(7)).to_have_text("continue")
    expect(page.locator("#explanations")).to_have_text(re.compile(r"^no explainer"))
    expect(page.locator("#error")).to_be_hidden()

    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert width == VIEWPORT["width"]
    assert height >= VIEWPORT["height"]


def test_abort_is_refused_without_the_right_token_and_aborts_with_it(
    platform: Running, page: Page
) -> None:
    assert wait_for_phase(platform, "progressing") == "progressing"
    page.goto(f"{platform.controller}/dashboard/#token={platform.token}")
    page.locator("#detail-phase", has_text="progressing").wait_for(timeout=WAIT_MS)
    result = page.locator("#command-result")

    page.fill("#token", "not-the-token")
    page.click("#token-form button[type=submit]")
    page.click("button[data-command=abort]")
    expect(result).to_have_text("abort refused (403): controller token rejected")
    expect(page.locator("#error")).to_have_text(
        "controller API refused (403): controller token rejected"
    )

    page.click("#forget")
    page.click("button[data-command=abort]")
    expect(result).to_have_text(
        "abort refused (401): controller API needs an 'Authorization: Bearer <token>' header"
    )
    assert "abort" not in decisions(platform)
    assert phase(platform) == "progressing"

    page.fill("#token", platform.token)
    page.click("#token-form button[type=submit]")
    expect(page.locator("#error")).to_be_hidden()
    page.click("button[data-command=abort]")
    expect(result).to_have_text(re.compile(r"^abort accepted for recommendation-engine"))
    assert wait_for_phase(platform, "aborted") == "aborted"
    assert "abort" in decisions(platform)
    expect(page.locator("#detail-phase")).to_have_text("aborted")
    assert controller_get(platform, f"/v1/deployments/{DEPLOYMENT}")["weights"] == {
        "v1": 100.0,
        "v2": 0.0,
    }
