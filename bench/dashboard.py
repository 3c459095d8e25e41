"""The web dashboard: page load to first data, and its weight, in headless Chromium.

Runs the browser test's platform (`tests/dashboard_web/platform.py`: real model servers,
gateway with drift, `tfprod controller`, traffic), then opens the dashboard `--runs` times,
each in a fresh browser context (empty cache), and reads in the page (`performance.now()`,
from the navigation's start) when the deployment row first shows and when the whole detail
(checks, rate chart, drift bars) is drawn. Prints medians and max, the bytes of the page's
own files, of one poll's API answers, and the API traffic per second while it polls.
Loaded machines give noisy figures: the load average is printed with them.

    PYTHONPATH=. python -m bench.dashboard --runs 10
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Response, sync_playwright

from tests.dashboard_web.browser import ARGS, CHROMIUM
from tests.dashboard_web.platform import DEPLOYMENT, controller_get, running_platform

FIRST_ROW = "() => document.querySelector('#deployments tbody tr .phase') ? performance.now() : 0"
FULL_DETAIL = (
    "() => document.querySelector('#checks tbody tr')"
    " && document.querySelectorAll('#rate-chart path').length"
    " && document.querySelector('#drift-chart rect') ? performance.now() : 0"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--poll-seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary, running_platform(Path(temporary)) as running:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            metrics = controller_get(running, f"/v1/deployments/{DEPLOYMENT}/metrics")
            if metrics["versions"] and metrics["drift"]:
                break
            time.sleep(0.5)
        url = f"{running.controller}/dashboard/#token={running.token}"
        first_row: list[float] = []
        full: list[float] = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=ARGS
            )
            static_bytes = api_bytes = 0
            polled: dict[str, int] = {}
            for run in range(args.runs):
                context = browser.new_context()
                page = context.new_page()
                sizes: dict[str, int] = {}

                def seen(response: Response, sizes: dict[str, int] = sizes) -> None:
                    sizes[response.url] = sizes.get(response.url, 0) + len(response.body())

                page.on("response", seen)
                page.goto(url)
                first_row.append(page.wait_for_function(FIRST_ROW, polling=5).json_value())
                full.append(page.wait_for_function(FULL_DETAIL, polling=5).json_value())
                if run == 0:
                    static_bytes = sum(n for u, n in sizes.items() if "/dashboard/" in u)
                    api_bytes = sum(n for u, n in sizes.items() if "/v1/" in u)
                    before = dict(sizes)
                    page.wait_for_timeout(args.poll_seconds * 1000)
                    polled = {u: n - before.get(u, 0) for u, n in sizes.items() if "/v1/" in u}
                context.close()
            browser.close()
    load = os.getloadavg()
    print(f"runs {args.runs}, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(
        f"navigation to first deployment row: median {statistics.median(first_row):.0f} ms,"
        f" max {max(first_row):.0f} ms"
    )
    print(
        f"navigation to full detail (checks, rate chart, drift): median"
        f" {statistics.median(full):.0f} ms, max {max(full):.0f} ms"
    )
    print(f"page files (HTML, CSS, JS; uncompressed): {static_bytes / 1024:.1f} KB")
    print(f"API answers up to the full detail: {api_bytes / 1024:.1f} KB")
    print(f"API traffic while polling: {sum(polled.values()) / 1024 / args.poll_seconds:.1f} KB/s")


if __name__ == "__main__":
    main()
