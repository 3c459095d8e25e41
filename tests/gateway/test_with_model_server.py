"""The gateway in front of the real model server (`tfprod serve`, a subprocess) serving two
versions of the tiny classifier: transparent answers, sticky ramps, shadow agreement, and
fuzzed bodies that get the same answer through the gateway as directly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from examples.toy_models import export_tiny_classifier
from tests.gateway.conftest import BODY, Stack, admin_headers, metric, wait_for
from tests.gateway.test_fuzz import bodies
from tests.gateway.upstream import ServerThread
from tests.services import free_port, skip_or_fail

pytestmark = pytest.mark.slow
MAX_BODY = 64 * 1024


@dataclass(frozen=True, kw_only=True)
class Served:
    server: str
    gateway: httpx.Client
    stack: Stack


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("gateway-models")
    export_tiny_classifier(root / "clf" / "1", seed=0)
    export_tiny_classifier(root / "clf" / "2", seed=1)
    (root / "models.config").write_text(
        f"""model_config_list {{ config {{ name: "clf" base_path: "{root / "clf"}"
        model_platform: "tensorflow"
        model_version_policy {{ specific {{ versions: 1 versions: 2 }} }} }} }}"""
    )
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tfprod", "serve", f"--model_config_file={root / 'models.config'}",
         "--port=0", f"--rest_api_port={port}"],
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    servers = ServerThread()
    try:
        assert process.stdout is not None
        if not process.stdout.readline().startswith("serving REST"):
            skip_or_fail(f"tfprod serve did not start (exit code {process.poll()})")
        server = f"http://127.0.0.1:{port}"
        stack = Stack(servers)
        stack.urls["server"] = server
        endpoint = {"url": server, "model_name": "clf"}
        client = stack.start(
            {
                "routes": [
                    {
                        "model": "clf",
                        "variants": [
                            {"name": "stable", "version": 1, "weight": 0.95, **endpoint},
                            {"name": "canary", "version": 2, "weight": 0.05, **endpoint},
                        ],
                        "shadows": [{"name": "shadow", "version": 2, **endpoint}],
                        "sticky": {"source": "header", "name": "X-User"},
                    }
                ],
                "max_body_bytes": MAX_BODY,
            }
        )
        yield Served(server=server, gateway=client, stack=stack)
        client.close()
    finally:
        servers.close()
        process.terminate()
        process.wait(30)
        if process.stdout is not None:
            process.stdout.close()


def test_answers_are_the_model_servers_bytes_for_the_chosen_version(served: Served) -> None:
    for _ in range(20):
        answer = served.gateway.post("/v1/models/clf:predict", content=BODY)
        version = {"stable": 1, "canary": 2}[answer.headers["X-Tfprod-Variant"]]
        direct = httpx.post(
            f"{served.server}/v1/models/clf/versions/{version}:predict", content=BODY
        )
        assert (answer.status_code, answer.content) == (200, direct.content)


def test_sticky_users_never_leave_the_canary_while_it_ramps(served: Served) -> None:
    users = [f"user-{i}" for i in range(100)]
    in_canary: set[str] = set()
    for percent in (5, 20, 50):
        weights = {"weights": {"stable": 100 - percent, "canary": percent}}
        put = served.gateway.put(
            "/admin/v1/models/clf/weights", json=weights, headers=admin_headers()
        )
        assert put.status_code == 200
        now = {
            user
            for user in users
            if served.gateway.post(
                "/v1/models/clf:predict", content=BODY, headers={"X-User": user}
            ).headers["X-Tfprod-Variant"]
            == "canary"
        }
        assert in_canary <= now
        in_canary = now
    assert 25 <= len(in_canary) <= 75


def test_the_shadow_version_is_compared_with_the_primary(served: Served) -> None:
    def compared() -> float:
        return sum(
            metric(served.gateway, "tfprod_gateway_shadow_requests_total",
                   model="clf", shadow="shadow", outcome=outcome)
            for outcome in ("agree", "disagree")
        )  # fmt: skip

    before = compared()
    served.gateway.post("/v1/models/clf:predict", content=BODY)
    wait_for(lambda: compared() == before + 1, "the shadow comparison")


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=bodies)
def test_fuzzed_bodies_get_the_same_answer_through_the_gateway_as_directly(
    served: Served, body: bytes
) -> None:
    direct = httpx.post(f"{served.server}/v1/models/clf/versions/1:predict", content=body)
    through = served.gateway.post("/v1/models/clf/versions/1:predict", content=body)
    assert direct.status_code in (200, 400), (direct.status_code, direct.text)
    assert (through.status_code, through.content) == (direct.status_code, direct.content)
    if through.status_code == 400:
        assert set(through.json()) == {"error"}


def test_oversized_bodies_are_refused_by_the_gateway(served: Served) -> None:
    rows = json.dumps({"instances": [[1.0, 2.0, 3.0, 4.0]] * 5000}).encode()
    answer = served.gateway.post("/v1/models/clf:predict", content=rows)
    assert (answer.status_code, answer.json()) == (
        413,
        {"error": f"request body is larger than {MAX_BODY} bytes"},
    )
    assert served.gateway.post("/v1/models/clf:predict", content=BODY).status_code == 200
