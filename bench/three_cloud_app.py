"""The benchmark app: one stack per cloud (AWS, GCP, Azure), each with the cloud's provider and
a Kubernetes provider, one model registry bucket and three model deployments (Deployment,
Service and HorizontalPodAutoscaler v2 each).

The same code synthesizes through tfprod's generated bindings or through the prebuilt
`cdktn_provider_*` packages: tfprod's mirror the prebuilt modules and class names, so only
the import prefix differs.

    python bench/three_cloud_app.py --bindings tfprod|prebuilt --outdir DIR
"""

from __future__ import annotations

import argparse
import importlib
import os
from types import ModuleType

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

PREFIXES = {"tfprod": "tfprod.bindings.", "prebuilt": "cdktn_provider_"}
MODELS = ("ranker", "fraud", "churn")
SERVING_IMAGE = "tensorflow/serving:2.18.0"
PREDICT_PORT = 8501


class Bindings:
    """The binding modules of one flavour, loaded by provider and module name."""

    def __init__(self, flavour: str) -> None:
        self._prefix = PREFIXES[flavour]

    def __call__(self, provider: str, module: str) -> ModuleType:
        return importlib.import_module(f"{self._prefix}{provider}.{module}")


def add_models(scope: object, bindings: Bindings, registry_url: str) -> None:
    """Three TF Serving deployments, each with its Service and an HPA on CPU utilisation."""
    dep = bindings("kubernetes", "deployment_v1")
    svc = bindings("kubernetes", "service_v1")
    hpa = bindings("kubernetes", "horizontal_pod_autoscaler_v2")
    for model in MODELS:
        labels = {"app.kubernetes.io/name": model, "tfprod.dev/model": model}
        http_get = dep.DeploymentV1SpecTemplateSpecContainerReadinessProbeHttpGet(
            path=f"/v1/models/{model}", port=str(PREDICT_PORT)
        )
        container = dep.DeploymentV1SpecTemplateSpecContainer(
            name="serving",
            image=SERVING_IMAGE,
            args=[f"--model_name={model}", "--model_base_path=/models/" + model],
            env=[dep.DeploymentV1SpecTemplateSpecContainerEnv(name="REGISTRY", value=registry_url)],
            port=[dep.DeploymentV1SpecTemplateSpecContainerPort(container_port=PREDICT_PORT)],
            readiness_probe=dep.DeploymentV1SpecTemplateSpecContainerReadinessProbe(
                http_get=http_get, period_seconds=5
            ),
            resources=dep.DeploymentV1SpecTemplateSpecContainerResources(
                requests={"cpu": "500m", "memory": "1Gi"}, limits={"memory": "2Gi"}
            ),
        )
        deployment = dep.DeploymentV1(
            scope,
            f"{model}-deployment",
            metadata=dep.DeploymentV1Metadata(name=model, namespace="models", labels=labels),
            spec=dep.DeploymentV1Spec(
                replicas="2",
                selector=dep.DeploymentV1SpecSelector(match_labels=labels),
                template=dep.DeploymentV1SpecTemplate(
                    metadata=dep.DeploymentV1SpecTemplateMetadata(labels=labels),
                    spec=dep.DeploymentV1SpecTemplateSpec(container=[container]),
                ),
            ),
        )
        svc.ServiceV1(
            scope,
            f"{model}-service",
            metadata=svc.ServiceV1Metadata(name=model, namespace="models"),
            spec=svc.ServiceV1Spec(
                selector=labels,
                port=[svc.ServiceV1SpecPort(name="http", port=80, target_port=str(PREDICT_PORT))],
            ),
        )
        target = hpa.HorizontalPodAutoscalerV2SpecMetricResourceTarget(
            type="Utilization", average_utilization=70
        )
        hpa.HorizontalPodAutoscalerV2(
            scope,
            f"{model}-hpa",
            metadata=hpa.HorizontalPodAutoscalerV2Metadata(name=model, namespace="models"),
            spec=hpa.HorizontalPodAutoscalerV2Spec(
                min_replicas=2,
                max_replicas=10,
                scale_target_ref=hpa.HorizontalPodAutoscalerV2SpecScaleTargetRef(
                    api_version="apps/v1", kind="Deployment", name=deployment.metadata.name
                ),
                metric=[
                    hpa.HorizontalPodAutoscalerV2SpecMetric(
                        type="Resource",
                        resource=hpa.HorizontalPodAutoscalerV2SpecMetricResource(
                            name="cpu", target=target
                        ),
                    )
                ],
            ),
        )


