"""The explainer's bounded queue of captured samples (no TensorFlow needed)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from tests.explain.processes import DEPLOYMENT, debugged_policy
from tfprod.runtime.explain import ExplainableModel
from tfprod.runtime.explain.deployments import CAPTURED_ROWS, Deployment, ServedVersion
from tfprod.runtime.explain.service import ExplainerService


def service(queue_size: int) -> ExplainerService:
    policy = debugged_policy("file:///registry", ["gradients"])
    return ExplainerService({DEPLOYMENT: Deployment(policy=policy, versions={})},
                            queue_size=queue_size)  # fmt: skip


def test_samples_beyond_the_queue_are_dropped_and_counted() -> None:
    async def offer_five() -> list[bool]:
        explainer = service(queue_size=2)
        kept = [explainer.offer({"model": DEPLOYMENT, "request": {}}) for _ in range(5)]
        assert explainer.dropped.values == {(DEPLOYMENT,): 3.0}
        assert 'tfprod_explain_queue_dropped_total{deployment="rec-engine"} 3' in (
            explainer.render()
        )
        return kept

    assert asyncio.run(offer_five()) == [True, True, False, False, False]


@pytest.mark.parametrize("record", [{"model": "other"}, ["not", "a", "record"], {}])
def test_samples_of_deployments_not_explained_are_not_queued(record: object) -> None:
    explainer = service(queue_size=2)

    assert explainer.offer(record) is False
    assert explainer.queue.qsize() == 0
    assert explainer.dropped.values == {}


def test_captured_rows_are_the_background_until_they_expire() -> None:
    deployment = service(queue_size=1).deployments[DEPLOYMENT]
    model = ExplainableModel(
        feature_names=("a", "b"), feature_source="signature", tensor_fn=lambda rows: rows
    )
    version = ServedVersion(id="v2", number=2, model=model, profile=None)
    deployment.remember(np.ones((3, 2)), expires=100.0)
    deployment.remember(np.full((1, 2), 2.0), expires=200.0)

    early = deployment.background(version, now=50.0)
    late = deployment.background(version, now=150.0)
    gone = deployment.background(version, now=250.0)

    assert (early.source, early.rows.tolist()) == ("captured", [[1, 1]] * 3 + [[2, 2]])
    assert (late.source, late.rows.tolist()) == ("captured", [[2, 2]])
    assert (gone.source, gone.rows.tolist()) == ("zeros", [[0, 0]])


def test_captured_rows_are_kept_up_to_the_bound_dropping_the_oldest() -> None:
    deployment = service(queue_size=1).deployments[DEPLOYMENT]
    for index in range(CAPTURED_ROWS + 10):
        deployment.remember(np.full((1, 4), float(index)), expires=100.0 + index)

    kept = np.concatenate([rows for _, rows in deployment.captured])
    assert len(kept) == CAPTURED_ROWS
    assert kept[0, 0] == 10.0
