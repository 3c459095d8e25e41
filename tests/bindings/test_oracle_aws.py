"""Oracle: tfprod's aws bindings synthesize the same Terraform JSON as the prebuilt
`cdktn-provider-aws` (installed by `make test`)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import cdktn
import pytest

import tfprod.bindings.aws as ours
from tests.bindings.oracle import assert_same_type, generated_types, require_prebuilt, synth

require_prebuilt("cdktn-provider-aws")

pytestmark = pytest.mark.slow

TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})


def build(k: SimpleNamespace, stack: cdktn.TerraformStack) -> None:
    k.provider.AwsProvider(
        stack, "aws", region="eu-west-1", default_tags=[{"tags": {"owner": "ml"}}]
    )
    k.provider.AwsProvider(stack, "aws_us", region="us-east-1", alias="us", max_retries=5)
    cluster = k.data_aws_eks_cluster.DataAwsEksCluster(stack, "cluster", name="prod")
    k.data_aws_eks_cluster.DataAwsEksCluster(stack, "other", name="staging", region="us-east-1")
    trust = k.data_aws_iam_policy_document.DataAwsIamPolicyDocument(
        stack,
        "trust",
        statement=[
            {
                "effect": "Allow",
                "actions": ["sts:AssumeRoleWithWebIdentity"],
                "principals": [{"type": "Federated", "identifiers": [cluster.arn]}],
                "condition": [
                    {
                        "test": "StringEquals",
                        "variable": "oidc:sub",
                        "values": ["system:serviceaccount:models:serving"],
                    }
                ],
            }
        ],
    )
    access = k.data_aws_iam_policy_document.DataAwsIamPolicyDocument(
        stack,
        "access",
        version="2012-10-17",
        statement=[{"actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::models/*"]}],
    )
    bucket = k.s3_bucket.S3Bucket(
        stack,
        "models",
        bucket="models",
        force_destroy=False,
        tags={"app": "tfprod"},
        lifecycle={"prevent_destroy": True},
    )
    k.s3_bucket.S3Bucket(stack, "logs", bucket_prefix="logs-", timeouts={"create": "5m"})
    k.s3_bucket_versioning.S3BucketVersioningA(
        stack, "versioning", bucket=bucket.id, versioning_configuration={"status": "Enabled"}
    )
    k.s3_bucket_versioning.S3BucketVersioningA(
        stack,
        "versioning_suspended",
        bucket="logs",
        versioning_configuration={"status": "Suspended"},
        expected_bucket_owner="123456789012",
    )
    k.s3_bucket_server_side_encryption_configuration.S3BucketServerSideEncryptionConfigurationA(
        stack,
        "sse",
        bucket=bucket.id,
        rule=[
            {
                "applyServerSideEncryptionByDefault": {
                    "sseAlgorithm": "aws:kms",
                    "kmsMasterKeyId": "alias/models",
                },
                "bucketKeyEnabled": True,
            }
        ],
    )
    k.s3_bucket_server_side_encryption_configuration.S3BucketServerSideEncryptionConfigurationA(
        stack,
        "sse_s3",
        bucket="logs",
        rule=[{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}],
    )
    for name, flag in (("block_all", True), ("block_none", False)):
        k.s3_bucket_public_access_block.S3BucketPublicAccessBlock(
            stack,
            name,
            bucket=bucket.id,
            block_public_acls=flag,
            block_public_policy=flag,
            ignore_public_acls=flag,
            restrict_public_buckets=flag,
        )
    role = k.iam_role.IamRole(
        stack,
        "serving_role",
        name="serving",
        assume_role_policy=trust.json,
        max_session_duration=3600,
        tags={"app": "tfprod"},
    )
    k.iam_role.IamRole(
        stack,
        "controller_role",
        name_prefix="controller-",
        assume_role_policy=TRUST,
        inline_policy=[{"name": "read", "policy": access.json}],
    )
    policy = k.iam_policy.IamPolicy(
        stack, "read_models", name="read-models", policy=access.json, path="/tfprod/"
    )
    k.iam_policy.IamPolicy(stack, "empty", name_prefix="empty-", policy=TRUST, description="x")
    k.iam_role_policy_attachment.IamRolePolicyAttachment(
        stack, "attach", role=role.name, policy_arn=policy.arn
    )
    k.iam_role_policy_attachment.IamRolePolicyAttachment(
        stack,
        "attach_readonly",
        role="controller",
        policy_arn="arn:aws:iam::aws:policy/ReadOnlyAccess",
    )


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    base = tmp_path_factory.mktemp("oracle-aws")
    return (
        synth("tfprod.bindings.aws", ours.__all__, build, base / "tfprod"),
        synth("cdktn_provider_aws", ours.__all__, build, base / "prebuilt"),
    )


@pytest.mark.parametrize(("section", "tf_type"), generated_types("tfprod.bindings.aws"))
def test_synthesizes_the_same_json_as_the_prebuilt_provider(
    both: tuple[dict[str, Any], dict[str, Any]], section: str, tf_type: str
) -> None:
    assert_same_type(both, section, tf_type)


def test_provider_blocks_match(both: tuple[dict[str, Any], dict[str, Any]]) -> None:
    mine, prebuilt = both
    assert mine["provider"] == prebuilt["provider"]
    assert mine["terraform"]["required_providers"] == prebuilt["terraform"]["required_providers"]
