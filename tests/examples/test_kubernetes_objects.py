"""tests.kubernetes_objects: synthesized kubernetes_* resources as the objects they create."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from tests.kubernetes_objects import (
    KINDS,
    KUBERNETES_VERSION,
    META_ARGUMENTS,
    PROVIDER_ONLY,
    UnplaceableError,
    field_name,
    kind_schema,
    resolve,
    to_manifest,
    types,
)

PROVIDER_SCHEMA = Path(__file__).resolve().parents[2] / "tfprod/bindings/snapshots/kubernetes.json"
METADATA = {"name": "rec", "namespace": "ml", "labels": {"app.kubernetes.io/name": "rec"}}


def deployment(**pod: Any) -> dict[str, Any]:
    """A kubernetes_deployment_v1 resource as cdktn synthesizes it, with `pod` in its pod spec."""
    return {
        "//": {"metadata": {"path": "stack/rec/deployment", "uniqueId": "rec_deployment_1"}},
        "provider": "kubernetes",
        "lifecycle": {"ignore_changes": ["spec[0].replicas"]},
        "wait_for_rollout": False,
        "metadata": METADATA,
        "spec": [
            {
                "replicas": "2",
                "selector": [{"match_labels": {"app.kubernetes.io/name": "rec"}}],
                "template": {
                    "metadata": {"labels": {"app.kubernetes.io/name": "rec"}},
                    "spec": {"container": [{"name": "serving", "image": "tf/serving"}], **pod},
                },
            }
        ],
    }


def pod_spec(manifest: Mapping[str, Any]) -> Any:
    return manifest["spec"]["template"]["spec"]


def test_names_become_camel_case_or_plural_and_one_element_blocks_become_objects() -> None:
    manifest = to_manifest(
        "kubernetes_deployment_v1",
        deployment(
            security_context=[{"run_as_user": "1000", "run_as_non_root": True, "fs_group": "1000"}],
            init_container=[
                {
                    "name": "pull",
                    "image": "tfprod",
                    "volume_mount": [{"name": "models", "mount_path": "/models"}],
                }
            ],
            volume=[{"name": "models", "empty_dir": {}}],
        ),
    )

    assert manifest == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": METADATA,
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "rec"}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "rec"}},
                "spec": {
                    "containers": [{"name": "serving", "image": "tf/serving"}],
                    "securityContext": {"runAsUser": 1000, "runAsNonRoot": True, "fsGroup": 1000},
                    "initContainers": [
                        {
                            "name": "pull",
                            "image": "tfprod",
                            "volumeMounts": [{"name": "models", "mountPath": "/models"}],
                        }
                    ],
                    "volumes": [{"name": "models", "emptyDir": {}}],
                },
            },
        },
    }
    kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize(
    ("tf_type", "resource", "body"),
    [
        (
            "kubernetes_namespace_v1",
            {"metadata": [{"name": "ml"}], "wait_for_default_service_account": True},
            {"metadata": {"name": "ml"}},
        ),
        (
            "kubernetes_role_binding_v1",
            {
                "metadata": {"name": "gateway", "namespace": "ml"},
                "role_ref": [
                    {"api_group": "rbac.authorization.k8s.io", "kind": "Role", "name": "g"}
                ],
                "subject": [{"kind": "ServiceAccount", "name": "gateway", "namespace": "ml"}],
            },
            {
                "metadata": {"name": "gateway", "namespace": "ml"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "g"},
                "subjects": [{"kind": "ServiceAccount", "name": "gateway", "namespace": "ml"}],
            },
        ),
        (
            "kubernetes_role_v1",
            {
                "metadata": [{"name": "gateway", "namespace": "ml"}],
                "rule": [{"api_groups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
            },
            {
                "metadata": {"name": "gateway", "namespace": "ml"},
                "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
            },
        ),
    ],
)
def test_each_resource_type_becomes_its_kind_with_api_version(
    tf_type: str, resource: dict[str, Any], body: dict[str, Any]
) -> None:
    manifest = to_manifest(tf_type, resource)

    api_version, kind = KINDS[tf_type]
    assert manifest == {"apiVersion": api_version, "kind": kind, **body}
    kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("tf_type", sorted(KINDS))
def test_each_resource_type_has_the_schema_kubernetes_validate_checks_its_kind_against(
    tf_type: str,
) -> None:
    api_version, kind = KINDS[tf_type]
    properties = kind_schema(tf_type)["properties"]

    assert (properties["apiVersion"]["enum"], properties["kind"]["enum"]) == ([api_version], [kind])


def test_maps_keep_their_keys_verbatim() -> None:
    manifest = to_manifest(
        "kubernetes_config_map_v1",
        {
            "metadata": {"name": "rec-policy", "annotations": {"tfprod.dev/max_replicas": "4"}},
            "data": {"policy.json": "{}", "model_name": "rec"},
        },
    )

    assert manifest == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "rec-policy", "annotations": {"tfprod.dev/max_replicas": "4"}},
        "data": {"policy.json": "{}", "model_name": "rec"},
    }


def test_initialisms_match_whatever_their_case_and_plurals_in_ies_are_found() -> None:
    service = to_manifest(
        "kubernetes_service_v1",
        {
            "metadata": {"name": "rec"},
            "spec": {"cluster_ip": "None", "port": [{"port": 8501, "target_port": "http"}]},
            "wait_for_load_balancer": True,
        },
    )
    autoscaler = to_manifest(
        "kubernetes_horizontal_pod_autoscaler_v2",
        {
            "metadata": {"name": "rec"},
            "spec": {
                "max_replicas": 4,
                "scale_target_ref": {"kind": "Deployment", "name": "rec"},
                "behavior": {"scale_up": [{"policy": [{"type": "Pods", "value": 2}]}]},
            },
        },
    )

    assert service["spec"] == {"clusterIP": "None", "ports": [{"port": 8501, "targetPort": "http"}]}
    assert autoscaler["spec"]["behavior"] == {
        "scaleUp": {"policies": [{"type": "Pods", "value": 2}]}
    }


@pytest.mark.parametrize(
    ("given", "sent"),
    [("2", 2), ("50%", "50%"), (3, 3)],
)
def test_int_or_string_fields_take_decimal_strings_as_integers_as_the_provider_does(
    given: str | int, sent: str | int
) -> None:
    budget = to_manifest(
        "kubernetes_pod_disruption_budget_v1",
        {"metadata": {"name": "rec"}, "spec": {"min_available": given}},
    )

    assert budget["spec"] == {"minAvailable": sent}


def test_terraform_references_become_placeholders_only_in_fields_that_are_not_strings() -> None:
    manifest = to_manifest(
        "kubernetes_service_account_v1",
        {
            "metadata": {
                "name": "rec",
                "annotations": {"eks.amazonaws.com/role-arn": "${aws_iam_role.rec.arn}"},
            },
            "automount_service_account_token": "${var.automount}",
        },
    )
    replicas = to_manifest(
        "kubernetes_deployment_v1", deployment() | {"spec": {"replicas": "${var.replicas}"}}
    )

    assert manifest["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "${aws_iam_role.rec.arn}"
    }
    assert manifest["automountServiceAccountToken"] is False
    assert replicas["spec"] == {"replicas": 0}


def test_projected_sources_become_one_projection_per_block_in_the_providers_order() -> None:
    manifest = to_manifest(
        "kubernetes_deployment_v1",
        deployment(
            volume=[
                {
                    "name": "policies",
                    "projected": [
                        {
                            "default_mode": "0440",
                            "sources": [
                                {
                                    "config_map": [{"name": "a"}, {"name": "b"}],
                                    "secret": [
                                        {
                                            "name": "c",
                                            "items": [{"key": "k", "path": "p", "mode": "0400"}],
                                        }
                                    ],
                                }
                            ],
                        }
                    ],
                }
            ]
        ),
    )

    assert pod_spec(manifest)["volumes"] == [
        {
            "name": "policies",
            "projected": {
                "defaultMode": 0o440,
                "sources": [
                    {"secret": {"name": "c", "items": [{"key": "k", "path": "p", "mode": 0o400}]}},
                    {"configMap": {"name": "a"}},
                    {"configMap": {"name": "b"}},
                ],
            },
        }
    ]
    kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_a_secrets_data_is_sent_base64_encoded() -> None:
    manifest = to_manifest(
        "kubernetes_secret_v1",
        {"metadata": {"name": "rec"}, "data": {"greeting": "hello"}, "type": "Opaque"},
    )

    assert manifest == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "rec"},
        "data": {"greeting": "aGVsbG8="},
        "type": "Opaque",
    }


def test_provider_names_no_rule_covers_come_from_the_renames_table() -> None:
    manifest = to_manifest(
        "kubernetes_deployment_v1",
        deployment(
            volume=[{"name": "shared", "glusterfs": {"endpoints_name": "gfs", "path": "/v"}}]
        ),
    )

    assert pod_spec(manifest)["volumes"] == [
        {"name": "shared", "glusterfs": {"endpoints": "gfs", "path": "/v"}}
    ]


def test_a_key_with_no_kubernetes_field_raises_naming_the_resource_and_path() -> None:
    resource = deployment(container=[{"name": "serving", "image": "tf/serving", "colour": "red"}])

    with pytest.raises(UnplaceableError) as raised:
        to_manifest("kubernetes_deployment_v1", resource)

    assert str(raised.value) == (
        "kubernetes_deployment_v1 stack/rec/deployment: spec.template.spec.container[0].colour:"
        " no field of io.k8s.api.core.v1.Container matches it"
        " (tried colour, colours, ignoring case)"
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"replicas": "two"},
            "kubernetes_deployment_v1 stack/rec/deployment: spec.replicas: wants an integer,"
            " got 'two'",
        ),
        (
            {"selector": [{"match_labels": {}}, {"match_labels": {}}]},
            "kubernetes_deployment_v1 stack/rec/deployment: spec.selector:"
            " io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector wants one object,"
            " got [{'match_labels': {}}, {'match_labels': {}}]",
        ),
        (
            {
                "template": {
                    "spec": {
                        "volume": [
                            {"name": "v", "projected": {"sources": [{"cluster_trust_bundle": []}]}}
                        ]
                    }
                }
            },
            "kubernetes_deployment_v1 stack/rec/deployment:"
            " spec.template.spec.volume[0].projected.sources[0].cluster_trust_bundle:"
            " the provider projects only secret, config_map, downward_api, service_account_token",
        ),
    ],
)
def test_a_value_of_the_wrong_shape_raises(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(UnplaceableError) as raised:
        to_manifest("kubernetes_deployment_v1", deployment() | {"spec": spec})

    assert str(raised.value) == message


def test_an_unknown_resource_type_raises_listing_the_known_ones() -> None:
    with pytest.raises(UnplaceableError) as raised:
        to_manifest("kubernetes_ingress_v1", {})

    assert str(raised.value) == (
        "kubernetes_ingress_v1: not a resource type this converter knows; known: "
        + ", ".join(KINDS)
    )


def unplaced(
    block: Mapping[str, Any], schema: Mapping[str, Any], definition: str, path: str
) -> Iterator[str]:
    """Paths of the provider schema `block`'s arguments that no Kubernetes field takes."""
    schema, definition = resolve(schema, definition)
    if "array" in types(schema):
        schema, definition = resolve(schema["items"], definition)
    blocks = block.get("block_types", {})
    arguments = [
        key
        for key, attribute in block.get("attributes", {}).items()
        if attribute.get("optional") or attribute.get("required")
    ]
    for key in sorted([*arguments, *blocks]):
        name = field_name(schema["properties"], definition, key)
        if name is None:
            yield f"{path}.{key}"
        elif key in blocks:
            yield from unplaced(
                blocks[key]["block"], schema["properties"][name], definition, f"{path}.{key}"
            )


