"""`deploy`: a model served, and the handle a user reaches for next.

A deployment's name is the `name` given (or the model's own name) mapped by
`tfprod.policy.names.dns_name` ("recommendation_engine" becomes "recommendation-engine"); its
models are registered under that name too, so every version it runs is one registry model.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from tfprod.policy import ControllerSettings, check_version_id, dns_name
from tfprod.policy.names import (
    DNS_1035_LABEL_RULE,
    DNS_1123_LABEL_RULE,
    is_dns_1035_label,
    is_dns_label,
)
from tfprod.production import verbs
from tfprod.production.declared import AutoScaling, Construct, Declared
from tfprod.production.errors import ProductionError, argument_error
from tfprod.production.http import call
from tfprod.production.models import is_model, model_source, register_source
from tfprod.production.session import current

FEEDBACK_EVENTS: Mapping[str, str] = {
    "click": "click",
    "click_rate": "click",
    "click_through_rate": "click",
    "ctr": "click",
    "conversion": "conversion",
    "conversion_rate": "conversion",
    "revenue": "revenue",
    "revenue_per_request": "revenue",
}
"""Feedback events by the names a user may give: the gateway's events (click, conversion,
revenue) and the metric names the proposal measures with them."""
FEEDBACK_ID_HEADER = "X-Tfprod-Feedback-Id"
VARIANT_HEADER = "X-Tfprod-Variant"
_log = logging.getLogger("tfprod.production")


@dataclass(frozen=True, kw_only=True)
class Prediction:
    """One answer of the gateway."""

    predictions: list[Any]
    request_id: str
    """The gateway's signed request id: give it to `feedback`."""
    version: str
    """The version that answered."""


class Deployment:
    """A deployed model: its URL, predictions, feedback and live status."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Deployment({self.name!r})"

    @property
    def url(self) -> str:
        """The deployment's TF Serving REST URL at the gateway (`.../v1/models/<name>`)."""
        session = current()
        if session.cluster is not None:
            base = session.cluster.gateway_url
        else:
            base = session.runtime().gateway_url
        return f"{base}/v1/models/{quote(self.name)}"

    def predict(self, instances: Any) -> Prediction:
        """TF Serving's `:predict` with `{"instances": instances}` (lists or a numpy array)."""
        rows = instances.tolist() if hasattr(instances, "tolist") else instances
        if not isinstance(rows, list) or not rows:
            raise argument_error(
                "predict",
                "instances",
                f"is {type(instances).__name__}",
                "a non-empty list or array",
            )
        current().runtime()
        answer, headers = call(
            "POST", f"{self.url}:predict", body={"instances": rows}, what=f"predict {self.name}"
        )
        lower = {key.lower(): value for key, value in headers.items()}
        return Prediction(
            predictions=list(answer["predictions"]),
            request_id=lower.get(FEEDBACK_ID_HEADER.lower(), ""),
            version=lower.get(VARIANT_HEADER.lower(), ""),
        )

    def feedback(self, request_id: str, event: str, value: float | None = None) -> None:
        """Counts a business outcome for the version that answered `request_id` (the gateway
        checks its signature). `event`: click, conversion or revenue, or a metric name measured
        with one (click_rate, conversion, ...); `value` 0 or 1 (default 1), revenue's amount."""
        if event not in FEEDBACK_EVENTS:
            raise argument_error(
                "feedback",
                "event",
                f"{event!r} is not a feedback event",
                ", ".join(FEEDBACK_EVENTS),
            )
        runtime = current().runtime()
        body: dict[str, Any] = {"request_id": request_id, "event": FEEDBACK_EVENTS[event]}
        if value is not None:
            body["value"] = value
        call("POST", f"{runtime.gateway_url}/v1/feedback", body=body, what="feedback")

    def status(self) -> dict[str, Any]:
        """The controller's view: phase, weights, step, checks, A/B result, rollback."""
        return verbs.status(self.name)

    @property
    def weights(self) -> dict[str, float]:
        """Live traffic in percent per version id."""
        return dict(self.status()["weights"])

    def get_results(self) -> verbs.ABResults:
        """The deployment's A/B test now, as `ABTest.get_results` gives it."""
        return verbs.ab_results(self.name)

    def promote_winner(self) -> str:
        """Gives the A/B test's winner its traffic, as `ABTest.promote_winner` does."""
        return verbs.promote_winner(self.name, name=self.get_results().name)

    def explain_prediction(
        self, input_data: Any, methods: Sequence[str] = ("lime", "shap", "gradients")
    ) -> dict[str, list[verbs.Explanation]]:
        """Each method's explanations, as `ModelDebugger.explain_prediction` gives them."""
        return verbs.explain(self.name, input_data, methods)


def deployment(name: str) -> Deployment:
    """The handle of deployment `name` (mapped by `dns_name`): one of this session's, or, when
    connected to a cluster, one its controller runs (the runtime calls work on both)."""
    session = current()
    mapped = dns_name(name)
    if session.cluster is None and mapped not in session.deployments:
        raise argument_error(
            "deployment",
            "name",
            f"{name!r} is not deployed in this session",
            ", ".join(map(repr, session.deployments)) or "none yet: call production.deploy first",
        )
    return Deployment(mapped)


