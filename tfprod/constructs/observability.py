"""What is watched while a deployment runs: `ModelMonitor`, `DriftDetector`, `ModelDebugger`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from tfprod.bindings._core import Construct
from tfprod.constructs.deployment import deployment_scope, section_error
from tfprod.policy import AlertRoutes, Debugger, Drift, Monitor
from tfprod.policy.observe import DEFAULT_CAPTURE_RETENTION_SECONDS


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
        deployment = deployment_scope(self, "ModelMonitor")
        try:
            written = dict(metrics) if isinstance(metrics, Mapping) else list(metrics)
            section = Monitor.model_validate({"metrics": written, "alerts": alerts})
        except ValidationError as error:
            raise section_error(self, error, {}) from None
        deployment.set_section("monitor", section, by=self)
        self.monitor = section


class DriftDetector(Construct):
    """Input drift measured against a reference profile of the training data.

    Scope: the `ModelDeployment`.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        reference_data: str,
        alert_threshold: float,
        detection_window: float | str,
    ) -> None:
        """- `reference_data`: file://, s3://, gs:// or az:// URI of the reference data.
        - `alert_threshold`: drift score (PSI) above which drift is reported.
        - `detection_window`: seconds or "1h": live inputs are compared over this window.
        """
        super().__init__(scope, id)
        deployment = deployment_scope(self, "DriftDetector")
        try:
            section = Drift.model_validate(
                {
                    "reference_uri": reference_data,
                    "threshold": alert_threshold,
                    "window_seconds": detection_window,
                }
            )
        except ValidationError as error:
            raise section_error(self, error, _DRIFT_NAMES) from None
        deployment.set_section("drift", section, by=self)
        self.drift = section


_DRIFT_NAMES = {
    "reference_uri": "reference_data",
    "threshold": "alert_threshold",
    "window_seconds": "detection_window",
}


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
        deployment = deployment_scope(self, "ModelDebugger")
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
