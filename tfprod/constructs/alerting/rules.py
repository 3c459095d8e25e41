"""Prometheus recording and alerting rules for one deployment, built from its Policy (pure).

The gateway exports its metrics by `model` (the route's model name, which is the deployment's
name) and `variant` (the version id); Prometheus adds `namespace` when it scrapes through the
ServiceMonitor. Recording rules rename these to the Policy's words, so every recorded series
carries `namespace`, `deployment` and `version` labels:

- `tfprod:requests:rate5m`, `tfprod:errors:rate5m` (HTTP 5xx) and
  `tfprod:error_rate:ratio_rate5m` (0 when there are requests and no errors). They count the
  version's own attempts, as the gateway does: a request that failed on a version and was
  answered by the fallback is a 5xx of that version (`outcome="fell_back"`, which the `code`
  matcher includes) and a request of the fallback, so a crashing canary's error rate fires its
  trigger instead of the canary looking idle;
- `tfprod:latency_p95:seconds5m` (and p50/p90/p99 when a condition or monitor names them);
- `tfprod:prediction_confidence:mean5m`, `tfprod:traffic_weight:ratio`;
- `tfprod:shadow_agreement:ratio_rate5m` with a shadow test,
  `tfprod:capture_dropped:rate5m` with a debugger,
  `tfprod:drift_score:max` (by feature: the controller's `tfprod_drift_score`) with drift;
- `tfprod:nonfinite_predictions:rate5m` (prediction rows holding NaN or an infinity) when
  monitored;
- business metrics from the gateway's feedback counters, per answered request (attempts that
  did not fail, as the controller counts them) and 0 for a version without events:
  `tfprod:<click_rate|click_through_rate|ctr|conversion_rate>:ratio_rate5m` (events of
  `click` or `conversion`) and `tfprod:revenue_per_request:mean5m` (the sum of `revenue`
  values), when a monitor or a condition names them.

Alerts mirror what the controller acts on, so a person sees what it saw: one per SafetyNet
trigger and per canary success criterion (firing when the criterion fails), drift above the
threshold, a version with traffic weight but no requests, and the gateway's metrics missing.
`for:` is the controller's `failure_threshold * check_interval_seconds` (the time it waits before
acting), and a condition only counts with at least `min_samples` requests in the window, as for
the controller. A condition on one of the business metrics above alerts on its recorded series;
conditions on other custom metrics have no Prometheus series and are left to the controller. A
monitor metric (the proposal's `prediction_latency` is `latency_p95`, `feature_drift` is
`drift_score`) makes sure its series is recorded; it alerts where a trigger or criterion gives it
a threshold, since the Policy holds no other threshold, except `nonfinite_predictions`, which
alerts on any non-finite prediction row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from tfprod.policy import Action, Condition, Policy
from tfprod.policy.observe import FEEDBACK_MEANS, FEEDBACK_RATES

WINDOW: Final = "5m"
WINDOW_SECONDS: Final = 300
RUNBOOK: Final = (
    "The controller acts on its own ({action}); its live weights and rollout state are in"
    " `kubectl -n {namespace} get configmap {deployment}-status -o yaml`. Compare versions on"
    " the tfprod:* series of deployment {deployment}."
)

_SEVERITY: dict[Action, str] = {
    "immediate_rollback": "critical",
    "gradual_rollback": "critical",
    "pause": "warning",
    "alert_and_monitor": "warning",
}
_NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
_QUANTILES = {"latency_p50": 0.5, "latency_p90": 0.9, "latency_p95": 0.95, "latency_p99": 0.99}
# Policy metric -> recorded series that measures it (per version unless noted).
_RECORDED = {
    "error_rate": "tfprod:error_rate:ratio_rate5m",
    "prediction_confidence": "tfprod:prediction_confidence:mean5m",
    "throughput": "tfprod:requests:rate5m",
    "requests_per_second": "tfprod:requests:rate5m",
    **{name: f"tfprod:{name}:seconds5m" for name in _QUANTILES},
    **{name: f"tfprod:{name}:ratio_rate5m" for name in FEEDBACK_RATES},
    **{name: f"tfprod:{name}:mean5m" for name in FEEDBACK_MEANS},
}
# The proposal's monitor metric names, as the conditions spell them.
_MONITOR_ALIASES = {"prediction_latency": "latency_p95", "feature_drift": "drift_score"}
_BY = "namespace, deployment, version"


def prometheus_rule_groups(policy: Policy) -> list[dict[str, Any]]:
    """Two rule groups for `policy`: `tfprod-<name>.records` then `tfprod-<name>.alerts`."""
    return [
        {
            "name": f"tfprod-{policy.name}.records",
            "rules": list(_records(policy, metrics_named(policy))),
        },
        {"name": f"tfprod-{policy.name}.alerts", "rules": list(_alerts(policy))},
    ]


def duration(seconds: float) -> str:
    """A Prometheus duration for `seconds`: whole seconds as "30s", else milliseconds."""
    if seconds == int(seconds):
        return f"{int(seconds)}s"
    return f"{round(seconds * 1000)}ms"


def watches_drift(policy: Policy) -> bool:
    """Whether the rules read the controller's drift score: a detector, trigger or monitor."""
    return policy.drift is not None or "drift_score" in metrics_named(policy)


