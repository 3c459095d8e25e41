"""App's finalization: policies, ConfigMaps, runtime workloads and RBAC, ownership, files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.constructs.stacks import (
    STACK,
    by_name,
    declared_objects,
    portable,
    proposal,
    synth_proposal,
    synthesized,
)
from tfprod.constructs import (
    App,
    CanaryDeployment,
    Gateway,
    ModelDeployment,
    RuntimeController,
    SafetyNet,
    SynthError,
)
from tfprod.policy import policy_json, read_policy, rollback_timing
from tfprod.stacks.cluster import ClusterModelPlatform

POLICY_DIR = "/etc/tfprod/policies"


@pytest.fixture
def proposal_tf(outdir: Path) -> dict[str, Any]:
    return synth_proposal(outdir)


def test_proposal_example_synthesizes_to_one_policy_next_to_the_stack(
    outdir: Path, proposal_tf: dict[str, Any]
) -> None:
    policy = read_policy(outdir / "stacks" / STACK / "recommendation-engine.policy.json")
    assert policy.namespace == "ml"
    assert [(version.id, version.role) for version in policy.versions] == [
        ("rec-v2.0.0", "stable"),
        ("rec-v2.1.0", "challenger"),
        ("rec-v2.1.1", "canary"),
        ("rec-v2.2.0", "shadow"),
    ]
    assert policy.traffic.weights == {"rec-v2.0.0": 85.0, "rec-v2.1.0": 10.0, "rec-v2.1.1": 5.0}
    worst = rollback_timing(policy).worst
    assert worst is not None
    assert (worst.cause, worst.seconds) == ("no data during the rollout", 375.0)
    assert sorted(by_name(proposal_tf, "kubernetes_deployment_v1")) == [
        "recommendation-engine-rec-v2-0-0",
        "recommendation-engine-rec-v2-1-0",
        "recommendation-engine-rec-v2-1-1",
        "recommendation-engine-rec-v2-2-0",
        "tfprod-controller",
        "tfprod-explainer",
        "tfprod-gateway",
    ]


def test_policy_configmap_holds_exactly_the_declared_policy_and_equals_the_file(
    outdir: Path, proposal_tf: dict[str, Any]
) -> None:
    config_maps = by_name(proposal_tf, "kubernetes_config_map_v1")
    assert sorted(config_maps) == [
        "recommendation-engine-dashboard",
        "recommendation-engine-endpoints",
        "recommendation-engine-policy",
        "tfprod-adapter-rules-ml",
    ]
    data = config_maps["recommendation-engine-policy"]["data"]
    text = (outdir / "stacks" / STACK / "recommendation-engine.policy.json").read_text()
    assert data == {"policy.json": text}
    assert text == policy_json(
        read_policy(outdir / "stacks" / STACK / "recommendation-engine.policy.json")
    )


def test_endpoints_configmap_maps_every_version_to_its_service(
    proposal_tf: dict[str, Any],
) -> None:
    data = by_name(proposal_tf, "kubernetes_config_map_v1")["recommendation-engine-endpoints"]
    assert json.loads(data["data"]["endpoints.json"]) == {
        "rec-v2.0.0": "http://recommendation-engine-rec-v2-0-0.ml.svc:8501",
        "rec-v2.1.0": "http://recommendation-engine-rec-v2-1-0.ml.svc:8501",
        "rec-v2.1.1": "http://recommendation-engine-rec-v2-1-1.ml.svc:8501",
        "rec-v2.2.0": "http://recommendation-engine-rec-v2-2-0.ml.svc:8501",
    }


def test_terraform_never_declares_live_status_so_reapplying_resets_nothing(
    proposal_tf: dict[str, Any],
) -> None:
    declared = declared_objects(proposal_tf)
    assert [name for _, name in declared if name.endswith("-status")] == []
    assert ("kubernetes_config_map_v1", "recommendation-engine-policy") in declared
    # The controller writes only the status ConfigMap, which Terraform does not declare.
    controller_rules = by_name(proposal_tf, "kubernetes_role_v1")["tfprod-controller"]["rule"]
    writes = [rule for rule in controller_rules if {"update", "patch"} & set(rule["verbs"])]
    assert writes == [
        {
            "api_groups": [""],
            "resources": ["configmaps"],
            "resource_names": ["recommendation-engine-status"],
            "verbs": ["get", "patch", "update"],
        },
        # Besides, only its leader-election Lease.
        {
            "api_groups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "resource_names": ["tfprod-controller"],
            "verbs": ["get", "update"],
        },
    ]
    # Every Deployment under an HPA leaves replicas to the HPA.
    autoscaled = set(by_name(proposal_tf, "kubernetes_horizontal_pod_autoscaler_v2"))
    for name, deployment in by_name(proposal_tf, "kubernetes_deployment_v1").items():
        expected = {"ignore_changes": ["spec[0].replicas"]} if name in autoscaled else None
        assert deployment.get("lifecycle") == expected, name
    assert len(autoscaled) == 4


def test_gateway_reads_only_the_named_policy_and_status_configmaps(
    proposal_tf: dict[str, Any],
) -> None:
    role = by_name(proposal_tf, "kubernetes_role_v1")["tfprod-gateway"]
    assert role["rule"] == [
        {
            "api_groups": [""],
            "resources": ["configmaps"],
            "resource_names": ["recommendation-engine-policy", "recommendation-engine-status"],
            "verbs": ["get", "watch"],
        }
    ]
    binding = by_name(proposal_tf, "kubernetes_role_binding_v1")["tfprod-gateway"]
    assert binding["role_ref"] == {
        "api_group": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "tfprod-gateway",
    }
    assert binding["subject"] == [
        {"kind": "ServiceAccount", "name": "tfprod-gateway", "namespace": "ml"}
    ]


def test_the_gateway_may_get_the_status_configmaps_it_follows_and_write_nothing(
    proposal_tf: dict[str, Any],
) -> None:
    (container,) = by_name(proposal_tf, "kubernetes_deployment_v1")["tfprod-gateway"]["spec"][
        "template"
    ]["spec"]["container"]
    args = container["args"]
    namespace = args[args.index("--status-namespace") + 1]
    role = by_name(proposal_tf, "kubernetes_role_v1")["tfprod-gateway"]
    assert role["metadata"][0]["namespace"] == namespace == "ml"
    readable = {
        name for rule in role["rule"] if "get" in rule["verbs"] for name in rule["resource_names"]
    }
    assert "recommendation-engine-status" in readable
    assert {verb for rule in role["rule"] for verb in rule["verbs"]} <= {"get", "watch"}


def test_controller_may_create_configmaps_and_leases_but_names_every_other_grant(
    proposal_tf: dict[str, Any],
) -> None:
    rules = by_name(proposal_tf, "kubernetes_role_v1")["tfprod-controller"]["rule"]
    assert rules == [
        {
            "api_groups": [""],
            "resources": ["configmaps"],
            "resource_names": ["recommendation-engine-policy"],
            "verbs": ["get", "watch"],
        },
        {
            "api_groups": [""],
            "resources": ["configmaps"],
            "resource_names": ["recommendation-engine-status"],
            "verbs": ["get", "patch", "update"],
        },
        {"api_groups": [""], "resources": ["configmaps"], "verbs": ["create"]},
        {
            "api_groups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "resource_names": ["tfprod-controller"],
            "verbs": ["get", "update"],
        },
        {"api_groups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
    ]


def test_gateway_and_controller_mount_each_policy_and_run_the_project_image(
    proposal_tf: dict[str, Any],
) -> None:
    workloads = by_name(proposal_tf, "kubernetes_deployment_v1")
    gateway = workloads["tfprod-gateway"]["spec"]
    controller = workloads["tfprod-controller"]["spec"]
    assert (gateway["replicas"], controller["replicas"]) == ("2", "1")
    gateway_pod = gateway["template"]["spec"]
    (container,) = gateway_pod["container"]
    assert container["image"] == "ghcr.io/tfprod/tfprod:0.1.0"
    assert container["args"] == [
        "gateway",
        "--policies",
        POLICY_DIR,
        "--admin-token-file",
        "/var/run/secrets/tfprod/admin-token/token",
        "--feedback-key-file",
        "/var/run/secrets/tfprod/feedback-key/key",
        "--advertise-address",
        "$(POD_IP)",
        "--status-namespace",
        "ml",
        "--host",
        "0.0.0.0",
        "--port",
        "8080",
        "--admin-port",
        "9090",
        "--explainer-url",
        "http://tfprod-explainer.ml.svc:8082",
    ]
    assert container["env"] == [
        {"name": "POD_IP", "value_from": {"field_ref": {"field_path": "status.podIP"}}}
    ]
    assert container["volume_mount"] == [
        {
            "mount_path": f"{POLICY_DIR}/recommendation-engine",
            "name": "policy-recommendation-engine",
            "read_only": True,
        },
        {
            "mount_path": "/var/run/secrets/tfprod/admin-token",
            "name": "admin-token",
            "read_only": True,
        },
        {
            "mount_path": "/var/run/secrets/tfprod/feedback-key",
            "name": "feedback-key",
            "read_only": True,
        },
    ]
    assert gateway_pod["volume"] == [
        {
            "name": "policy-recommendation-engine",
            "projected": [
                {
                    "sources": [
                        {"config_map": [{"name": "recommendation-engine-policy"}]},
                        {"config_map": [{"name": "recommendation-engine-endpoints"}]},
                    ]
                }
            ],
        },
        {
            "name": "admin-token",
            "secret": {
                "secret_name": "tfprod-admin-token",
                "items": [{"key": "token", "path": "token"}],
            },
        },
        {
            "name": "feedback-key",
            "secret": {
                "secret_name": "tfprod-feedback-key",
                "items": [{"key": "key", "path": "key"}],
            },
        },
    ]
    assert controller["template"]["spec"]["container"][0]["args"] == [
        "controller",
        "--policies",
        POLICY_DIR,
        "--namespace",
        "ml",
        "--prometheus-url",
        "http://prometheus-operated.monitoring.svc:9090",
        "--admin-token-file",
        "/var/run/secrets/tfprod/admin-token/token",
        "--host",
        "0.0.0.0",
        "--port",
        "8081",
    ]
    service = by_name(proposal_tf, "kubernetes_service_v1")["tfprod-gateway"]
    assert service["metadata"]["labels"]["app.kubernetes.io/component"] == "gateway"
    assert service["spec"]["port"] == [
        {"name": "http", "port": 8080, "target_port": "http"},
        {"name": "admin", "port": 9090, "target_port": "admin"},
    ]


def test_declared_gateway_and_controller_are_used_instead_of_defaults(
    app: App, outdir: Path, deployment: ModelDeployment, platform: ClusterModelPlatform
) -> None:
    Gateway(platform, "edge", image="registry.example.com/tfprod:0.1.0", replicas=4)
    RuntimeController(platform, "brain", prometheus_url="http://prometheus.example:9090")
    app.synth()
    workloads = by_name(synthesized(outdir, "ml"), "kubernetes_deployment_v1")
    assert sorted(workloads) == ["rec-rec-v1", "tfprod-controller", "tfprod-gateway"]
    gateway = workloads["tfprod-gateway"]["spec"]
    assert gateway["replicas"] == "4"
    assert gateway["template"]["spec"]["container"][0]["image"] == (
        "registry.example.com/tfprod:0.1.0"
    )
    args = workloads["tfprod-controller"]["spec"]["template"]["spec"]["container"][0]["args"]
    assert args[6] == "http://prometheus.example:9090"


def test_stack_without_deployments_gets_no_runtime(app: App, outdir: Path) -> None:
    ClusterModelPlatform(app, "empty", registry_uri="file:///srv/registry")
    app.synth()
    document = synthesized(outdir, "empty")
    assert "resource" not in document
    assert not (outdir / "stacks" / "empty" / "rec.policy.json").exists()


def test_synthesis_is_byte_identical_twice(tmp_path: Path) -> None:
    outputs = []
    for run in ("first", "second"):
        app = App(outdir=str(tmp_path / run))
        proposal(app)
        app.synth()
        directory = tmp_path / run / "stacks" / STACK
        outputs.append({path.name: path.read_bytes() for path in sorted(directory.iterdir())})
    assert outputs[0] == outputs[1]
    assert sorted(outputs[0]) == ["cdk.tf.json", "recommendation-engine.policy.json"]


def test_synthesized_stack_matches_the_committed_snapshot(proposal_tf: dict[str, Any]) -> None:
    # Regenerate: python -m tests.constructs.stacks tests/constructs/snapshots/proposal.tf.json
    snapshot = Path(__file__).parent / "snapshots" / "proposal.tf.json"
    assert portable(proposal_tf) == json.loads(snapshot.read_text(encoding="utf-8"))


def test_governance_errors_fail_synth_with_every_finding_and_write_nothing(
    app: App, outdir: Path, platform: ClusterModelPlatform
) -> None:
    ModelDeployment(
        platform,
        "rec",
        name="rec",
        model="rec",
        version="v1",
        environment="production",
        serving_image="tensorflow/serving:latest",
    )
    with pytest.raises(SynthError) as error:
        app.synth()
    assert str(error.value).splitlines() == [
        "ERROR TFP001 ml/rec: production deployment 'rec' has no SafetyNet; add"
        " SafetyNet(deployment, 'safety', fallback_model=..., triggers={...})",
        "ERROR TFP003 ml/rec: production deployment 'rec' routes no alerts; add"
        " ModelMonitor(deployment, 'monitor', metrics=[...], alerts={'slack': ..., 'email':"
        " [...], 'pagerduty': ...})",
        "ERROR TFP005 ml/rec/version-v1/deployment: spec.template.spec.container[0].image"
        " 'tensorflow/serving:latest' uses the :latest tag; pin a version tag (e.g."
        " 'tensorflow/serving:2.19.0') or a digest ('...@sha256:<digest>')",
    ]
    assert [path.name for path in outdir.rglob("*") if path.is_file()] == []


def test_governance_warnings_print_and_synth_goes_on(
    app: App,
    outdir: Path,
    deployment: ModelDeployment,
    capsys: pytest.CaptureFixture[str],
) -> None:
    CanaryDeployment(
        deployment, "canary", new_model="rec-v2", traffic_percentage=5, ramp_up_schedule=[(5, 60)]
    )
    app.synth()
    assert capsys.readouterr().err == (
        "WARNING TFP007 ml/rec: canary 'rec-v2' of 'rec' has no success criteria; give"
        " CanaryDeployment(..., success_criteria={'error_rate': '< 1%', 'latency_p95':"
        " '< 100ms'})\n"
    )
    assert (outdir / "stacks" / "ml" / "rec.policy.json").exists()


def test_a_fallback_version_is_served_and_listed_in_the_endpoints_configmap(
    app: App, outdir: Path, deployment: ModelDeployment
) -> None:
    SafetyNet(deployment, "safety", fallback_model="rec-v0", triggers={"error_rate > 5%": "pause"})
    app.synth()
    stack = synthesized(outdir, "ml")
    endpoints = by_name(stack, "kubernetes_config_map_v1")["rec-endpoints"]["data"]
    assert json.loads(endpoints["endpoints.json"]) == {
        "rec-v1": "http://rec-rec-v1.ml.svc:8501",
        "rec-v0": "http://rec-rec-v0.ml.svc:8501",
    }
    assert {"rec-rec-v0", "rec-rec-v1"} <= set(by_name(stack, "kubernetes_service_v1"))


def test_an_output_directory_whose_parents_are_missing_is_created(tmp_path: Path) -> None:
    outdir = tmp_path / "missing" / "parents" / "cdktf.out"
    app = App(outdir=str(outdir))
    ClusterModelPlatform(app, "cluster", registry_uri="s3://models/registry", namespace="models")
    app.synth()
    assert (outdir / "manifest.json").is_file()
