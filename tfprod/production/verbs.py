"""The runtime calls on one deployment, by name: status, commands, A/B results and promotion,
explanations. They work the same on the embedded platform and on a connected cluster.

`ab_results` reads the controller's `/ab`, whose mSPRT statistics stay valid however often
anyone looks. `promote_winner` refuses (NoWinnerError) while the test has no winner; with one,
the winner takes the test's traffic (the controller does so itself once it decides; a winner
seen first here is promoted, or the treatment aborted, through the controller API) and the call
returns once the weights show it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, get_args
from urllib.parse import quote

from tfprod.policy.observe import Explainer
from tfprod.production.errors import NoWinnerError, ProductionError, argument_error
from tfprod.production.http import call
from tfprod.production.session import current

ON_DEMAND_METHODS = ("attention_maps",)
"""Explanation methods the explainer answers on request only (not run on captured samples)."""
METHODS: tuple[str, ...] = (*get_args(Explainer), *ON_DEMAND_METHODS)
PROMOTE_TIMEOUT_SECONDS = 60.0


def status(deployment: str) -> dict[str, Any]:
    """The controller's view: phase, weights, step, checks, A/B result, rollback."""
    runtime = current().runtime()
    answer, _ = call(
        "GET",
        f"{runtime.controller_url}/v1/deployments/{quote(deployment)}",
        token=runtime.token,
        what=f"status of {deployment}",
    )
    return dict(answer)


def command(deployment: str, kind: str, *, by: str) -> None:
    """Asks the controller to promote, abort, pause or resume the deployment's rollout."""
    runtime = current().runtime()
    call(
        "POST",
        f"{runtime.controller_url}/v1/deployments/{quote(deployment)}/{kind}",
        body={"by": by},
        token=runtime.token,
        what=f"{kind} {deployment}",
    )


@dataclass(frozen=True, kw_only=True)
class MetricResult:
    """Where one success metric stands (the controller API's `/ab` per metric)."""

    metric: str
    decision: str | None
    winner: str | None
    effect: float | None
    """Treatment mean minus control mean."""
    interval: tuple[float | None, float | None]
    """Always-valid interval of `effect`; None bounds before the sample guard is met."""
    statistical_significance: float
    control_samples: float
    treatment_samples: float
    reason: str


@dataclass(frozen=True, kw_only=True)
class ABResults:
    """The A/B test now: its decision, winner and each metric's statistics.

    `statistical_significance` is the largest of the metrics' (1 - always-valid p-value,
    corrected for the number of metrics): above 1 - significance_level, that metric decides."""

    name: str
    """The deployment's A/B test: its control and treatment, e.g. "v1 vs v2"."""
    control: str | None
    treatment: str | None
    decision: str | None
    winner: str | None
    reason: str
    statistical_significance: float
    metrics: Mapping[str, MetricResult]
    result: str
    """The controller's final result in words; empty while the test runs."""


def ab_results(deployment: str) -> ABResults:
    """The controller's `/ab` of deployment `deployment` as ABResults."""
    runtime = current().runtime()
    answer, _ = call(
        "GET",
        f"{runtime.controller_url}/v1/deployments/{quote(deployment)}/ab",
        token=runtime.token,
        what=f"A/B results of {deployment}",
    )
    metrics = {
        item["metric"]: MetricResult(
            metric=item["metric"],
            decision=item["decision"],
            winner=item["winner"],
            effect=item["effect"],
            interval=(item["interval"][0], item["interval"][1]),
            statistical_significance=float(item["statistical_significance"]),
            control_samples=float(item["control_samples"]),
            treatment_samples=float(item["treatment_samples"]),
            reason=item["reason"],
        )
        for item in answer.get("metrics", [])
    }
    test = answer.get("ab_test") or {}
    return ABResults(
        name=f"{test.get('control')} vs {test.get('treatment')}" if test else deployment,
        control=test.get("control"),
        treatment=test.get("treatment"),
        decision=answer.get("decision"),
        winner=answer.get("winner"),
        reason=answer.get("reason") or answer.get("missing") or "",
        statistical_significance=max(
            (metric.statistical_significance for metric in metrics.values()), default=0.0
        ),
        metrics=metrics,
        result=answer.get("result") or "",
    )


def promote_winner(deployment: str, *, name: str) -> str:
    results = ab_results(deployment)
    winner = results.winner
    if winner is None:
        raise NoWinnerError(
            f"promote_winner: A/B test {name!r} has no winner yet"
            f" (statistical_significance {results.statistical_significance:.3f}: {results.reason});"
            " allowed: once get_results().winner names a version"
        )
    if not status(deployment).get("ab_result"):
        kind = "promote" if winner == results.treatment else "abort"
        command(deployment, kind, by=f"promote_winner ({name})")
    deadline = time.monotonic() + PROMOTE_TIMEOUT_SECONDS
    while status(deployment)["weights"].get(winner, 0.0) < 100.0 - 1e-6:
        if time.monotonic() > deadline:
            raise ProductionError(
                f"promote_winner: {winner} does not have all traffic after"
                f" {PROMOTE_TIMEOUT_SECONDS:g} s; weights {status(deployment)['weights']}"
            )
        time.sleep(0.2)
    return winner


@dataclass(frozen=True, kw_only=True)
class Explanation:
    """One explained prediction (the explainer's answer)."""

    method: str
    version: str
    prediction: Any
    attributions: Mapping[str, float]
    ranking: Sequence[str]


def explain(
    deployment: str, input_data: Any, methods: Sequence[str]
) -> dict[str, list[Explanation]]:
    rows = input_data.tolist() if hasattr(input_data, "tolist") else list(input_data)
    if rows and not isinstance(rows[0], list | dict):
        rows = [rows]
    for method in methods:
        if method not in METHODS:
            raise argument_error(
                "explain_prediction", "methods", f"names {method!r}", ", ".join(METHODS)
            )
    runtime = current().runtime()
    found: dict[str, list[Explanation]] = {}
    for method in methods:
        answer, _ = call(
            "POST",
            f"{runtime.gateway_url}/v1/models/{quote(deployment)}:explain",
            body={"instances": rows, "method": method},
            what=f"explain_prediction ({method})",
        )
        found[method] = [
            Explanation(
                method=item["method"],
                version=item["version"],
                prediction=item["prediction"],
                attributions=dict(item["attributions"]),
                ranking=list(item["ranking"]),
            )
            for item in answer["explanations"]
        ]
    return found