def metrics_named(policy: Policy) -> set[str]:
    """The metrics `policy`'s conditions and monitor name, monitor aliases resolved."""
    named = {check.condition.metric for check in _checks(policy)}
    if policy.monitor is not None:
        named |= {_MONITOR_ALIASES.get(name, name) for name in policy.monitor.metrics}
    return named


def _gateway(policy: Policy, metric: str, extra: str = "") -> str:
    selector = f'namespace="{policy.namespace}", model="{policy.name}"{extra}'
    return f"{metric}{{{selector}}}"


def _by_version(expression: str, label: str = "variant") -> str:
    return f'label_replace({expression}, "version", "$1", "{label}", "(.*)")'


def _record(policy: Policy, name: str, expression: str) -> dict[str, Any]:
    """A recording rule; its series carry the policy's namespace and deployment as labels."""
    labels = {"namespace": policy.namespace, "deployment": policy.name}
    return {"record": name, "expr": expression, "labels": labels}


def _mine(policy: Policy, series: str) -> str:
    return f'{series}{{namespace="{policy.namespace}", deployment="{policy.name}"}}'


def _records(policy: Policy, named: set[str]) -> Iterator[dict[str, Any]]:
    requests = _gateway(policy, "tfprod_gateway_requests_total")
    errors = _gateway(policy, "tfprod_gateway_requests_total", ', code=~"5.."')
    yield _record(
        policy,
        "tfprod:requests:rate5m",
        f"sum by (version) ({_by_version(f'rate({requests}[{WINDOW}])')})",
    )
    yield _record(
        policy,
        "tfprod:errors:rate5m",
        f"sum by (version) ({_by_version(f'rate({errors}[{WINDOW}])')})",
    )
    rate = _mine(policy, "tfprod:requests:rate5m")
    yield _record(
        policy,
        "tfprod:error_rate:ratio_rate5m",
        f"({_mine(policy, 'tfprod:errors:rate5m')} or {rate} * 0) / {rate}",
    )
    buckets = _gateway(policy, "tfprod_gateway_request_duration_seconds_bucket")
    for metric, quantile in _QUANTILES.items():
        if metric == "latency_p95" or metric in named:
            per_bucket = _by_version(f"rate({buckets}[{WINDOW}])")
            yield _record(
                policy,
                f"tfprod:{metric}:seconds5m",
                f"histogram_quantile({quantile:g}, sum by (version, le) ({per_bucket}))",
            )
    confidence_sum, confidence_count = (
        _by_version(f"rate({_gateway(policy, name)}[{WINDOW}])")
        for name in (
            "tfprod_gateway_prediction_confidence_sum",
            "tfprod_gateway_prediction_confidence_count",
        )
    )
    yield _record(
        policy,
        "tfprod:prediction_confidence:mean5m",
        f"sum by (version) ({confidence_sum}) / sum by (version) ({confidence_count})",
    )
    weight = _by_version(_gateway(policy, "tfprod_gateway_traffic_weight"))
    yield _record(policy, "tfprod:traffic_weight:ratio", f"max by (version) ({weight})")
    if "nonfinite_predictions" in named:
        nonfinite = _gateway(policy, "tfprod_gateway_prediction_nonfinite_total")
        yield _record(
            policy,
            "tfprod:nonfinite_predictions:rate5m",
            f"sum by (version) ({_by_version(f'rate({nonfinite}[{WINDOW}])')})",
        )
    yield from _business_records(policy, named)
    if policy.shadow is not None:
        yield from _shadow_records(policy)
    if policy.debugger is not None:
        dropped = _gateway(policy, "tfprod_gateway_capture_dropped_total")
        yield _record(policy, "tfprod:capture_dropped:rate5m", f"sum(rate({dropped}[{WINDOW}]))")
    if watches_drift(policy):
        score = _mine(policy, "tfprod_drift_score")
        yield _record(policy, "tfprod:drift_score:max", f"max by (feature) ({score})")


