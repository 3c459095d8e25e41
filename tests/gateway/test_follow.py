"""Following a status file in process: a gateway never serves declared weights when it could
not read the status it should follow."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tfprod.policy import next_status, status_file_name, write_status
from tfprod.runtime.gateway import Gateway, GatewayConfig
from tfprod.runtime.gateway.follow import Following

CONFIG = {
    "routes": [
        {
            "model": "clf",
            "variants": [
                {"name": "stable", "url": "http://127.0.0.1:9", "weight": 0.9},
                {"name": "canary", "url": "http://127.0.0.1:9", "weight": 0.1},
            ],
        }
    ]
}


def test_start_waits_until_an_unreadable_status_can_be_read(tmp_path: Path) -> None:
    path = tmp_path / status_file_name("clf")
    path.mkdir()  # there, but not a readable file

    async def scenario() -> tuple[bool, str | None, int, dict[str, float]]:
        gateway = Gateway(
            GatewayConfig.from_dict(CONFIG),
            admin_token=None,
            following=Following(status_dir=tmp_path, poll_seconds=0.05),
        )
        assert gateway.follower is not None
        start = asyncio.create_task(gateway.follower.start())
        await asyncio.sleep(0.5)  # ten polls, all failing
        still_waiting = not start.done()
        problem = gateway.states["clf"].status_problem
        path.rmdir()
        status = next_status(None, deployment="clf", weights={"stable": 0, "canary": 100},
                             policy="sha256:test", writer="test")  # fmt: skip
        write_status(path, status)
        await asyncio.wait_for(start, 10)
        state = gateway.states["clf"]
        await gateway.follower.stop()
        gateway.client.close()
        return still_waiting, problem, state.generation, state.percent()

    still_waiting, problem, generation, weights = asyncio.run(scenario())
    assert still_waiting
    assert problem == f"cannot read {path}: Is a directory"
    assert (generation, weights) == (1, {"stable": 0.0, "canary": 100.0})


def test_a_missing_status_file_is_an_answer_the_declared_weights(tmp_path: Path) -> None:
    async def scenario() -> tuple[int, dict[str, float], str | None]:
        gateway = Gateway(
            GatewayConfig.from_dict(CONFIG),
            admin_token=None,
            following=Following(status_dir=tmp_path, poll_seconds=0.05),
        )
        assert gateway.follower is not None
        await asyncio.wait_for(gateway.follower.start(), 10)
        state = gateway.states["clf"]
        await gateway.follower.stop()
        gateway.client.close()
        return state.generation, state.percent(), state.status_problem

    assert asyncio.run(scenario()) == (0, {"stable": 90.0, "canary": 10.0}, None)
