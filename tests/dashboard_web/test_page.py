"""The page in headless Chromium over the controller API with an in-memory view: what it asks
for without a token, explanations as the gateway answers them, switching deployments."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from tests.controller_api.view import TOKEN
from tests.dashboard_web.browser import chromium
from tests.dashboard_web.served import DEPLOYMENT, Controller, explainer_gateway
from tests.gateway.upstream import ServerThread
from tfprod.runtime.controller import Observation, VersionCounters
from tfprod.runtime.dashboard import FeatureDrift, Observed

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = [pytest.mark.slow, pytest.mark.service]
WAIT_MS = 20_000


@pytest.fixture(scope="module")
def controller() -> Iterator[Controller]:
    servers = ServerThread()
    try:
        running = Controller(servers, [servers.serve(lambda: explainer_gateway([]))])
        start = datetime.now(UTC)
        for seconds, requests in ((-10, 100), (0, 160)):
            running.log.record(
                running.policy,
                Observed(
                    at=start + timedelta(seconds=seconds),
                    observation=Observation(
                        versions={
                            version.id: VersionCounters(requests=requests, errors=1)
                            for version in running.policy.versions
                        }
                    ),
                    drift={"f0": FeatureDrift(score=0.3, detected=True)},
                ),
            )
        yield running
        servers.run(lambda: running.explanations.__aexit__(None, None, None))
    finally:
        servers.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@pytest.fixture
def page(browser: BrowserContext) -> Iterator[Page]:
    page = browser.new_page()  # a new tab: its own sessionStorage, so no token yet
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    page.close()
    assert errors == []


def test_without_a_token_the_page_shows_the_apis_refusal(
    controller: Controller, page: Page
) -> None:
    page.goto(f"{controller.url}/dashboard/")

    banner = page.locator("#error")
    banner.wait_for(timeout=WAIT_MS)
    assert banner.inner_text() == (
        "controller API refused (401): controller API needs an 'Authorization: Bearer <token>'"
        " header (give the controller token above; tfprod up: the admin token file)"
    )
    assert page.locator("#deployments tbody tr").count() == 0


def test_shows_the_first_deployment_then_the_one_clicked_with_its_explanations(
    controller: Controller, page: Page
) -> None:
    page.goto(f"{controller.url}/dashboard/#token={TOKEN}")

    page.locator("#detail-name", has_text="other").wait_for(timeout=WAIT_MS)  # first, sorted
    page.locator("#explanations", has_text="no explainer").wait_for(timeout=WAIT_MS)
    assert page.locator("#metrics-note").inner_text() == (
        "the controller has not observed this deployment yet"
    )

    page.click(f"#deployments tr[data-deployment='{DEPLOYMENT}']")
    explanation = page.locator("#explanations .explanation").first
    explanation.wait_for(timeout=WAIT_MS)
    assert explanation.inner_text() == (
        "gradients on rec-v2.1.0 prediction [0.8]; f0 0.700, f1 0.100"
    )
    assert page.locator("#explanations .explanation").count() == 5
    assert page.locator("#deployments tr.selected").get_attribute("data-deployment") == DEPLOYMENT
    row = page.locator(f"#deployments tr[data-deployment='{DEPLOYMENT}']")
    assert row.locator(".phase").inner_text() == "not started"
    assert row.locator(".weights-cell").inner_text() == "rec-v2.0.0 95%, rec-v2.1.0 5%"
    assert page.locator("#metrics-note").inner_text().endswith(", over 10.0 s")
    assert page.locator("#rate-chart path").count() == 2
    assert page.locator("#drift-chart text").all_text_contents() == ["f0", "0.300 drift"]