def aws_registry(scope: object, bindings: Bindings) -> str:
    bindings("aws", "provider").AwsProvider(scope, "aws", region="eu-west-1")
    s3 = bindings("aws", "s3_bucket")
    versioning = bindings("aws", "s3_bucket_versioning")
    sse = bindings("aws", "s3_bucket_server_side_encryption_configuration")
    public = bindings("aws", "s3_bucket_public_access_block")
    bucket = s3.S3Bucket(scope, "registry", bucket="tfprod-models-aws")
    versioning.S3BucketVersioningA(
        scope,
        "registry-versioning",
        bucket=bucket.id,
        versioning_configuration=versioning.S3BucketVersioningVersioningConfiguration(
            status="Enabled"
        ),
    )
    by_default = (
        sse.S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA
    )
    sse.S3BucketServerSideEncryptionConfigurationA(
        scope,
        "registry-sse",
        bucket=bucket.id,
        rule=[
            sse.S3BucketServerSideEncryptionConfigurationRuleA(
                apply_server_side_encryption_by_default=by_default(sse_algorithm="aws:kms")
            )
        ],
    )
    public.S3BucketPublicAccessBlock(
        scope,
        "registry-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )
    return f"s3://{bucket.bucket}"


def gcp_registry(scope: object, bindings: Bindings) -> str:
    bindings("google", "provider").GoogleProvider(
        scope, "google", project="tfprod-demo", region="europe-west1"
    )
    gcs = bindings("google", "storage_bucket")
    bucket = gcs.StorageBucket(
        scope,
        "registry",
        name="tfprod-models-gcp",
        location="EU",
        uniform_bucket_level_access=True,
        public_access_prevention="enforced",
        versioning=gcs.StorageBucketVersioning(enabled=True),
    )
    return f"gs://{bucket.name}"


def azure_registry(scope: object, bindings: Bindings) -> str:
    provider = bindings("azurerm", "provider")
    provider.AzurermProvider(
        scope, "azurerm", features=[provider.AzurermProviderFeatures()], subscription_id="0000"
    )
    account = bindings("azurerm", "storage_account").StorageAccount(
        scope,
        "registry-account",
        name="tfprodmodels",
        resource_group_name="tfprod",
        location="westeurope",
        account_tier="Standard",
        account_replication_type="ZRS",
        min_tls_version="TLS1_2",
        allow_nested_items_to_be_public=False,
    )
    container = bindings("azurerm", "storage_container").StorageContainer(
        scope, "registry", name="models", storage_account_id=account.id
    )
    return f"az://{account.name}/{container.name}"


REGISTRIES = {"aws": aws_registry, "gcp": gcp_registry, "azure": azure_registry}


def synth(flavour: str, outdir: str) -> None:
    from cdktn import App, TerraformStack

    bindings = Bindings(flavour)
    kubernetes = bindings("kubernetes", "provider")
    app = App(outdir=outdir)
    for cloud, registry in REGISTRIES.items():
        stack = TerraformStack(app, f"models-{cloud}")
        kubernetes.KubernetesProvider(stack, "kubernetes", config_context=f"{cloud}-cluster")
        add_models(stack, bindings, registry(stack, bindings))
    app.synth()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--bindings", choices=sorted(PREFIXES), required=True)
    parser.add_argument("--outdir", required=True)
    args = parser.parse_args()
    synth(args.bindings, args.outdir)


if __name__ == "__main__":
    main()