def _business_records(policy: Policy, named: set[str]) -> Iterator[dict[str, Any]]:
    """Feedback events per answered request (attempts that did not fail), as the controller
    reads them; 0, not absent, for a version that answered and got no event."""
    answered = _gateway(policy, "tfprod_gateway_requests_total", ', code!~"5.."')
    per_answer = f"sum by (version) ({_by_version(f'rate({answered}[{WINDOW}])')})"
    for metric, (counter, event) in _business_metrics(named).items():
        events = _gateway(policy, counter, f', event="{event}"')
        per_version = f"sum by (version) ({_by_version(f'rate({events}[{WINDOW}])')})"
        yield _record(
            policy,
            _RECORDED[metric],
            f"({per_version} or {per_answer} * 0) / {per_answer}",
        )


def _business_metrics(named: set[str]) -> dict[str, tuple[str, str]]:
    """Business metric -> (gateway counter, feedback event), for those `named`."""
    counters = {
        **{m: ("tfprod_gateway_feedback_events_total", e) for m, e in FEEDBACK_RATES.items()},
        **{m: ("tfprod_gateway_feedback_value_total", e) for m, e in FEEDBACK_MEANS.items()},
    }
    return {metric: counters[metric] for metric in sorted(named) if metric in counters}


def _shadow_records(policy: Policy) -> Iterator[dict[str, Any]]:
    outcomes = {
        outcome: _by_version(
            f"rate({_gateway(policy, 'tfprod_gateway_shadow_requests_total', extra)}[{WINDOW}])",
            "shadow",
        )
        for outcome, extra in (
            ("agree", ', outcome="agree"'),
            ("compared", ', outcome=~"agree|disagree"'),
        )
    }
    yield _record(
        policy,
        "tfprod:shadow_agreement:ratio_rate5m",
        f"sum by (version) ({outcomes['agree']}) / sum by (version) ({outcomes['compared']})",
    )


def _camel(metric: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in metric.split("_"))


def _enough_samples(policy: Policy) -> str:
    needed = policy.controller.min_samples
    return (
        f"and on ({_BY}) ({_mine(policy, 'tfprod:requests:rate5m')} * {WINDOW_SECONDS} >= {needed})"
    )


def _wait(policy: Policy) -> str:
    settings = policy.controller
    return duration(settings.failure_threshold * settings.check_interval_seconds)


def _alert(
    name: str,
    expression: str,
    wait: str,
    labels: dict[str, str],
    notes: tuple[str, str, str],
) -> dict[str, Any]:
    """An alerting rule; `notes` are its summary, description and runbook annotations."""
    summary, description, runbook = notes
    return {
        "alert": name,
        "expr": expression,
        "for": wait,
        "labels": labels,
        "annotations": {"summary": summary, "description": description, "runbook": runbook},
    }


@dataclass(frozen=True, kw_only=True)
class _Check:
    """A condition the controller checks, as an alert: where it comes from and what it does."""

    condition: Condition
    """The condition that fires the alert (a criterion's negation for a canary criterion)."""
    source: str
    """The label naming what was written: "trigger" or "criterion"."""
    written: str
    """The condition as the user wrote it (for a criterion: the criterion itself)."""
    action: str
    severity: str
    version_matcher: str = ""


def _condition_alert(policy: Policy, check: _Check) -> dict[str, Any] | None:
    condition = check.condition
    series = _RECORDED.get(condition.metric)
    if series is None:
        return None
    if condition.op in ("<", "<="):
        direction = "Low"
    elif condition.op in (">", ">="):
        direction = "High"
    else:
        direction = "Off"
    selector = f'namespace="{policy.namespace}", deployment="{policy.name}"{check.version_matcher}'
    expression = (
        f"{series}{{{selector}}} {condition.op} {condition.threshold:g} {_enough_samples(policy)}"
    )
    prefix = "TfprodCanary" if check.source == "criterion" else "Tfprod"
    labels = {"severity": check.severity, "deployment": policy.name, check.source: check.written}
    if check.source == "trigger":
        labels["action"] = check.action
    return _alert(
        f"{prefix}{_camel(condition.metric)}{direction}",
        expression,
        _wait(policy),
        labels,
        (
            f"{policy.name} {{{{ $labels.version }}}}: {condition}",
            f"{condition.metric} of {policy.name} version {{{{ $labels.version }}}} is"
            f" {{{{ $value }}}} ({check.source}: {check.written}).",
            RUNBOOK.format(namespace=policy.namespace, deployment=policy.name, action=check.action),
        ),
    )


