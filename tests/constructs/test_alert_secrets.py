"""AlertSecrets: the Secrets alert receivers reference, declared or named as existing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.constructs.stacks import by_name, synthesized
from tfprod.constructs import AlertSecrets, App, ConstructError, ModelDeployment, ModelMonitor
from tfprod.constructs.alert_secrets import alert_secret_refs, alert_variable_name
from tfprod.policy import AlertRoutes, SecretRef
from tfprod.stacks.cluster import ClusterModelPlatform


def monitored(deployment: ModelDeployment, **routes: object) -> None:
    ModelMonitor(
        deployment, "monitor", metrics=["error_rate"],
        alerts=AlertRoutes.model_validate(routes),
    )  # fmt: skip


def test_only_referenced_keys_are_declared_each_from_a_sensitive_variable(
    app: App, deployment: ModelDeployment, outdir: Path
) -> None:
    monitored(deployment, slack_channel="#ml", slack_webhook={"name": "team-hooks", "key": "ml"})
    app.synth()
    document = synthesized(outdir, "ml")
    secrets = by_name(document, "kubernetes_secret_v1")
    assert secrets["team-hooks"]["data"] == {"ml": "${var.tfprod_alert_team_hooks_ml}"}
    assert "tfprod-alerts" not in secrets
    variable = document["variable"]["tfprod_alert_team_hooks_ml"]
    assert (variable["sensitive"], variable["type"]) == (True, "string")


def test_an_existing_secret_is_referenced_and_not_declared(
    app: App, platform: ClusterModelPlatform, deployment: ModelDeployment, outdir: Path
) -> None:
    AlertSecrets(platform, existing=["tfprod-alerts"])
    monitored(deployment, slack_channel="#ml", pagerduty_service="ml-on-call")
    app.synth()
    document = synthesized(outdir, "ml")
    assert sorted(by_name(document, "kubernetes_secret_v1")) == [
        "tfprod-admin-token",
        "tfprod-feedback-key",
    ]
    assert not any(name.startswith("tfprod_alert_") for name in document["variable"])


def test_a_deployment_without_alert_routes_declares_no_alert_secret(
    app: App, deployment: ModelDeployment, outdir: Path
) -> None:
    app.synth()
    assert "tfprod-alerts" not in by_name(synthesized(outdir, "ml"), "kubernetes_secret_v1")


def test_existing_names_must_be_secret_names(platform: ClusterModelPlatform) -> None:
    with pytest.raises(ConstructError) as error:
        AlertSecrets(platform, existing="tfprod-alerts")  # type: ignore[arg-type]
    assert str(error.value) == (
        "ml/alert-secrets: existing: 'tfprod-alerts' is one string, not a list of names;"
        " allowed: a list of Secret names, e.g. ['tfprod-alerts']"
    )


def test_references_are_read_from_the_alertmanager_config_spec() -> None:
    spec = {"receivers": [{"slackConfigs": [{"apiURL": {"name": "a", "key": "b.c"}}]}]}
    (ref,) = alert_secret_refs(spec)
    assert (ref, alert_variable_name(ref)) == (SecretRef(name="a", key="b.c"), "tfprod_alert_a_b_c")
