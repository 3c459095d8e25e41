"""The API in front of real `decide()` ticks in virtual time: a canary ramping, paused and
resumed through the API, then promoted; an A/B test decided."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.controller.policies import CANARY, STABLE, canary_policy, healthy
from tests.controller.simulation import Platform, Profile
from tests.controller_api.view import (
    CHALLENGER,
    TOKEN,
    Driven,
    InMemoryView,
    ab_policy,
    served,
)

AUTH = {"Authorization": f"Bearer {TOKEN}"}
DEPLOYMENT = "recommendation-engine"


@pytest.fixture
def canary() -> Iterator[tuple[Driven, httpx.Client]]:
    policy = canary_policy(criteria={"error_rate": "< 1%"})
    view = InMemoryView({DEPLOYMENT: policy})
    driven = Driven(view, DEPLOYMENT, healthy())
    with served(view, clock=driven.now) as url, httpx.Client(base_url=url, headers=AUTH) as api:
        yield driven, api


def test_the_status_follows_the_ramp_step_by_step(canary: tuple[Driven, httpx.Client]) -> None:
    driven, api = canary

    driven.run_until(70)  # steps to 25% at 62 s (tests/controller/test_ramp.py)
    status = api.get(f"/v1/deployments/{DEPLOYMENT}").json()

    assert status["phase"] == "progressing"
    assert status["weights"] == {STABLE: 75.0, CANARY: 25.0}
    assert status["step"] == {
        "index": 1,
        "steps": 3,
        "version": CANARY,
        "percent": 25.0,
        "hold_seconds": 60.0,
        "seconds_in_step": 8.0,
        "seconds_to_next_step": 52.0,
        "next_percent": 50.0,
    }
    assert [(c["name"], c["outcome"]) for c in status["checks"]] == [
        ("data", "pass"),
        ("criterion error_rate < 1%", "pass"),
    ]
    assert status["checks"][1]["reason"] == (
        "error_rate 0.789% (stable 0.156%) meets error_rate < 1%"
    )
    assert status["checks"][1]["checked_at"] == "2026-12-01T00:01:02+00:00"
    listed = api.get("/v1/deployments").json()["deployments"]
    assert listed == [
        {
            "deployment": DEPLOYMENT,
            "phase": "progressing",
            "weights": {STABLE: 75.0, CANARY: 25.0},
            "step": 1,
            "generation": status["generation"],
        }
    ]


def test_pause_and_resume_through_the_api_hold_the_ramp(
    canary: tuple[Driven, httpx.Client],
) -> None:
    driven, api = canary
    driven.run_until(70)

    paused = api.post(f"/v1/deployments/{DEPLOYMENT}/pause", json={"by": "alice"})
    driven.run_until(300)
    held = api.get(f"/v1/deployments/{DEPLOYMENT}").json()
    api.post(f"/v1/deployments/{DEPLOYMENT}/resume", json={"by": "bob"})
    driven.run_until(1000)
    done = api.get(f"/v1/deployments/{DEPLOYMENT}").json()
    history = api.get(f"/v1/deployments/{DEPLOYMENT}/history").json()

    assert paused.status_code == 202
    assert held["phase"] == "paused"
    assert held["weights"] == {STABLE: 75.0, CANARY: 25.0}
    assert held["step"]["index"] == 1
    assert held["step"]["seconds_in_step"] == 0.0  # paused as the step began, at 62 s
    assert held["step"]["seconds_to_next_step"] is None
    assert done["phase"] == "promoted"
    assert done["weights"] == {STABLE: 0.0, CANARY: 100.0}
    assert done["promoted_version"] == CANARY
    # The hold stops while paused: paused at 62 s, resumed at 292 s, the next step 60 s on.
    assert [(d["at"][11:19], d["action"], d["reason"]) for d in history["decisions"]] == [
        ("00:00:00", "start", f"rollout of {CANARY} starts"),
        ("00:00:02", "progress", "first weights served by every replica (generation 2)"),
        ("00:01:02", "step", f"{CANARY} to 25% (step 2 of 3)"),
        ("00:01:02", "pause", "paused by alice"),
        ("00:04:52", "resume", "resumed by bob"),
        ("00:05:52", "step", f"{CANARY} to 50% (step 3 of 3)"),
        ("00:06:52", "promote", f"{CANARY} held 3 steps with every check passing"),
        ("00:06:54", "promoted", f"{CANARY} promoted, served by every replica (generation 47)"),
    ]


def test_ab_results_are_those_the_controller_decided_on() -> None:
    view = InMemoryView({"ranking": ab_policy()})
    platform = Platform(
        seed=3, profiles={STABLE: Profile(), CHALLENGER: Profile(conversion_rate=0.06)}
    )
    driven = Driven(view, "ranking", platform)
    with served(view, clock=driven.now) as url:
        driven.run_until(5000)
        ab = httpx.get(f"{url}/v1/deployments/ranking/ab", headers=AUTH).json()
        status = httpx.get(f"{url}/v1/deployments/ranking", headers=AUTH).json()

    # tests/controller/test_abtest.py: the same platform decides at 92 s with this result.
    assert status["ab_result"] == (
        "conversion_rate: rec-v2.2.0 is better, difference +0.01173 (95% interval +0.001246 to"
        " +0.02195)"
    )
    assert (ab["decision"], ab["winner"], ab["result"]) == (
        "winner",
        CHALLENGER,
        status["ab_result"],
    )
    (metric,) = ab["metrics"]
    assert metric["metric"] == "conversion_rate"
    assert (metric["decision"], metric["winner"]) == ("winner", CHALLENGER)
    assert f"{metric['effect']:+.4g}" == "+0.01173"
    assert [f"{bound:+.4g}" for bound in metric["interval"]] == ["+0.001246", "+0.02195"]
    assert metric["statistical_significance"] >= 0.95
    assert metric["control_samples"] >= 1000
    assert metric["treatment_samples"] >= 1000
    assert metric["reason"] == status["ab_result"]