def deploy(
    *,
    model: Any,
    name: str | None = None,
    version: str | None = None,
    scaling: AutoScaling | None = None,
    environment: str = "production",
    metadata: Mapping[str, Any] | None = None,
) -> Deployment:
    """Serves `model` (a Keras model or a SavedModel path) as the stable version of deployment
    `name` (default: the model's own name), on the embedded platform started now in the
    background. `version`: default the next free one, or the version these weights already
    have. `scaling` applies in a cluster (the exported stack). `environment`: default
    "production"."""
    session = current()
    session.declaring("deploy")
    source = model_source(model, call="deploy", argument="model")
    mapped = dns_name(name) if isinstance(name, str) else source.own_name
    if not is_dns_1035_label(mapped):
        raise argument_error(
            "deploy",
            "name",
            f"{name!r} becomes {mapped!r}, which is not a valid deployment name",
            f"{DNS_1035_LABEL_RULE}, after '_' and '.' become '-' and letters lower case",
        )
    if mapped in session.deployments:
        raise argument_error(
            "deploy",
            "name",
            f"{mapped!r} is already deployed in this session",
            "a new name; new versions of a deployment come in through CanaryDeployment or ABTest",
        )
    if not is_dns_label(environment):
        raise argument_error(
            "deploy", "environment", f"{environment!r} is not valid", DNS_1123_LABEL_RULE
        )
    if scaling is not None and not isinstance(scaling, AutoScaling):
        raise argument_error(
            "deploy",
            "scaling",
            f"is {type(scaling).__name__}",
            "production.AutoScaling(...) or None",
        )
    if version is not None:
        _check_version(version, call="deploy", argument="version")
    chosen = register_source(
        session.registry(), source, name=mapped, version=version, metadata=metadata
    )
    declared = Declared(
        name=mapped,
        model=mapped,
        registry=session.registry_uri,
        stable=chosen,
        environment=environment,
        scaling=scaling,
        controller=session.controller,
    )
    kwargs: dict[str, Any] = {
        "name": mapped,
        "model": mapped,
        "version": chosen,
        "environment": environment,
    }
    if scaling is not None:
        kwargs["scaling"] = scaling
    if session.controller != ControllerSettings():
        kwargs["controller"] = session.controller
    declared.constructs.append(Construct("ModelDeployment", mapped, kwargs))
    session.declared(declared)
    _log.info("deployed %s version %s", mapped, chosen)
    return Deployment(mapped)


def attach(target: Any, *, deployment: Deployment | None, call: str) -> Declared:
    """The deployment an object declared without one belongs to: `deployment` if given, else
    the one serving `target` (a Deployment, a model or a version id), else the session's most
    recent `deploy`; logged at INFO."""
    session = current()
    if deployment is None and isinstance(target, Deployment):
        deployment = target
    if deployment is not None:
        if deployment.name not in session.deployments:
            raise argument_error(
                call,
                "model",
                f"{deployment!r} is not deployed in this session",
                ", ".join(map(repr, session.deployments))
                or "none yet: call production.deploy first",
            )
        return session.deployments[deployment.name]
    found = [declared for declared in session.deployments.values() if _serves(declared, target)]
    if found:
        _log.info("%s attaches to %s, which serves its model", call, found[-1].name)
        return found[-1]
    if session.last is None:
        raise ProductionError(f"{call}: no deployment to attach to; call production.deploy first")
    _log.info("%s attaches to %s, the session's most recent deploy", call, session.last.name)
    return session.last


def version_of(declared: Declared, value: Any, *, call: str, argument: str) -> str:
    """The version id `value` (a model, registered now if new, or a version id) is in the
    registry model of `declared`."""
    session = current()
    if is_model(value):
        source = model_source(value, call=call, argument=argument)
        return register_source(session.registry(), source, name=declared.model)
    if not isinstance(value, str):
        raise argument_error(
            call,
            argument,
            f"is {type(value).__name__}",
            "a Keras model, a SavedModel path or a version id",
        )
    _check_version(value, call=call, argument=argument)
    known = [item.version for item in session.registry().versions(declared.model)]
    if value not in known:
        raise argument_error(
            call,
            argument,
            f"{value!r} is not a registered version of {declared.model!r}",
            ", ".join(map(repr, known)) + ", or a model (registered on first use)",
        )
    return value


def _serves(declared: Declared, target: Any) -> bool:
    if isinstance(target, str):
        return target in declared.roles
    if is_model(target):
        from tfprod.production.models import WEIGHTS_KEY

        digest = model_source(target, call="attach", argument="model").digest
        versions = current().registry().versions(declared.model)
        return any(
            item.metadata.get(WEIGHTS_KEY) == digest and item.version in declared.roles
            for item in versions
        )
    return False


def _check_version(version: str, *, call: str, argument: str) -> None:
    from pydantic_core import PydanticCustomError

    try:
        check_version_id(version, argument)
    except PydanticCustomError as error:
        raise ProductionError(f"{call}: {error.message()}") from None
