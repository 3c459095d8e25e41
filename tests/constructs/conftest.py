"""Fixtures: an App writing into a temporary directory, a cluster-only platform, a deployment."""

from __future__ import annotations

from pathlib import Path

import pytest

from tfprod.constructs import App, AutoScaling, ModelDeployment
from tfprod.stacks.cluster import ClusterModelPlatform


@pytest.fixture
def outdir(tmp_path: Path) -> Path:
    return tmp_path / "cdktf.out"


@pytest.fixture
def app(outdir: Path) -> App:
    return App(outdir=str(outdir))


@pytest.fixture
def platform(app: App) -> ClusterModelPlatform:
    return ClusterModelPlatform(app, "ml", registry_uri="s3://ml-models/registry", namespace="ml")


@pytest.fixture
def deployment(platform: ClusterModelPlatform) -> ModelDeployment:
    return ModelDeployment(
        platform,
        "rec",
        name="rec",
        model="rec",
        version="rec-v1",
        environment="staging",
        scaling=AutoScaling(min_replicas=2, max_replicas=20, target_requests_per_second=1000),
    )
