"""AwsModelPlatform: S3 registry hardening, IRSA roles and their trust, provider wiring."""

from __future__ import annotations

from typing import Any

import pytest

from tests.stacks.conftest import Synth, data, resources, service_account_annotations
from tfprod.bindings._core import App
from tfprod.constructs import ConstructError
from tfprod.stacks import AwsModelPlatform

ISSUER_HOST = '${replace(data.aws_eks_cluster.cluster.identity[0].oidc[0].issuer, "https://", "")}'
CLUSTER_ARN_PART = '${element(split(":", data.aws_eks_cluster.cluster.arn), %d)}'


def aws(app: App, **overrides: Any) -> AwsModelPlatform:
    props: dict[str, Any] = {
        "region": "eu-west-1",
        "cluster_name": "prod",
        "registry_bucket": "acme-models",
        "namespace": "ml",
    }
    return AwsModelPlatform(app, "aws", **{**props, **overrides})


def test_registry_is_the_bucket_prefix_as_a_plain_string() -> None:
    stack = aws(App())
    assert stack.registry.uri == "s3://acme-models/registry"


def test_bucket_is_versioned_encrypted_with_kms_and_blocks_all_public_access(
    synth: Synth,
) -> None:
    tf = synth(aws)
    assert resources(tf, "aws_s3_bucket") == {"registry-bucket": {"bucket": "acme-models"}}
    bucket_id = "${aws_s3_bucket.registry-bucket.id}"
    assert resources(tf, "aws_s3_bucket_versioning") == {
        "registry-bucket-versioning": {
            "bucket": bucket_id,
            "versioning_configuration": {"status": "Enabled"},
        }
    }
    assert resources(tf, "aws_s3_bucket_server_side_encryption_configuration") == {
        "registry-bucket-encryption": {
            "bucket": bucket_id,
            "rule": [
                {
                    "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms"},
                    "bucket_key_enabled": True,
                }
            ],
        }
    }
    assert resources(tf, "aws_s3_bucket_public_access_block") == {
        "registry-bucket-public-access-block": {
            "bucket": bucket_id,
            "block_public_acls": True,
            "block_public_policy": True,
            "ignore_public_acls": True,
            "restrict_public_buckets": True,
        }
    }


def test_given_kms_key_encrypts_the_bucket_and_roles_may_decrypt_with_it(synth: Synth) -> None:
    key = "arn:aws:kms:eu-west-1:111122223333:key/models"
    tf = synth(lambda app: aws(app, kms_key_arn=key))
    rule = resources(tf, "aws_s3_bucket_server_side_encryption_configuration")[
        "registry-bucket-encryption"
    ]["rule"]
    assert rule[0]["apply_server_side_encryption_by_default"] == {
        "sse_algorithm": "aws:kms",
        "kms_master_key_id": key,
    }
    read = data(tf, "aws_iam_policy_document")["registry-read-policy-document"]
    assert read["statement"][-1] == {
        "sid": "UseRegistryKey",
        "actions": ["kms:Decrypt"],
        "resources": [key],
    }


def test_read_policy_lists_and_gets_only_under_the_registry_prefix(synth: Synth) -> None:
    tf = synth(aws)
    documents = data(tf, "aws_iam_policy_document")
    assert documents["registry-read-policy-document"] == {
        "statement": [
            {
                "sid": "ListRegistry",
                "actions": ["s3:ListBucket"],
                "resources": ["${aws_s3_bucket.registry-bucket.arn}"],
                "condition": [
                    {"test": "StringLike", "variable": "s3:prefix", "values": ["registry/*"]}
                ],
            },
            {
                "sid": "ReadRegistry",
                "actions": ["s3:GetObject", "s3:GetObjectVersion"],
                "resources": ["${aws_s3_bucket.registry-bucket.arn}/registry/*"],
            },
        ]
    }
    assert "registry-write-policy-document" not in documents
    assert resources(tf, "aws_iam_policy") == {
        "registry-read-policy": {
            "name": "prod-ml-registry-read",
            "description": "Read model registry objects in s3://acme-models/registry",
            "policy": "${data.aws_iam_policy_document.registry-read-policy-document.json}",
        }
    }


def test_model_server_role_trusts_only_its_service_account_on_the_cluster_oidc_provider(
    synth: Synth,
) -> None:
    tf = synth(aws)
    trust = data(tf, "aws_iam_policy_document")["rec-model-server-trust-policy-document"]
    oidc_provider = (
        f"arn:{CLUSTER_ARN_PART % 1}:iam::{CLUSTER_ARN_PART % 4}:oidc-provider/{ISSUER_HOST}"
    )
    assert trust == {
        "statement": [
            {
                "actions": ["sts:AssumeRoleWithWebIdentity"],
                "principals": [{"type": "Federated", "identifiers": [oidc_provider]}],
                "condition": [
                    {
                        "test": "StringEquals",
                        "variable": f"{ISSUER_HOST}:sub",
                        "values": ["system:serviceaccount:ml:rec-model-server"],
                    },
                    {
                        "test": "StringEquals",
                        "variable": f"{ISSUER_HOST}:aud",
                        "values": ["sts.amazonaws.com"],
                    },
                ],
            }
        ]
    }
    assert resources(tf, "aws_iam_role") == {
        "rec-model-server-role": {
            "name": "prod-ml-rec-model-server",
            "assume_role_policy": (
                "${data.aws_iam_policy_document.rec-model-server-trust-policy-document.json}"
            ),
        }
    }
    assert resources(tf, "aws_iam_role_policy_attachment") == {
        "rec-model-server-registry-read": {
            "role": "${aws_iam_role.rec-model-server-role.name}",
            "policy_arn": "${aws_iam_policy.registry-read-policy.arn}",
        }
    }


