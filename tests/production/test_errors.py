"""Errors in the user's terms: the argument, the bad value and the allowed ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.production.conftest import tiny_model
from tfprod import production
from tfprod.policy import dns_name


def test_names_with_underscores_map_to_dns_names_by_one_rule() -> None:
    assert dns_name("recommendation_engine") == "recommendation-engine"
    assert dns_name("Rec_V2.1") == "rec-v2-1"


def test_deploy_refuses_what_is_not_a_model(home: Path) -> None:
    with pytest.raises(production.ProductionError) as refused:
        production.deploy(model="no/such/dir", name="rec")
    assert str(refused.value) == (
        "deploy: model is 'no/such/dir', not a model; allowed: a Keras model, or the path of a"
        " SavedModel directory"
    )


def test_deploy_refuses_a_name_that_maps_to_no_dns_name(home: Path) -> None:
    production.configure(autostart=False)
    with pytest.raises(production.ProductionError) as refused:
        production.deploy(model=tiny_model(1), name="9 lives")
    assert str(refused.value) == (
        "deploy: name '9 lives' becomes '9 lives', which is not a valid deployment name;"
        " allowed: a DNS-1035 label: 1 to 63 lower-case letters, digits or '-', starting with a"
        " letter and ending with a letter or digit, after '_' and '.' become '-' and letters"
        " lower case"
    )


def test_ab_test_refuses_a_metric_the_platform_cannot_measure(home: Path) -> None:
    production.configure(autostart=False)
    model = tiny_model(1)
    production.deploy(model=model, name="recommendation_engine")
    with pytest.raises(production.ProductionError) as refused:
        production.ABTest(
            name="t",
            model_a=model,
            model_b=tiny_model(2),
            traffic_split=0.1,
            success_metrics=["happiness"],
            duration_days=14,
        )
    assert str(refused.value) == (
        "ABTest: success_metrics names 'happiness', which the platform cannot measure; allowed:"
        " error_rate, click_rate, click_through_rate, ctr, conversion_rate, revenue,"
        " revenue_per_request, conversion"
    )


def test_registering_the_same_weights_twice_returns_the_same_version(home: Path) -> None:
    registry = production.ModelRegistry()
    model = tiny_model(1)
    first = registry.register(model=model, metadata={"accuracy": 0.94})
    assert first == "v1"
    assert registry.register(model=model, metadata={"accuracy": 0.94}) == "v1"
    assert registry.register(model=tiny_model(2)) == "v2"
    assert registry.versions("recommender") == ["v1", "v2"]


def test_declaring_while_connected_to_a_cluster_says_to_change_the_stack(home: Path) -> None:
    production.connect("http://127.0.0.1:9", token="t")
    with pytest.raises(production.DeclaredByTerraformError) as refused:
        production.deploy(model=tiny_model(1), name="rec")
    assert str(refused.value) == (
        "deploy: connected to the cluster at http://127.0.0.1:9, where what is declared belongs"
        " to Terraform; declare it in the stack instead (production.export(path) writes this"
        " session's declarations as one), review it and run cdktf deploy"
    )


def test_autoscaling_names_the_field_and_the_allowed_values() -> None:
    with pytest.raises(production.ProductionError) as refused:
        production.AutoScaling(min_replicas=4, max_replicas=2)
    assert str(refused.value) == "AutoScaling: max_replicas 2 is below min_replicas; allowed: 4 up"
