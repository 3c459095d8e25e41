"""`ModelMonitor`, `DriftDetector`, `SafetyNet` and `ModelDebugger`, declared on a deployment.

Each attaches to the deployment given as `model` (a Deployment), else to the one serving the
model or version named, else to the session's most recent `deploy` (logged at INFO).
`DriftDetector` takes reference data as a 2-D array, a mapping of columns, a DataFrame (its
columns), or a URI; data is profiled once and the profile is written under
`$TFPROD_HOME/profiles/`, which the Policy's `drift.reference_uri` names.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from tfprod.policy import Debugger, Drift, Monitor, SafetyNet as SafetySection
from tfprod.production.declared import Construct, section
from tfprod.production.deployment import Deployment, attach, version_of
from tfprod.production.errors import argument_error
from tfprod.production.home import home
from tfprod.production.session import current
from tfprod.production.verbs import METHODS, ON_DEMAND_METHODS, Explanation, explain


class ModelMonitor:
    """Metrics watched (a list, or the proposal's grouped dict) and where alerts go."""

    def __init__(
        self,
        *,
        model: Any = None,
        metrics: Sequence[str] | Mapping[str, Sequence[str]],
        alerts: Mapping[str, Any] | None = None,
    ) -> None:
        current().declaring("ModelMonitor")
        declared = attach(model, deployment=None, call="ModelMonitor")
        written = (
            {group: list(names) for group, names in metrics.items()}
            if isinstance(metrics, Mapping)
            else list(metrics)
        )
        monitor = section(
            Monitor, {"metrics": written, "alerts": alerts}, call="ModelMonitor", rename={}
        )
        declared.set_section("monitor", monitor, call="ModelMonitor")
        kwargs: dict[str, Any] = {"metrics": written}
        if alerts is not None:
            kwargs["alerts"] = dict(alerts)
        declared.constructs.append(Construct("ModelMonitor", "monitor", kwargs))
        self.deployment = Deployment(declared.name)
        self.metrics = monitor.metrics


class DriftDetector:
    """Input drift of the deployment's live traffic against reference (training) data."""

    def __init__(
        self,
        *,
        reference_data: Any,
        alert_threshold: float = 0.1,
        detection_window: float | str = "1h",
        model: Any = None,
    ) -> None:
        current().declaring("DriftDetector")
        declared = attach(model, deployment=None, call="DriftDetector")
        uri = _reference_uri(reference_data, declared.name)
        drift = section(
            Drift,
            {
                "reference_uri": uri,
                "threshold": alert_threshold,
                "window_seconds": detection_window,
            },
            call="DriftDetector",
            rename={
                "reference_uri": "reference_data",
                "threshold": "alert_threshold",
                "window_seconds": "detection_window",
            },
        )
        declared.set_section("drift", drift, call="DriftDetector")
        declared.constructs.append(
            Construct(
                "DriftDetector",
                "drift",
                {
                    "reference_data": uri,
                    "alert_threshold": alert_threshold,
                    "detection_window": detection_window,
                },
            )
        )
        self.deployment = Deployment(declared.name)
        self.reference_uri = uri


class SafetyNet:
    """Triggers that roll back, pause or alert; rollbacks route to `fallback_model`."""

    def __init__(
        self,
        *,
        fallback_model: Any,
        triggers: Mapping[str, str],
        model: Any = None,
    ) -> None:
        current().declaring("SafetyNet")
        declared = attach(
            model if model is not None else fallback_model, deployment=None, call="SafetyNet"
        )
        version = version_of(declared, fallback_model, call="SafetyNet", argument="fallback_model")
        net = section(
            SafetySection,
            {"fallback_version": version, "triggers": dict(triggers)},
            call="SafetyNet",
            rename={"fallback_version": "fallback_model"},
        )
        if version not in declared.roles:
            declared.add_version(
                version, "fallback", 0.0, call="SafetyNet", argument="fallback_model"
            )
        declared.set_section("safety", net, call="SafetyNet")
        declared.constructs.append(
            Construct(
                "SafetyNet", "safety", {"fallback_model": version, "triggers": dict(triggers)}
            )
        )
        self.deployment = Deployment(declared.name)
        self.fallback_model = version


class ModelDebugger:
    """Live requests captured and explained; `explain_prediction` asks the explainer."""

    def __init__(
        self,
        *,
        model: Any = None,
        capture_rate: float = 0.01,
        features: Sequence[str] = ("lime", "shap", "gradients"),
    ) -> None:
        """`features`: explanation methods run on captured samples (attention_maps is
        answered on request only, so it is not part of the Policy's capture)."""
        current().declaring("ModelDebugger")
        declared = attach(model, deployment=None, call="ModelDebugger")
        for method in features:
            if method not in METHODS:
                raise argument_error(
                    "ModelDebugger", "features", f"names {method!r}", ", ".join(METHODS)
                )
        captured = [method for method in features if method not in ON_DEMAND_METHODS]
        if captured:
            debugger = section(
                Debugger,
                {"capture_rate": capture_rate, "explainers": captured},
                call="ModelDebugger",
                rename={"explainers": "features"},
            )
            declared.set_section("debugger", debugger, call="ModelDebugger")
            declared.constructs.append(
                Construct(
                    "ModelDebugger",
                    "debugger",
                    {"capture_rate": capture_rate, "features": captured},
                )
            )
        self.deployment = Deployment(declared.name)

    def explain_prediction(
        self, input_data: Any, methods: Sequence[str] = ("lime", "shap", "gradients")
    ) -> dict[str, list[Explanation]]:
        """Each method's explanations of `input_data` (rows, or one row), from the gateway's
        `POST /v1/models/<deployment>:explain`."""
        return explain(self.deployment.name, input_data, methods)


def _reference_uri(reference_data: Any, deployment: str) -> str:
    if isinstance(reference_data, str):
        return reference_data
    from tfprod.policy.profile import DRIFT_EDGES, build_profile

    try:
        profile = build_profile(reference_data, drift_edges=DRIFT_EDGES)
    except (TypeError, ValueError) as error:
        raise argument_error(
            "DriftDetector",
            "reference_data",
            f"cannot be profiled ({error})",
            "a 2-D array, a mapping of columns, a DataFrame, or a file://, s3://, gs:// or"
            " az:// URI",
        ) from None
    text = json.dumps(profile.to_json(), sort_keys=True)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    path = home() / "profiles" / f"{deployment}-{digest}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path.as_uri()