def test_every_argument_of_the_providers_resources_has_a_kubernetes_field_but_these() -> None:
    """Walks the provider's schema: the renames table is complete, and the converter raises for
    just these arguments, which Kubernetes' Pod, HorizontalPodAutoscaler v2 or Secret do not
    have under that name (none is used by tfprod's constructs)."""
    schemas = json.loads(PROVIDER_SCHEMA.read_text())["provider_schemas"][
        "registry.terraform.io/hashicorp/kubernetes"
    ]["resource_schemas"]
    found = []
    for tf_type, (_api_version, kind) in KINDS.items():
        block = schemas[tf_type]["block"]
        # `id` is the Terraform resource id, which the provider sets.
        skipped = META_ARGUMENTS | PROVIDER_ONLY.get(tf_type, frozenset()) | {"id"}
        top = {
            "attributes": {k: v for k, v in block["attributes"].items() if k not in skipped},
            "block_types": {k: v for k, v in block["block_types"].items() if k not in skipped},
        }
        found.extend(unplaced(top, kind_schema(tf_type), kind, tf_type))

    volume = "kubernetes_deployment_v1.spec.template.spec.volume"
    assert found == [
        f"{volume}.azure_file.secret_namespace",
        f"{volume}.ceph_fs.secret_ref.namespace",
        f"{volume}.flex_volume.secret_ref.namespace",
        f"{volume}.local",
        f"{volume}.rbd.secret_ref.namespace",
        "kubernetes_horizontal_pod_autoscaler_v2.spec.target_cpu_utilization_percentage",
        "kubernetes_secret_v1.binary_data",
        "kubernetes_secret_v1.binary_data_wo",
        "kubernetes_secret_v1.binary_data_wo_revision",
        "kubernetes_secret_v1.data_wo",
        "kubernetes_secret_v1.data_wo_revision",
    ]