def _checks(policy: Policy) -> Iterator[_Check]:
    if policy.safety is not None:
        for trigger in policy.safety.triggers:
            yield _Check(
                condition=trigger.condition,
                source="trigger",
                written=str(trigger.condition),
                action=trigger.action,
                severity=_SEVERITY[trigger.action],
            )
    if policy.canary is not None:
        for criterion in policy.canary.success_criteria:
            yield _Check(
                condition=criterion.model_copy(update={"op": _NEGATED[criterion.op]}),
                source="criterion",
                written=str(criterion),
                action="a failing criterion rolls the canary back",
                severity="warning",
                version_matcher=f', version="{policy.canary.version}"',
            )


def _alerts(policy: Policy) -> Iterator[dict[str, Any]]:
    for check in _checks(policy):
        rule = _condition_alert(policy, check)
        if rule is not None:
            yield rule
    yield from _drift_alerts(policy)
    yield from _no_data_alerts(policy)
    if "nonfinite_predictions" in metrics_named(policy):
        yield _alert(
            "TfprodNonFinitePredictions",
            f"{_mine(policy, 'tfprod:nonfinite_predictions:rate5m')} > 0",
            _wait(policy),
            {"severity": "warning", "deployment": policy.name},
            (
                f"{policy.name} {{{{ $labels.version }}}}: predictions hold NaN or infinities",
                f"Version {{{{ $labels.version }}}} of {policy.name} answers"
                " {{ $value }} prediction rows per second holding NaN or an infinity.",
                RUNBOOK.format(
                    namespace=policy.namespace,
                    deployment=policy.name,
                    action="non-finite predictions are not acted on",
                ),
            ),
        )
    if policy.debugger is not None:
        yield _alert(
            "TfprodCaptureDropping",
            f"{_mine(policy, 'tfprod:capture_dropped:rate5m')} > 0",
            "10m",
            {"severity": "warning", "deployment": policy.name},
            (
                f"{policy.name}: captured requests are being dropped",
                f"The gateway's capture queue for {policy.name} is full and drops"
                " {{ $value }} records per second; explanations miss them.",
                "Raise the gateway's capture_queue_size or lower the debugger's capture_rate.",
            ),
        )


def _drift_scores(policy: Policy) -> Iterator[tuple[float, str, str]]:
    """(threshold, severity, what) for each drift check: the detector's and drift triggers'."""
    if policy.drift is not None:
        yield policy.drift.threshold, "warning", "drift detector threshold"
    if policy.safety is not None:
        for trigger in policy.safety.triggers:
            if trigger.condition.metric == "drift_score" and trigger.condition.op in (">", ">="):
                yield trigger.condition.threshold, _SEVERITY[trigger.action], trigger.action


def _drift_alerts(policy: Policy) -> Iterator[dict[str, Any]]:
    for threshold, severity, what in _drift_scores(policy):
        yield _alert(
            "TfprodDriftScoreHigh",
            f"{_mine(policy, 'tfprod:drift_score:max')} > {threshold:g}",
            _wait(policy),
            {"severity": severity, "deployment": policy.name, "threshold": f"{threshold:g}"},
            (
                f"{policy.name}: input drift on {{{{ $labels.feature }}}}",
                f"Drift score of feature {{{{ $labels.feature }}}} is {{{{ $value }}}}, above"
                f" {threshold:g} ({what}).",
                RUNBOOK.format(namespace=policy.namespace, deployment=policy.name, action=what),
            ),
        )


def _no_data_alerts(policy: Policy) -> Iterator[dict[str, Any]]:
    weight = _mine(policy, "tfprod:traffic_weight:ratio")
    rate = _mine(policy, "tfprod:requests:rate5m")
    bound = duration(policy.controller.no_data_bound_seconds)
    yield _alert(
        "TfprodNoTraffic",
        f"{weight} > 0 unless on ({_BY}) {rate} > 0",
        bound,
        {"severity": "critical", "deployment": policy.name},
        (
            f"{policy.name} {{{{ $labels.version }}}}: weight above 0 but no requests",
            f"Version {{{{ $labels.version }}}} of {policy.name} is routed a share of traffic yet"
            f" answered no request for {bound}; the controller treats this as no data and rolls"
            " a rollout back.",
            RUNBOOK.format(
                namespace=policy.namespace,
                deployment=policy.name,
                action="no data holds, then rolls back",
            ),
        ),
    )
    weights = _gateway(policy, "tfprod_gateway_traffic_weight")
    yield _alert(
        "TfprodGatewayMetricsAbsent",
        f"absent_over_time({weights}[{WINDOW}])",
        bound,
        {"severity": "critical", "deployment": policy.name},
        (
            f"{policy.name}: no gateway metrics",
            f"Prometheus has scraped no gateway metrics for {policy.name} in {WINDOW}: the gateway"
            " is down or not scraped, and the controller sees no data.",
            "Check the gateway pods and the ServiceMonitor's target in Prometheus.",
        ),
    )
