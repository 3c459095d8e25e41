"""What is watched while a deployment runs: `ModelMonitor`, `DriftDetector`, `ModelDebugger`,
and the stack's `Explainer` that explains what the debuggers capture.

`Explainer` is a Deployment and Service (`tfprod-explainer`, port 8082) running `tfprod
explainer` from the explainer image: the project image built from `Dockerfile.explainer`
(the `serve` and `explain` extras: TensorFlow, LIME and SHAP, which the stock TF Serving image
cannot run), tagged `<project tag>-explain` in the project's repository by default. It mounts
the Policy ConfigMaps of the deployments with a ModelDebugger, pulls their versions from the
registry into an emptyDir (its service account gets the registry read access every tfprod
workload gets) and serves what the gateway forwards: `App` adds one per stack with a
ModelDebugger, unless the stack declares one, and gives the gateway its URL
(`--explainer-url`). Explanations are kept in memory per replica, so it runs one replica by
default. Only gateway pods may reach it (NetworkPolicy `tfprod-explainer`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from tfprod.bindings._core import Construct
from tfprod.bindings.kubernetes.config_map_v1 import ConfigMapV1
from tfprod.constructs._names import DEPLOYMENT_LABEL, labels
from tfprod.constructs.deployment import ModelDeployment, deployment_scope, section_error
from tfprod.constructs.errors import construct_error
from tfprod.constructs.network import gateway_only_ingress
from tfprod.constructs.platform import ProjectImage
from tfprod.constructs.runtime import _RuntimeWorkload
from tfprod.policy import (
    POLICY_MOUNT_DIR,
    PROFILE_CONFIGMAP_LIMIT,
    PROFILE_KEY,
    AlertRoutes,
    Debugger,
    Drift,
    Monitor,
    configmap_name,
    mounted_profile_uri,
    profile_configmap_name,
)
from tfprod.policy.observe import DEFAULT_CAPTURE_RETENTION_SECONDS

if TYPE_CHECKING:  # numpy is imported only when data is profiled
    from tfprod.policy.profile import ReferenceData

EXPLAINER_PORT = 8082
EXPLAINER_MODELS_DIR = "/models"
EXPLAINER_IMAGE_SUFFIX = "-explain"
_EXPLAINER_RESOURCES = {
    "requests": {"cpu": "500m", "memory": "1Gi"},
    "limits": {"cpu": "1", "memory": "2Gi"},
}


class ModelMonitor(Construct):
    """Metrics watched for every version of the deployment, and where alerts go.

    Scope: the `ModelDeployment`.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        metrics: Sequence[str] | Mapping[str, Sequence[str]],
        alerts: AlertRoutes | Mapping[str, Any] | None = None,
    ) -> None:
        """- `metrics`: metric names, e.g. prediction_latency, error_rate, or the proposal's grouped
          form {"performance": [...], "quality": [...], "business": [...]}; names the platform
          does not measure are refused (`tfprod.policy.observe.MONITOR_METRICS` lists them).
        - `alerts`: {"slack": "#ml-alerts", "email": [...], "pagerduty": "ml-on-call"} or
          `AlertRoutes` (secrets only as `SecretRef`s). Default: None, alerts are only logged.
        """
        super().__init__(scope, id)
        deployment = deployment_scope(self, "ModelMonitor", scope)
        try:
            written = dict(metrics) if isinstance(metrics, Mapping) else list(metrics)
            section = Monitor.model_validate({"metrics": written, "alerts": alerts})
        except ValidationError as error:
            raise section_error(self, error, {}) from None
        deployment.set_section("monitor", section, by=self)
        self.monitor = section


