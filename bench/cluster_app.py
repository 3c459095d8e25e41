"""The growth benchmark app: one cluster-only stack with N model deployments, each with a canary
and a safety net, synthesized through tfprod's `App` (policies, alerting, gateway, controller
and governance included).

    python bench/cluster_app.py --deployments N --outdir DIR
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


def synthesize(deployments: int, outdir: str) -> None:
    """Declare the stack and synthesize it into `outdir`."""
    from tfprod.constructs import App, CanaryDeployment, ModelDeployment, SafetyNet
    from tfprod.stacks.cluster import ClusterModelPlatform

    app = App(outdir=outdir)
    stack = ClusterModelPlatform(
        app, "cluster", registry_uri="s3://ml-models/registry", namespace="models"
    )
    for index in range(deployments):
        deployment = ModelDeployment(
            stack,
            f"model-{index}",
            name=f"model-{index}",
            model=f"model-{index}",
            version="v1.0.0",
            environment="staging",
        )
        CanaryDeployment(
            deployment,
            "canary",
            new_model="v1.1.0",
            traffic_percentage=5,
            ramp_up_schedule="linear_10_minutes",
            success_criteria={"error_rate": "< 1%", "latency_p95": "< 100ms"},
        )
        SafetyNet(
            deployment,
            "safety",
            fallback_model="v1.0.0",
            triggers={"error_rate > 5%": "immediate_rollback"},
        )
    app.synth()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, required=True)
    parser.add_argument("--outdir", required=True)
    args = parser.parse_args()
    synthesize(args.deployments, args.outdir)


if __name__ == "__main__":
    main()
