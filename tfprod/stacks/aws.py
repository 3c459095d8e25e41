"""`AwsModelPlatform`: model deployments on an EKS cluster, with the registry in S3.

The stack references the cluster (`data aws_eks_cluster`), never creates it. It creates the
registry bucket (versioned, encrypted, public access blocked) and, for each Kubernetes service
account a workload asks for, an IAM role for service accounts (IRSA): the role trusts the
cluster's OIDC provider for exactly `system:serviceaccount:<namespace>:<name>`, and carries a
policy to read (or, for `registry_writers`, also write) objects under the registry prefix.
The cluster's OIDC provider must be registered in IAM, as for any IRSA setup.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Literal

from tfprod.bindings._core import Construct, Fn, Token
from tfprod.bindings.aws.data_aws_eks_cluster import DataAwsEksCluster
from tfprod.bindings.aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from tfprod.bindings.aws.iam_policy import IamPolicy
from tfprod.bindings.aws.iam_role import IamRole
from tfprod.bindings.aws.iam_role_policy_attachment import IamRolePolicyAttachment
from tfprod.bindings.aws.provider import AwsProvider
from tfprod.bindings.aws.s3_bucket import S3Bucket
from tfprod.bindings.aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from tfprod.bindings.aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
)
from tfprod.bindings.aws.s3_bucket_versioning import S3BucketVersioningA
from tfprod.bindings.kubernetes.provider import KubernetesProvider, KubernetesProviderExec
from tfprod.constructs import ModelPlatformStack, ModelRegistry, ProjectImage
from tfprod.constructs.platform import DEFAULT_IMAGE
from tfprod.stacks._common import (
    BUCKET_NAME,
    BUCKET_NAME_RULE,
    REGISTRY_PREFIX,
    bounded_name,
    check_name,
    check_writers,
    service_account_subject,
)

ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"
_EKS_NAME = re.compile(r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}")
_EKS_NAME_RULE = "1 to 100 letters, digits, '-' or '_', starting with a letter or digit"
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
_REGION_RULE = "an AWS region code such as 'eu-west-1'"
_ROLE_NAME_LIMIT = 64
_POLICY_NAME_LIMIT = 128
_EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"
_Access = Literal["read", "write"]


class AwsModelPlatform(ModelPlatformStack):
    """A platform stack on an existing EKS cluster, with an S3 registry and IRSA roles."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        region: str,
        cluster_name: str,
        registry_bucket: str,
        namespace: str = "default",
        image: ProjectImage = DEFAULT_IMAGE,
        kms_key_arn: str | None = None,
        registry_writers: Sequence[str] = (),
    ) -> None:
        """- `region`: the AWS region of the cluster and the bucket, e.g. "eu-west-1".
        - `cluster_name`: the existing EKS cluster the workloads run on.
        - `registry_bucket`: the S3 bucket this stack creates for the registry; the registry
          root is `s3://<registry_bucket>/registry`.
        - `namespace`: where workloads go. Default: "default".
        - `image`: the tfprod image (repository, tag, optional digest) of the gateway,
          controller and registry pulls. Default: "ghcr.io/tfprod/tfprod:0.1.0".
        - `kms_key_arn`: the KMS key encrypting the bucket. Default: None, the AWS managed
          key `aws/s3` (SSE-KMS either way, with S3 Bucket Keys).
        - `registry_writers`: service accounts whose role may also write registry objects
          (e.g. a training job pushing versions); their roles are created up front, and
          `service_account_annotations(name)` gives the annotation to put on them.
          Default: none; every role only reads.
        """
        super().__init__(scope, id, namespace=namespace, image=image)
        check_name(self, "region", region, _REGION, _REGION_RULE)
        check_name(self, "cluster_name", cluster_name, _EKS_NAME, _EKS_NAME_RULE)
        check_name(self, "registry_bucket", registry_bucket, BUCKET_NAME, BUCKET_NAME_RULE)
        self.region = region
        self.cluster_name = cluster_name
        self._writers = check_writers(self, registry_writers)
        self._annotations: dict[str, Mapping[str, str]] = {}

        AwsProvider(self, "aws", region=region)
        self.cluster = DataAwsEksCluster(self, "cluster", name=cluster_name)
        self.use_kubernetes(
            KubernetesProvider(
                self,
                "kubernetes",
                host=self.cluster.endpoint,
                cluster_ca_certificate=Fn.base64decode(
                    self.cluster.get_string_attribute("certificate_authority[0].data")
                ),
                exec=[
                    KubernetesProviderExec(
                        api_version=_EXEC_API_VERSION,
                        command="aws",
                        args=[
                            "eks",
                            "get-token",
                            "--cluster-name",
                            cluster_name,
                            "--region",
                            region,
                        ],
                    )
                ],
            )
        )
        self.bucket = self._create_bucket(registry_bucket, kms_key_arn)
        self.use_registry(
            ModelRegistry(self, "registry", uri=f"s3://{registry_bucket}/{REGISTRY_PREFIX}")
        )
        self._read_policy = self._registry_policy("read", kms_key_arn)
        self._write_policy = self._registry_policy("write", kms_key_arn) if self._writers else None
        issuer = self.cluster.get_string_attribute("identity[0].oidc[0].issuer")
        self._issuer_host = Fn.replace(issuer, "https://", "")
        arn_parts = Fn.split(":", self.cluster.arn)
        partition = Token.as_string(Fn.element(arn_parts, 1))
        account = Token.as_string(Fn.element(arn_parts, 4))
        self._oidc_provider_arn = (
            f"arn:{partition}:iam::{account}:oidc-provider/{self._issuer_host}"
        )
        for writer in sorted(self._writers):
            self.service_account_annotations(writer)

    def service_account_annotations(self, service_account_name: str) -> Mapping[str, str]:
        """`eks.amazonaws.com/role-arn` of the IRSA role for `service_account_name`, created
        (once per name) with read access to the registry, and write access for writers."""
        if service_account_name not in self._annotations:
            role = self._service_account_role(service_account_name)
            self._annotations[service_account_name] = {ROLE_ARN_ANNOTATION: role.arn}
        return self._annotations[service_account_name]

    def _create_bucket(self, name: str, kms_key_arn: str | None) -> S3Bucket:
        bucket = S3Bucket(self, "registry-bucket", bucket=name)
        S3BucketVersioningA(
            self,
            "registry-bucket-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
        )
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "registry-bucket-encryption",
            bucket=bucket.id,
            rule=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": kms_key_arn,
                    },
                    "bucket_key_enabled": True,
                }
            ],
        )
        S3BucketPublicAccessBlock(
            self,
            "registry-bucket-public-access-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        return bucket

    def _registry_policy(self, access: _Access, kms_key_arn: str | None) -> IamPolicy:
        """The IAM policy to `read` or `write` objects under the registry prefix."""
        objects = f"{self.bucket.arn}/{REGISTRY_PREFIX}/*"
        if access == "read":
            statements = [
                DataAwsIamPolicyDocumentStatement(
                    sid="ListRegistry",
                    actions=["s3:ListBucket"],
                    resources=[self.bucket.arn],
                    condition=[
                        DataAwsIamPolicyDocumentStatementCondition(
                            test="StringLike",
                            variable="s3:prefix",
                            values=[f"{REGISTRY_PREFIX}/*"],
                        )
                    ],
                ),
                DataAwsIamPolicyDocumentStatement(
                    sid="ReadRegistry",
                    actions=["s3:GetObject", "s3:GetObjectVersion"],
                    resources=[objects],
                ),
            ]
            key_actions = ["kms:Decrypt"]
        else:
            statements = [
                DataAwsIamPolicyDocumentStatement(
                    sid="WriteRegistry", actions=["s3:PutObject"], resources=[objects]
                )
            ]
            key_actions = ["kms:Decrypt", "kms:GenerateDataKey"]
        if kms_key_arn is not None:
            statements.append(
                DataAwsIamPolicyDocumentStatement(
                    sid="UseRegistryKey", actions=key_actions, resources=[kms_key_arn]
                )
            )
        document = DataAwsIamPolicyDocument(
            self, f"registry-{access}-policy-document", statement=statements
        )
        return IamPolicy(
            self,
            f"registry-{access}-policy",
            name=bounded_name(
                f"{self.cluster_name}-{self.namespace}-registry-{access}", _POLICY_NAME_LIMIT
            ),
            description=f"{access.capitalize()} model registry objects in {self.registry.uri}",
            policy=document.json,
        )

    def _service_account_role(self, service_account: str) -> IamRole:
        trust = DataAwsIamPolicyDocument(
            self,
            f"{service_account}-trust-policy-document",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    actions=["sts:AssumeRoleWithWebIdentity"],
                    principals=[
                        DataAwsIamPolicyDocumentStatementPrincipals(
                            type="Federated",
                            identifiers=[self._oidc_provider_arn],
                        )
                    ],
                    condition=[
                        DataAwsIamPolicyDocumentStatementCondition(
                            test="StringEquals",
                            variable=f"{self._issuer_host}:sub",
                            values=[service_account_subject(self.namespace, service_account)],
                        ),
                        DataAwsIamPolicyDocumentStatementCondition(
                            test="StringEquals",
                            variable=f"{self._issuer_host}:aud",
                            values=["sts.amazonaws.com"],
                        ),
                    ],
                )
            ],
        )
        role = IamRole(
            self,
            f"{service_account}-role",
            name=bounded_name(
                f"{self.cluster_name}-{self.namespace}-{service_account}", _ROLE_NAME_LIMIT
            ),
            assume_role_policy=trust.json,
        )
        policies: list[tuple[_Access, IamPolicy]] = [("read", self._read_policy)]
        if self._write_policy is not None and service_account in self._writers:
            policies.append(("write", self._write_policy))
        for access, policy in policies:
            IamRolePolicyAttachment(
                self,
                f"{service_account}-registry-{access}",
                role=role.name,
                policy_arn=policy.arn,
            )
        return role