class DriftDetector(Construct):
    """Input drift measured against a reference profile of the training data.

    Scope: the `ModelDeployment`. Given data (not a URI), it profiles the data at synth, with
    no network, and declares the document as ConfigMap `<deployment>-profile` (key
    `profile.json`), which the gateway mounts next to the deployment's policy; the Policy's
    `drift.reference_uri` then names that mounted file (`mounted_profile_uri`).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        reference_data: str | ReferenceData,
        alert_threshold: float,
        detection_window: float | str,
        feature_names: Sequence[str] | None = None,
    ) -> None:
        """- `reference_data`: the training data's features, as a 2-D numpy array (rows x
          features), a mapping of column name to column, or a pandas DataFrame; or the URI of
          a profile already stored: a registry version
          (`<registry>/models/<name>/versions/<version>`) or a `*.json` profile document.
        - `alert_threshold`: drift score (PSI) above which drift is reported.
        - `detection_window`: seconds or "1h": live inputs are compared over this window.
        - `feature_names`: the names of a 2-D array's columns, in the order the model's
          inputs name them. Default: None, columns are named f0, f1, ...
        """
        super().__init__(scope, id)
        deployment = deployment_scope(self, "DriftDetector", scope)
        self.profile_text: str | None = None
        """The profile JSON declared in the profile ConfigMap; None for a URI."""
        if isinstance(reference_data, str):
            if feature_names is not None:
                raise construct_error(
                    self, "feature_names", "applies to reference data, not to a URI"
                )
            reference_uri = reference_data
        else:
            self.profile_text = _profile_of(self, reference_data, feature_names)
            reference_uri = mounted_profile_uri(deployment.name)
        try:
            section = Drift.model_validate(
                {
                    "reference_uri": reference_uri,
                    "threshold": alert_threshold,
                    "window_seconds": detection_window,
                }
            )
        except ValidationError as error:
            raise section_error(self, error, _DRIFT_NAMES) from None
        deployment.set_section("drift", section, by=self)
        self.drift = section
        if self.profile_text is not None:
            ConfigMapV1(
                self,
                "profile",
                metadata={
                    "name": profile_configmap_name(deployment.name),
                    "namespace": deployment.namespace,
                    "labels": {
                        **labels(
                            name=deployment.name, instance=deployment.name, component="profile"
                        ),
                        DEPLOYMENT_LABEL: deployment.name,
                    },
                },
                data={PROFILE_KEY: self.profile_text},
                provider=deployment.platform.kubernetes_provider,
            )


_DRIFT_NAMES = {
    "reference_uri": "reference_data",
    "threshold": "alert_threshold",
    "window_seconds": "detection_window",
}


def _profile_of(
    detector: DriftDetector, data: ReferenceData, feature_names: Sequence[str] | None
) -> str:
    """The profile JSON of `data`, checked to fit a ConfigMap; errors name the field."""
    from tfprod.policy.profile import DRIFT_EDGES, build_profile, profile_text

    try:
        profile = build_profile(data, feature_names=feature_names, drift_edges=DRIFT_EDGES)
    except ValueError as error:
        field = "feature_names" if "feature_names" in str(error) else "reference_data"
        raise construct_error(detector, field, str(error)) from None
    text = profile_text(profile)
    size = len(text.encode())
    if size > PROFILE_CONFIGMAP_LIMIT:
        raise construct_error(
            detector,
            "reference_data",
            f"its profile of {len(profile.features)} features is {size:,} bytes of JSON, more"
            f" than a ConfigMap holds ({PROFILE_CONFIGMAP_LIMIT:,})",
            "fewer features, or a profile stored in the registry"
            " (Registry.register(..., reference_data=...)) named by its version URI",
        )
    return text


class ModelDebugger(Construct):
    """A sample of live requests captured and explained.

    Scope: the `ModelDeployment`.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        capture_rate: float,
        features: Sequence[str],
        explain_features: Sequence[str] = (),
        capture_redact: Mapping[str, str] | None = None,
        capture_retention: float | str = DEFAULT_CAPTURE_RETENTION_SECONDS,
    ) -> None:
        """- `capture_rate`: fraction of requests captured (0.01 is one in a hundred).
        - `features`: explanation methods, as the proposal names them: lime, shap, gradients,
          attention_maps (integrated gradients: the models have no attention layers).
        - `explain_features`: input features to explain. Default: all of them.
        - `capture_redact`: captured fields to "drop" or "hash" by name, at any depth of the
          request and response, e.g. {"email": "drop", "user_id": "hash"}; the gateway
          redacts before anything is stored. Default: none.
        - `capture_retention`: how long captured records are kept, seconds or e.g. "12h".
          Default: 86400 (one day).
        """
        super().__init__(scope, id)
        deployment = deployment_scope(self, "ModelDebugger", scope)
        try:
            section = Debugger.model_validate(
                {
                    "capture_rate": capture_rate,
                    "explainers": list(features),
                    "features": list(explain_features),
                    "capture_redact": dict(capture_redact or {}),
                    "capture_retention": capture_retention,
                }
            )
        except ValidationError as error:
            raise section_error(self, error, _DEBUGGER_NAMES) from None
        deployment.set_section("debugger", section, by=self)
        self.debugger = section


_DEBUGGER_NAMES = {"explainers": "features", "features": "explain_features"}


def explainer_image(image: ProjectImage) -> str:
    """The explainer image of a project image: its repository, tag `<tag>-explain`."""
    return f"{image.repository}:{image.tag}{EXPLAINER_IMAGE_SUFFIX}"


class Explainer(_RuntimeWorkload):
    """`tfprod explainer`: explains requests and captured samples of the stack's deployments
    with a ModelDebugger (see the module docstring).

    Scope: a `ModelPlatformStack`. `App` adds one per stack with a ModelDebugger."""

    component = "explainer"
    port = EXPLAINER_PORT
    resources = _EXPLAINER_RESOURCES
    liveness_delay_seconds = 120  # TensorFlow loads and every version is pulled first

    def __init__(
        self, scope: Construct, id: str = "explainer", *, image: str | None = None
    ) -> None:
        """- `image`: the explainer image. Default: None, the stack's image repository with
        tag `<tag>-explain` (built from `Dockerfile.explainer`), e.g.
        "ghcr.io/tfprod/tfprod:0.1.0-explain".
        """
        super().__init__(scope, id, image=image, replicas=1, field_owner="explainer")
        self.image = image or explainer_image(self.platform.image)

    @property
    def url(self) -> str:
        """The explainer's base URL inside the cluster, which the gateway calls."""
        return f"http://{self.k8s_name}.{self.platform.namespace}.svc:{EXPLAINER_PORT}"

    def attach(self, deployments: Sequence[ModelDeployment]) -> str:
        """Create the explainer for `deployments` (`App` calls it once at synth); its URL."""
        names = [deployment.name for deployment in deployments]
        self._create(
            names,
            rules=[
                {
                    "api_groups": [""],
                    "resources": ["configmaps"],
                    "resource_names": [configmap_name(name) for name in names],
                    "verbs": ["get", "watch"],
                }
            ],
            args=[
                "explainer",
                "--policies",
                POLICY_MOUNT_DIR,
                "--models-dir",
                EXPLAINER_MODELS_DIR,
                "--host",
                "0.0.0.0",
                "--port",
                str(EXPLAINER_PORT),
            ],
            scratch={"models": EXPLAINER_MODELS_DIR},
        )
        gateway_only_ingress(
            self, "tfprod-explainer", component=self.component, port=EXPLAINER_PORT
        )
        return self.url
