"""The project's cdktn app (`cdktf.json` runs it): one small stack serving a TensorFlow model.

A namespace, a TF Serving Deployment with readiness and liveness probes and resource requests,
a Service in front of it and a HorizontalPodAutoscaler (v2) on CPU, declared through tfprod's
generated Kubernetes bindings and synthesized into `cdktf.out` (or the directory given, or
`CDKTF_OUTDIR`). `make demo` then checks the result with `tfprod validate cdktf.out`.

    python examples/app.py [OUTDIR]
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

from cdktn import App, TerraformStack

from tfprod.bindings.kubernetes.deployment_v1 import (
    DeploymentV1,
    DeploymentV1Metadata,
    DeploymentV1Spec,
    DeploymentV1SpecSelector,
    DeploymentV1SpecTemplate,
    DeploymentV1SpecTemplateMetadata,
    DeploymentV1SpecTemplateSpec,
    DeploymentV1SpecTemplateSpecContainer,
    DeploymentV1SpecTemplateSpecContainerLivenessProbe,
    DeploymentV1SpecTemplateSpecContainerLivenessProbeHttpGet,
    DeploymentV1SpecTemplateSpecContainerPort,
    DeploymentV1SpecTemplateSpecContainerReadinessProbe,
    DeploymentV1SpecTemplateSpecContainerReadinessProbeHttpGet,
    DeploymentV1SpecTemplateSpecContainerResources,
)
from tfprod.bindings.kubernetes.horizontal_pod_autoscaler_v2 import (
    HorizontalPodAutoscalerV2,
    HorizontalPodAutoscalerV2Metadata,
    HorizontalPodAutoscalerV2Spec,
    HorizontalPodAutoscalerV2SpecMetric,
    HorizontalPodAutoscalerV2SpecMetricResource,
    HorizontalPodAutoscalerV2SpecMetricResourceTarget,
    HorizontalPodAutoscalerV2SpecScaleTargetRef,
)
from tfprod.bindings.kubernetes.namespace_v1 import NamespaceV1, NamespaceV1Metadata
from tfprod.bindings.kubernetes.provider import KubernetesProvider
from tfprod.bindings.kubernetes.service_v1 import (
    ServiceV1,
    ServiceV1Metadata,
    ServiceV1Spec,
    ServiceV1SpecPort,
)

MODEL = "classifier"
NAMESPACE = "models"
REST_PORT = 8501


def build(app: App) -> TerraformStack:
    stack = TerraformStack(app, "models")
    KubernetesProvider(stack, "kubernetes", config_path="~/.kube/config")
    namespace = NamespaceV1(stack, "namespace", metadata=[NamespaceV1Metadata(name=NAMESPACE)])
    labels = {"app.kubernetes.io/name": MODEL}
    status = f"/v1/models/{MODEL}"
    container = DeploymentV1SpecTemplateSpecContainer(
        name="serving",
        image="tensorflow/serving:2.18.0",
        args=[f"--model_name={MODEL}", f"--model_base_path=/models/{MODEL}"],
        port=[DeploymentV1SpecTemplateSpecContainerPort(name="http", container_port=REST_PORT)],
        readiness_probe=DeploymentV1SpecTemplateSpecContainerReadinessProbe(
            http_get=DeploymentV1SpecTemplateSpecContainerReadinessProbeHttpGet(
                path=status, port=str(REST_PORT)
            ),
            period_seconds=5,
        ),
        liveness_probe=DeploymentV1SpecTemplateSpecContainerLivenessProbe(
            http_get=DeploymentV1SpecTemplateSpecContainerLivenessProbeHttpGet(
                path=status, port=str(REST_PORT)
            ),
            initial_delay_seconds=30,
        ),
        resources=DeploymentV1SpecTemplateSpecContainerResources(
            requests={"cpu": "500m", "memory": "1Gi"}, limits={"memory": "2Gi"}
        ),
    )
    deployment = DeploymentV1(
        stack,
        "deployment",
        depends_on=[namespace],
        metadata=DeploymentV1Metadata(name=MODEL, namespace=NAMESPACE, labels=labels),
        spec=DeploymentV1Spec(
            replicas="2",
            selector=DeploymentV1SpecSelector(match_labels=labels),
            template=DeploymentV1SpecTemplate(
                metadata=DeploymentV1SpecTemplateMetadata(labels=labels),
                spec=DeploymentV1SpecTemplateSpec(container=[container]),
            ),
        ),
    )
    ServiceV1(
        stack,
        "service",
        depends_on=[namespace],
        metadata=ServiceV1Metadata(name=MODEL, namespace=NAMESPACE),
        spec=ServiceV1Spec(
            selector=labels,
            port=[ServiceV1SpecPort(name="http", port=80, target_port=str(REST_PORT))],
        ),
    )
    HorizontalPodAutoscalerV2(
        stack,
        "autoscaler",
        depends_on=[namespace],
        metadata=HorizontalPodAutoscalerV2Metadata(name=MODEL, namespace=NAMESPACE),
        spec=HorizontalPodAutoscalerV2Spec(
            min_replicas=2,
            max_replicas=10,
            scale_target_ref=HorizontalPodAutoscalerV2SpecScaleTargetRef(
                api_version="apps/v1", kind="Deployment", name=deployment.metadata.name
            ),
            metric=[
                HorizontalPodAutoscalerV2SpecMetric(
                    type="Resource",
                    resource=HorizontalPodAutoscalerV2SpecMetricResource(
                        name="cpu",
                        target=HorizontalPodAutoscalerV2SpecMetricResourceTarget(
                            type="Utilization", average_utilization=70
                        ),
                    ),
                )
            ],
        ),
    )
    return stack


def main(argv: list[str]) -> int:
    # Without an argument, cdktn picks the directory: CDKTF_OUTDIR when the cdktf CLI runs
    # the app, else cdktf.out.
    app = App(outdir=argv[0]) if argv else App()
    build(app)
    app.synth()
    print(f"synthesized stack 'models' into {app.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
