"""The proposal's example synthesized by the app: its alerting objects pass Prometheus' and
Alertmanager's own checks and agree with the policy file written next to the stack."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.constructs.stacks import STACK, synth_proposal
from tfprod.constructs.alerting import EmailSettings, alertmanager_config, prometheus_rule_groups
from tfprod.policy import policy_file_name, read_policy


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    outdir = tmp_path_factory.mktemp("proposal") / "cdktf.out"
    return outdir, synth_proposal(outdir)


def of_kind(document: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    resources = document["resource"]["kubernetes_manifest"].values()
    return [resource["manifest"] for resource in resources if resource["manifest"]["kind"] == kind]


def test_rules_are_the_ones_the_written_policy_gives(
    synthesized: tuple[Path, dict[str, Any]],
) -> None:
    outdir, document = synthesized
    policy = read_policy(outdir / "stacks" / STACK / policy_file_name("recommendation-engine"))

    [rule] = of_kind(document, "PrometheusRule")

    assert rule["spec"]["groups"] == prometheus_rule_groups(policy)


def test_alertmanager_config_references_secrets_only(
    synthesized: tuple[Path, dict[str, Any]],
) -> None:
    [routing] = of_kind(synthesized[1], "AlertmanagerConfig")

    page = routing["spec"]["receivers"][1]
    assert page["slackConfigs"][0]["apiURL"] == {
        "name": "tfprod-alerts",
        "key": "slack-webhook-url",
    }
    assert page["pagerdutyConfigs"][0]["routingKey"] == {
        "name": "tfprod-alerts",
        "key": "pagerduty-routing-key",
    }


@pytest.mark.service
def test_promtool_accepts_every_prometheus_rule(
    promtool: str, tmp_path: Path, synthesized: tuple[Path, dict[str, Any]]
) -> None:
    rules = of_kind(synthesized[1], "PrometheusRule")
    assert len(rules) == 1
    paths = []
    for index, rule in enumerate(rules):
        path = tmp_path / f"rules-{index}.yml"
        path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
        paths.append(str(path))

    result = subprocess.run(
        [promtool, "check", "rules", *paths],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.service
def test_amtool_accepts_the_routes_of_the_written_policy(
    amtool: str, tmp_path: Path, secret_files: Path, synthesized: tuple[Path, dict[str, Any]]
) -> None:
    policy = read_policy(
        synthesized[0] / "stacks" / STACK / policy_file_name("recommendation-engine")
    )
    assert policy.monitor is not None
    assert policy.monitor.alerts is not None
    email = EmailSettings(smarthost="smtp.example.com:587", sender="alerts@example.com")
    config = alertmanager_config(
        {policy.name: policy.monitor.alerts}, email=email, secrets_dir=str(secret_files)
    )
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))

    result = subprocess.run(
        [amtool, "check-config", str(path)], capture_output=True, text=True, check=False, timeout=60
    )

    assert result.returncode == 0, result.stdout + result.stderr