def test_service_account_is_annotated_with_its_role_arn(synth: Synth) -> None:
    tf = synth(aws)
    assert service_account_annotations(tf) == {
        "rec-model-server": {
            "eks.amazonaws.com/role-arn": "${aws_iam_role.rec-model-server-role.arn}"
        }
    }


def test_registry_writers_get_a_role_up_front_with_the_write_policy_too(synth: Synth) -> None:
    tf = synth(lambda app: aws(app, registry_writers=["trainer"]))
    assert data(tf, "aws_iam_policy_document")["registry-write-policy-document"] == {
        "statement": [
            {
                "sid": "WriteRegistry",
                "actions": ["s3:PutObject"],
                "resources": ["${aws_s3_bucket.registry-bucket.arn}/registry/*"],
            }
        ]
    }
    attachments = resources(tf, "aws_iam_role_policy_attachment")
    assert {name: body["policy_arn"] for name, body in attachments.items()} == {
        "rec-model-server-registry-read": "${aws_iam_policy.registry-read-policy.arn}",
        "trainer-registry-read": "${aws_iam_policy.registry-read-policy.arn}",
        "trainer-registry-write": "${aws_iam_policy.registry-write-policy.arn}",
    }


def test_annotations_are_created_once_per_service_account() -> None:
    stack = aws(App())
    first = stack.service_account_annotations("job")
    assert stack.service_account_annotations("job") is first
    assert [child.node.id for child in stack.node.children if "job" in child.node.id] == [
        "job-trust-policy-document",
        "job-role",
        "job-registry-read",
    ]


def test_long_role_names_are_cut_with_a_stable_hash(synth: Synth) -> None:
    tf = synth(lambda app: aws(app, cluster_name="a" * 50))
    name = resources(tf, "aws_iam_role")["rec-model-server-role"]["name"]
    assert name == "a" * 50 + "-ml-r-f1acd1a0"
    assert len(name) == 64


def test_kubernetes_provider_reads_the_eks_cluster_and_gets_tokens_from_the_aws_cli(
    synth: Synth,
) -> None:
    tf = synth(aws)
    assert data(tf, "aws_eks_cluster") == {"cluster": {"name": "prod"}}
    assert tf["provider"] == {
        "aws": [{"region": "eu-west-1"}],
        "kubernetes": [
            {
                "host": "${data.aws_eks_cluster.cluster.endpoint}",
                "cluster_ca_certificate": (
                    "${base64decode(data.aws_eks_cluster.cluster.certificate_authority[0].data)}"
                ),
                "exec": [
                    {
                        "api_version": "client.authentication.k8s.io/v1beta1",
                        "command": "aws",
                        "args": [
                            "eks",
                            "get-token",
                            "--cluster-name",
                            "prod",
                            "--region",
                            "eu-west-1",
                        ],
                    }
                ],
            }
        ],
    }
    assert tf["terraform"]["required_providers"] == {
        "aws": {"source": "hashicorp/aws", "version": "6.69.1"},
        "kubernetes": {"source": "hashicorp/kubernetes", "version": "3.4.0"},
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "region",
            "Europe",
            "aws: region: 'Europe' is not valid; allowed: an AWS region code such as 'eu-west-1'",
        ),
        (
            "cluster_name",
            "-prod",
            "aws: cluster_name: '-prod' is not valid; allowed: 1 to 100 letters, digits, '-' or"
            " '_', starting with a letter or digit",
        ),
        (
            "registry_bucket",
            "Acme_Models",
            "aws: registry_bucket: 'Acme_Models' is not valid; allowed: 3 to 63 lower-case"
            " letters, digits or '-', starting and ending with a letter or digit",
        ),
        (
            "registry_writers",
            ["Trainer"],
            "aws: registry_writers: 'Trainer' is not a service account name; allowed: 1 to 63"
            " lower-case letters, digits or '-', starting and ending with a letter or digit",
        ),
        (
            "registry_writers",
            "trainer",
            "aws: registry_writers: 'trainer' is one string, not a list of names; allowed: a"
            " list of service account names, e.g. ['trainer']",
        ),
        (
            "namespace",
            "ML",
            "aws: namespace: 'ML' is not a DNS-1123 label; allowed: 1 to 63 lower-case letters,"
            " digits or '-', starting and ending with a letter or digit",
        ),
    ],
)
def test_bad_props_fail_naming_the_field_and_what_is_allowed(
    field: str, value: object, message: str
) -> None:
    with pytest.raises(ConstructError) as caught:
        aws(App(), **{field: value})
    assert str(caught.value) == message
