"""The examples: what they declare, and that their synthesized stacks are valid and stable."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from examples import app as example_app
from tests.examples.conftest import manifests, policies, stack_json, stacks, synth_examples
from tests.kubernetes_objects import KUBERNETES_VERSION, kubernetes_objects
from tests.services import skip_or_fail
from tfprod.cli._app import main
from tfprod.constructs.alerting import EmailSettings, alertmanager_config
from tfprod.runtime.gateway.metrics import GatewayMetrics

REPO = Path(__file__).resolve().parents[2]
STACKS = [
    "ecommerce-aws",
    "ecommerce-azure",
    "ecommerce-gcp",
    "fraud-aws",
    "fraud-azure",
    "fraud-gcp",
    "recommendation-aws",
    "recommendation-azure",
    "recommendation-gcp",
]
SECTIONS = ("ab_test", "canary", "shadow", "monitor", "drift", "safety", "debugger")
# Kinds the Prometheus Operator defines: no Kubernetes schema to check them against here
# (promtool checks the rules' content instead).
OPERATOR_KINDS = {
    ("monitoring.coreos.com/v1", "PrometheusRule"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig"),
}
# What the stacks' typed kubernetes_* resources create.
CORE_KINDS = {
    ("apps/v1", "Deployment"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("policy/v1", "PodDisruptionBudget"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("v1", "ServiceAccount"),
}
SECRET_LOOKALIKES = {
    "Slack webhook URL": re.compile(r"hooks\.slack\.com/"),
    "Slack token": re.compile(r"\bxox[abpr]-"),
    "32-hex key": re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{32}(?![0-9A-Fa-f])"),
    "URL with a password": re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@\"]+:[^/\s@\"]+@"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "storage account key": re.compile(r"AccountKey="),
}


def test_app_declares_each_example_on_each_cloud(outdir: Path) -> None:
    assert stacks(outdir) == STACKS


def test_every_example_stack_passes_tfprod_validate(
    outdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(outdir)]) == 0
    assert capsys.readouterr().out == (
        f"{outdir}: 9 stacks ({', '.join(STACKS)}) valid against aws 6.69.1, azurerm 5.10.0,"
        " google 8.7.0, kubernetes 3.4.0\n"
    )


def test_synthesizing_again_is_byte_identical(outdir: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    synth_examples(again)
    files = sorted(path.relative_to(outdir) for path in outdir.rglob("*") if path.is_file())
    assert files == sorted(path.relative_to(again) for path in again.rglob("*") if path.is_file())
    for name in files:
        assert (outdir / name).read_bytes() == (again / name).read_bytes(), name


@pytest.mark.parametrize(
    ("example", "deployments"),
    [
        (
            "recommendation",
            {"recommendation-engine": {*SECTIONS}},
        ),
        (
            "fraud",
            {
                "fraud-scorer": {"canary", "shadow", "monitor", "drift", "safety", "debugger"},
                "merchant-risk": {"ab_test", "monitor"},
            },
        ),
        (
            "ecommerce",
            {
                "search-ranking": {"ab_test", "monitor", "drift", "safety"},
                "basket-recommender": {"canary", "monitor", "safety"},
                "demand-forecaster": {"shadow", "debugger"},
            },
        ),
    ],
)
def test_each_example_declares_its_mix_of_experiments_and_safeguards(
    outdir: Path, example: str, deployments: dict[str, set[str]]
) -> None:
    declared = policies(outdir, f"{example}-aws")
    assert {
        name: {section for section in SECTIONS if getattr(policy, section) is not None}
        for name, policy in declared.items()
    } == deployments


@pytest.mark.parametrize("example", ["recommendation", "fraud", "ecommerce"])
def test_clouds_differ_only_in_registry_storage_and_identity(outdir: Path, example: str) -> None:
    """Same policies up to the registry root; same Kubernetes objects in all three stacks."""
    roots = {
        cloud: next(iter(policies(outdir, f"{example}-{cloud}").values())).versions[0].artifact
        for cloud in ("aws", "gcp", "azure")
    }
    documents = {}
    kubernetes = {}
    for cloud, artifact in roots.items():
        root = artifact.split("/models/", 1)[0]
        stack = f"{example}-{cloud}"
        documents[cloud] = {
            name: json.loads(policy.model_dump_json().replace(root, "<registry>"))
            for name, policy in policies(outdir, stack).items()
        }
        kubernetes[cloud] = {
            (kind, name)
            for kind, resources in stack_json(outdir, stack)["resource"].items()
            if kind.startswith("kubernetes_")
            for name in resources
        }
    assert documents["aws"] == documents["gcp"] == documents["azure"]
    assert kubernetes["aws"] == kubernetes["gcp"] == kubernetes["azure"]


def test_every_kubernetes_object_of_every_stack_passes_kubernetes_validate(
    outdir: Path, proposal: dict[str, Any]
) -> None:
    """Typed resources are converted to the objects the provider creates; `kubernetes_manifest`
    objects are checked as written, except Prometheus Operator kinds. An object declared alike
    in several stacks is checked once."""
    documents = {stack: stack_json(outdir, stack) for stack in stacks(outdir)}
    documents["proposal"] = proposal
    declared: dict[str, list[str]] = {}
    skipped = set()
    for stack, document in documents.items():
        for address, manifest in kubernetes_objects(document):
            if (manifest["apiVersion"], manifest["kind"]) in OPERATOR_KINDS:
                skipped.add((manifest["apiVersion"], manifest["kind"]))
            else:
                declared.setdefault(json.dumps(manifest, sort_keys=True), []).append(
                    f"{stack} {address}"
                )

    checked: Counter[tuple[str, str]] = Counter()
    invalid = []
    for text, where in declared.items():
        manifest = json.loads(text)
        try:
            kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.absolute_path)
            invalid.append(f"{', '.join(where)}: {path}: {error.message}")
        checked[(manifest["apiVersion"], manifest["kind"])] += len(where)

    assert invalid == []
    # A Counter holds only kinds counted at least once: each expected kind was checked.
    assert set(checked) == CORE_KINDS
    assert skipped == OPERATOR_KINDS


def test_no_synthesized_file_holds_a_secret(outdir: Path) -> None:
    found = [
        f"{path.relative_to(outdir)}: {what}"
        for path in sorted(outdir.rglob("*.json"))
        for what, pattern in SECRET_LOOKALIKES.items()
        if pattern.search(path.read_text())
    ]
    assert found == []


def test_alert_receivers_take_webhooks_and_routing_keys_from_kubernetes_secrets(
    outdir: Path,
) -> None:
    references: Counter[str] = Counter()
    for _stack, manifest in manifests(outdir):
        for receiver in manifest["spec"].get("receivers", []):
            for config in receiver.get("slackConfigs", []):
                references[json.dumps(config["apiURL"], sort_keys=True)] += 1
            for config in receiver.get("pagerdutyConfigs", []):
                references[json.dumps(config["routingKey"], sort_keys=True)] += 1
    assert references == {
        '{"key": "slack-webhook-url", "name": "tfprod-alerts"}': 30,
        '{"key": "pagerduty-routing-key", "name": "tfprod-alerts"}': 15,
    }


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        skip_or_fail(f"{name} is not installed (scripts/install-system-deps.sh installs it)")
    assert found is not None
    return found


@pytest.mark.service
def test_promtool_accepts_every_prometheus_rule(outdir: Path, tmp_path: Path) -> None:
    files = []
    rules = 0
    for stack, manifest in manifests(outdir):
        if manifest["kind"] != "PrometheusRule":
            continue
        path = tmp_path / f"{stack}-{manifest['metadata']['name']}.yml"
        path.write_text(yaml.safe_dump({"groups": manifest["spec"]["groups"]}))
        files.append(str(path))
        rules += sum(len(group["rules"]) for group in manifest["spec"]["groups"])

    result = subprocess.run(
        [tool("promtool"), "check", "rules", *files],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert len(files) == 18
    assert result.stdout.count("SUCCESS") == len(files)
    counts = [int(found) for found in re.findall(r"SUCCESS: (\d+) rules found", result.stdout)]
    assert sum(counts) == rules


@pytest.mark.service
@pytest.mark.parametrize("example", ["recommendation", "fraud", "ecommerce"])
def test_amtool_accepts_the_alertmanager_configuration_of_each_example(
    outdir: Path, tmp_path: Path, example: str
) -> None:
    secrets = tmp_path / "secrets"
    for name in ("slack-webhook-url", "pagerduty-routing-key", "smtp-password"):
        (secrets / "tfprod-alerts").mkdir(parents=True, exist_ok=True)
        (secrets / "tfprod-alerts" / name).write_text("dummy")
    routes = {
        name: policy.monitor.alerts
        for name, policy in policies(outdir, f"{example}-aws").items()
        if policy.monitor is not None and policy.monitor.alerts is not None
    }
    email = EmailSettings(
        smarthost="smtp.company.com:587", sender="ml-alerts@company.com", username="alerts"
    )
    config = alertmanager_config(routes, email=email, secrets_dir=str(secrets))
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))

    result = subprocess.run(
        [tool("amtool"), "check-config", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert f" - {1 + 2 * len(routes)} receivers" in result.stdout.splitlines()


@pytest.mark.slow
def test_the_root_cdktf_json_app_synthesizes_every_example(tmp_path: Path) -> None:
    """Runs the app command of cdktf.json as the cdktf CLI does: repo root, CDKTF_OUTDIR set."""
    command = shlex.split(json.loads((REPO / "cdktf.json").read_text())["app"])
    outdir = tmp_path / "cdktf.out"
    result = subprocess.run(
        command,
        cwd=REPO,
        env={**os.environ, "CDKTF_OUTDIR": str(outdir)},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "synthesized 9 stacks (recommendation-aws, recommendation-gcp, recommendation-azure,"
        " fraud-aws, fraud-gcp, fraud-azure, ecommerce-aws, ecommerce-gcp, ecommerce-azure)"
        f" into {outdir}\n"
    )
    assert stacks(outdir) == STACKS


# Resource metrics come from the cluster's resource metrics API (metrics-server), which every
# HPA on CPU relies on; the stacks declare nothing for them.
RESOURCE_METRICS = {"cpu"}


def test_every_metric_an_hpa_names_has_a_declared_source(outdir: Path) -> None:
    """Each External metric of an HPA is served by an adapter rule the same stack declares, over
    a series the gateway serves, with a selector naming the scale target's deployment and
    version; each Resource metric is one the resource metrics API serves."""
    gateway_series = {
        family.name + ("_total" if family.type == "counter" else "")
        for family in text_string_to_metric_families(GatewayMetrics().render())
    }
    unserved = []
    checked: Counter[str] = Counter()
    for stack in stacks(outdir):
        document = stack_json(outdir, stack)
        rules = [
            rule
            for resource in document["resource"]["kubernetes_config_map_v1"].values()
            if "config.yaml" in resource.get("data", {})
            for rule in yaml.safe_load(resource["data"]["config.yaml"])["externalRules"]
        ]
        served = {rule["name"]["as"]: rule for rule in rules}
        deployments = {
            resource["metadata"]["name"]: resource["spec"]["template"]["metadata"]["labels"]
            for resource in document["resource"]["kubernetes_deployment_v1"].values()
        }
        hpas = document["resource"].get("kubernetes_horizontal_pod_autoscaler_v2", {})
        for address, hpa in hpas.items():
            spec = hpa["spec"]
            target = deployments[spec["scale_target_ref"]["name"]]
            for metric in spec["metric"]:
                if metric["type"] == "Resource":
                    name = metric["resource"]["name"]
                    if name not in RESOURCE_METRICS:
                        unserved.append(f"{stack} {address}: resource {name}")
                    checked[f"Resource/{name}"] += 1
                    continue
                assert metric["type"] == "External", f"{stack} {address}: {metric['type']}"
                name = metric["external"]["metric"]["name"]
                selector = metric["external"]["metric"]["selector"][0]["match_labels"]
                rule = served.get(name)
                if rule is None:
                    unserved.append(f"{stack} {address}: external {name}: no adapter rule")
                    continue
                series, _, matchers = rule["seriesQuery"].partition("{")
                assert series in gateway_series
                assert set(selector) <= set(re.findall(r"(\w+)!=", matchers))
                assert selector == {
                    "model": target["tfprod.dev/deployment"],
                    "variant": target["app.kubernetes.io/version"],
                }
                checked[f"External/{name}"] += 1
    assert unserved == []
    assert set(checked) == {"Resource/cpu", "External/tfprod_requests_per_second"}


def secret_references(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(where, Secret name, key) of every Secret key a stack's objects reference: pod volumes
    and environment of Deployments, and AlertmanagerConfig receivers."""
    found = []
    for address, resource in document["resource"].get("kubernetes_deployment_v1", {}).items():
        pod = resource["spec"]["template"]["spec"]
        for volume in pod.get("volume", []):
            if "secret" in volume:
                for item in volume["secret"]["items"]:
                    found.append((address, volume["secret"]["secret_name"], item["key"]))
        for container in pod["container"] + pod.get("init_container", []):
            for env in container.get("env", []):
                ref = env.get("value_from", {}).get("secret_key_ref")
                if ref is not None:
                    found.append((address, ref["name"], ref["key"]))
    for address, resource in document["resource"].get("kubernetes_manifest", {}).items():
        manifest = resource["manifest"]
        if manifest["kind"] == "AlertmanagerConfig":
            for receiver in manifest["spec"]["receivers"]:
                for kind in ("slackConfigs", "pagerdutyConfigs"):
                    for config in receiver.get(kind, []):
                        ref = config.get("apiURL") or config["routingKey"]
                        found.append((address, ref["name"], ref["key"]))
    return found


def test_every_secret_reference_leads_to_a_secret_the_stack_declares_from_a_sensitive_variable(
    outdir: Path,
) -> None:
    missing = []
    followed: Counter[str] = Counter()
    for stack in stacks(outdir):
        document = stack_json(outdir, stack)
        declared = {
            resource["metadata"]["name"]: resource["data"]
            for resource in document["resource"]["kubernetes_secret_v1"].values()
        }
        for where, name, key in secret_references(document):
            value = declared.get(name, {}).get(key)
            match = re.fullmatch(r"\$\{var\.(\w+)\}", value or "")
            if match is None or document["variable"][match.group(1)] != {
                **document["variable"][match.group(1)],
                "sensitive": True,
                "type": "string",
            }:
                missing.append(f"{stack} {where}: {name}/{key} -> {value!r}")
            followed[f"{name}/{key}"] += 1
    assert missing == []
    assert set(followed) == {
        "tfprod-admin-token/token",
        "tfprod-feedback-key/key",
        "tfprod-alerts/slack-webhook-url",
        "tfprod-alerts/pagerduty-routing-key",
    }


def test_the_example_app_answers_help_and_synthesizes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        example_app.main(["--help"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("usage: ")
    assert list(tmp_path.iterdir()) == []
