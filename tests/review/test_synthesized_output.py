"""The synthesized-output reader on what `App.synth()` really writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.review.apps import proposal_app
from tfprod.policy import SynthesizedError, read_synthesized


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("synthesized") / "cdktf.out"
    proposal_app(outdir)
    return outdir


def test_reads_the_stack_and_its_policies_as_app_synth_wrote_them(synthesized: Path) -> None:
    output = read_synthesized(synthesized)
    assert output.names == ["shop"]
    shop = output.stack("shop")
    assert shop.document_path == synthesized / "stacks" / "shop" / "cdk.tf.json"
    assert [policy.name for policy in shop.policies()] == ["recommendation-engine", "search-ranker"]
    assert "kubernetes_config_map_v1" in shop.document()["resource"]


def test_reads_each_deployments_endpoints_from_its_configmap(synthesized: Path) -> None:
    shop = read_synthesized(synthesized).stack("shop")
    assert shop.endpoints("recommendation-engine") == {
        "rec-v2.0.0": "http://recommendation-engine-rec-v2-0-0.models.svc:8501",
        "rec-v2.1.0": "http://recommendation-engine-rec-v2-1-0.models.svc:8501",
        "rec-v2.2.0": "http://recommendation-engine-rec-v2-2-0.models.svc:8501",
    }


def test_endpoints_of_an_undeclared_deployment_name_the_configmap_looked_for(
    synthesized: Path,
) -> None:
    shop = read_synthesized(synthesized).stack("shop")
    with pytest.raises(SynthesizedError) as error:
        shop.endpoints("fraud")
    assert str(error.value) == (
        f"{shop.document_path}: no ConfigMap 'fraud-endpoints': deployment 'fraud' is not"
        " declared in this stack"
    )
