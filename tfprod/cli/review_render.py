"""The Markdown of `tfprod review`: one page per synthesized stack, for a pull request.

Pure: it takes a stack's synthesized document and the policies written next to it, recomputes
the governance findings, and renders. Everything is sorted or kept in declaration order, so two
reviews of the same output are byte-identical and two versions of a stack diff cleanly. Alert
routes show receiver kinds and channel names only: secrets stay references and are never read.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tfprod.governance import Audit, audit_stack
from tfprod.governance.view import (
    AUTOSCALER_TYPES,
    DEPLOYMENT_TYPES,
    Resource,
    StackView,
    autoscaler_of,
    blocks,
    first_block,
    stack_view,
    walk,
)
from tfprod.policy import (
    CONFIG_MAP_TYPES,
    CanaryRamp,
    Policy,
    configmap_name,
    rollback_timing,
    status_configmap_name,
)
from tfprod.policy.names import DEPLOYMENT_LABEL

VERSION_LABEL = "app.kubernetes.io/version"


@dataclass(frozen=True, kw_only=True)
class DeploymentReview:
    """One deployment of a stack: its construct path, policy and per-version images."""

    path: str
    policy: Policy
    images: Mapping[str, tuple[str, ...]]
    """Container images of each version's model-server Deployment, by version id."""


@dataclass(frozen=True, kw_only=True)
class Workload:
    """One Kubernetes Deployment of the stack, as Terraform declares it."""

    name: str
    path: str
    replicas: str
    """E.g. "2", "HPA 2-20"; says which fields Terraform leaves to the cluster."""
    images: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class StackReview:
    """What a stack's review page shows."""

    stack: str
    deployments: tuple[DeploymentReview, ...]
    workloads: tuple[Workload, ...]
    audit: Audit
    max_rollback_seconds: float


def review_stack(
    stack: str, document: Mapping[str, Any], policies: Sequence[Policy]
) -> StackReview:
    """Match each policy to its deployment in `document` and run the governance rules."""
    view = stack_view(document, {})
    deployments = tuple(
        sorted(
            (
                DeploymentReview(
                    path=_deployment_path(view, policy),
                    policy=policy,
                    images=_images(view, policy),
                )
                for policy in policies
            ),
            key=lambda item: item.path,
        )
    )
    by_path = {item.path: item.policy for item in deployments}
    return StackReview(
        stack=stack,
        deployments=deployments,
        workloads=tuple(_workloads(view)),
        audit=audit_stack(document, by_path),
        max_rollback_seconds=view.max_rollback_seconds,
    )


def _labels(resource: Resource) -> Mapping[str, Any]:
    for metadata in blocks(resource.body.get("metadata")):
        found = metadata.get("labels")
        if isinstance(found, Mapping):
            return found
    return {}


def _name(resource: Resource) -> Any:
    return next((m.get("name") for m in blocks(resource.body.get("metadata"))), None)


def _deployment_path(view: StackView, policy: Policy) -> str:
    """The construct path of the deployment: the longest common prefix of the paths of its
    policy ConfigMap and its model-server Deployments (all labelled with its name)."""
    paths = [
        resource.path.split("/")
        for resource in view.of_type(*CONFIG_MAP_TYPES, *DEPLOYMENT_TYPES)
        if _labels(resource).get(DEPLOYMENT_LABEL) == policy.name
        or (resource.type in CONFIG_MAP_TYPES and _name(resource) == configmap_name(policy.name))
    ]
    if not paths:
        return f"{view.name}/{policy.name}"
    if len(paths) == 1:
        return "/".join(paths[0][:-1])
    shared = itertools.takewhile(lambda parts: len(set(parts)) == 1, zip(*paths, strict=False))
    return "/".join(parts[0] for parts in shared)


def _image_set(resource: Resource) -> tuple[str, ...]:
    return tuple(sorted({str(value) for _, key, value in walk(resource.body) if key == "image"}))


def _workloads(view: StackView) -> Iterator[Workload]:
    autoscalers = list(view.of_type(*AUTOSCALER_TYPES))
    for resource in sorted(view.of_type(*DEPLOYMENT_TYPES), key=lambda item: item.path):
        scaler = autoscaler_of(resource, autoscalers)
        if scaler is not None:
            spec = first_block(scaler.body, "spec")
            replicas = f"HPA {spec.get('min_replicas', 1)}-{spec.get('max_replicas', '?')}"
        else:
            replicas = str(first_block(resource.body, "spec").get("replicas", "1 (default)"))
        ignored = first_block(resource.body, "lifecycle").get("ignore_changes")
        if ignored:
            shown = ignored if isinstance(ignored, str) else ", ".join(map(str, ignored))
            replicas += f"; Terraform ignores {shown}"
        yield Workload(
            name=str(_name(resource) or resource.name),
            path=resource.path,
            replicas=replicas,
            images=_image_set(resource),
        )


def _images(view: StackView, policy: Policy) -> dict[str, tuple[str, ...]]:
    result: dict[str, tuple[str, ...]] = {}
    for resource in view.of_type(*DEPLOYMENT_TYPES):
        labels = _labels(resource)
        if labels.get(DEPLOYMENT_LABEL) != policy.name or VERSION_LABEL not in labels:
            continue
        images = sorted({value for _, key, value in walk(resource.body) if key == "image"}, key=str)
        result[str(labels[VERSION_LABEL])] = tuple(str(image) for image in images)
    return result


# Rendering


def clock(seconds: float) -> str:
    """Time from the start of a rollout: `T+MM:SS`, or `T+H:MM:SS` from an hour on."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"T+{hours}:{minutes:02d}:{secs:02d}" if hours else f"T+{minutes:02d}:{secs:02d}"


def duration(seconds: float) -> str:
    """A duration for people: `14d`, `1h`, `1m 30s`, `0.5s`."""
    if seconds < 1 or seconds != int(seconds):
        return f"{seconds:g}s"
    parts = []
    rest = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts)


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines.extend("| " + " | ".join(_cell(value) for value in row) + " |" for row in rows)
    return [*lines, ""]


def _versions(item: DeploymentReview) -> list[str]:
    policy = item.policy
    rows = [
        (
            f"`{version.id}`",
            version.role,
            f"{policy.traffic.weights.get(version.id, 0):g}%",
            f"`{version.artifact}`",
            ", ".join(f"`{image}`" for image in item.images.get(version.id, ())) or "-",
        )
        for version in policy.versions
    ]
    return [
        "#### Versions",
        "",
        *_table(("Version", "Role", "Traffic", "Artifact", "Images"), rows),
    ]


def _traffic(policy: Policy) -> Iterator[str]:
    yield "#### Traffic plan"
    yield ""
    split = ", ".join(f"`{key}` {value:g}%" for key, value in policy.traffic.weights.items())
    yield f"- Declared split: {split} (the controller owns live weights from here on)"
    sticky = policy.traffic.sticky
    yield f"- Sticky key: {f'{sticky.source} `{sticky.name}`' if sticky else 'none'}"
    if policy.shadow is not None:
        shadow = policy.shadow
        until = duration(shadow.duration_seconds) if shadow.duration_seconds else "until removed"
        compare = "compared with stable" if shadow.compare_outputs else "not compared"
        yield (
            f"- Shadow `{shadow.version}`: {shadow.mirror_percent:g}% of requests mirrored,"
            f" outputs {compare}, for {until}"
        )
    if policy.ab_test is not None:
        test = policy.ab_test
        metrics = ", ".join(f"{metric.name} ({metric.direction})" for metric in test.metrics)
        yield (
            f"- A/B test: control `{test.control}` vs treatment `{test.treatment}` at"
            f" {test.treatment_percent:g}%; metrics: {metrics}; at least {test.min_sample_size}"
            f" samples per variant, significance {test.significance_level:g}, {test.method},"
            f" at most {duration(test.duration_seconds)}"
        )
    yield ""
    if policy.canary is not None:
        yield from _ramp(policy.canary, policy.controller.check_interval_seconds)


def _ramp(canary: CanaryRamp, default_interval: float) -> Iterator[str]:
    yield f"#### Canary ramp of `{canary.version}`"
    yield ""
    rows: list[tuple[str, str, str]] = []
    start = 0.0
    for step in canary.steps:
        rows.append((clock(start), f"{step.percent:g}%", duration(step.hold_seconds)))
        start += step.hold_seconds
    rows.append((clock(start), "100% (promoted)", "-"))
    yield from _table(("Clock", "Canary share", "Held for"), rows)
    criteria = ", ".join(f"`{criterion}`" for criterion in canary.success_criteria)
    interval = canary.check_interval_seconds or default_interval
    checked = f" (checked every {duration(interval)})" if criteria else ""
    yield f"- Success criteria: {criteria or 'none'}{checked}"
    yield ""


def _safety(policy: Policy) -> Iterator[str]:
    yield "#### Triggers and actions"
    yield ""
    if policy.safety is None:
        yield "No SafetyNet: only missing data during a rollout rolls back."
        yield ""
        return
    yield f"- Fallback version: `{policy.safety.fallback_version}`"
    yield ""
    rows = [(f"`{trigger.condition}`", trigger.action) for trigger in policy.safety.triggers]
    yield from _table(("Condition", "Action"), rows)


def _rollback(policy: Policy, cap: float) -> Iterator[str]:
    timing = rollback_timing(policy)
    yield "#### Worst-case time to rollback"
    yield ""
    settings = policy.controller
    yield (
        f"- Controller: checks every {duration(settings.check_interval_seconds)} over a"
        f" {duration(settings.evaluation_window_seconds)} window, acts after"
        f" {settings.failure_threshold} failing checks; no-data bound"
        f" {duration(settings.no_data_bound_seconds)}; actuation bound"
        f" {duration(settings.actuation_bound_seconds)}"
    )
    worst = timing.worst
    if worst is None:
        yield "- Nothing in this policy rolls back."
        yield ""
        return
    yield f"- Worst case: **{worst.seconds:g} s** ({worst.cause}); cap {cap:g} s"
    yield ""
    yield from _table(
        ("Path", "Seconds"), [(path.cause, f"{path.seconds:g}") for path in timing.paths]
    )


def _alerts(policy: Policy) -> Iterator[str]:
    yield "#### Observability and alert routes"
    yield ""
    monitor = policy.monitor
    yield f"- Metrics: {', '.join(monitor.metrics) if monitor else 'gateway defaults'}"
    if policy.drift is not None:
        drift = policy.drift
        yield (
            f"- Drift: {drift.method} against `{drift.reference_uri}`, alert above"
            f" {drift.threshold:g} over {duration(drift.window_seconds)}"
        )
    if policy.debugger is not None:
        debugger = policy.debugger
        yield (
            f"- Debugger: captures {debugger.capture_rate * 100:g}% of requests, explains with"
            f" {', '.join(debugger.explainers)}"
        )
    routes = monitor.alerts if monitor is not None else None
    if routes is None:
        yield "- Alert routes: none"
        yield ""
        return
    yield ""
    rows: list[tuple[str, str]] = []
    if routes.slack_channel is not None:
        rows.append(("slack", routes.slack_channel))
    rows.extend(("email", address) for address in routes.emails)
    if routes.pagerduty_service is not None:
        rows.append(("pagerduty", routes.pagerduty_service))
    yield from _table(("Receiver", "Destination"), rows)


def _workload_rows(review: StackReview) -> Iterator[str]:
    yield "## Workloads"
    yield ""
    rows = [
        (
            f"`{item.name}`",
            f"`{item.path}`",
            item.replicas,
            ", ".join(f"`{image}`" for image in item.images),
        )
        for item in review.workloads
    ]
    yield from _table(("Deployment", "Construct", "Replicas", "Images"), rows)


def _findings(review: StackReview) -> Iterator[str]:
    audit = review.audit
    yield "## Governance findings"
    yield ""
    if not audit.findings:
        yield "None."
        yield ""
    else:
        found = [(f.level, f.rule, f"`{f.path}`", f.message) for f in audit.findings]
        yield from _table(("Level", "Rule", "Path", "Message"), found)
    if audit.suppressed:
        yield "Suppressed:"
        yield ""
        rows = [(f.rule, f"`{f.path}`", s.reason) for f, s in audit.suppressed]
        yield from _table(("Rule", "Path", "Reason"), rows)


def render_review(review: StackReview) -> str:
    """The Markdown page of one stack, ending with a newline."""
    errors = sum(1 for finding in review.audit.findings if finding.level == "error")
    warnings = len(review.audit.findings) - errors
    lines = [
        f"# Review of stack `{review.stack}`",
        "",
        f"{len(review.deployments)} deployment(s); governance: {errors} error(s),"
        f" {warnings} warning(s), {len(review.audit.suppressed)} suppressed.",
        "",
    ]
    for item in review.deployments:
        policy = item.policy
        lines += [
            f"## Deployment `{policy.name}`",
            "",
            f"- Construct: `{item.path}`",
            f"- Environment: {policy.environment}; namespace `{policy.namespace}`;"
            f" model `{policy.model}`",
            f"- Ownership: Terraform declares the policy (ConfigMap"
            f" `{configmap_name(policy.name)}`); the controller keeps live weights and rollout"
            f" state in `{status_configmap_name(policy.name)}`, outside Terraform, so an apply"
            " after a ramp changes and resets nothing",
            "",
            *_versions(item),
            *_traffic(policy),
            *_safety(policy),
            *_rollback(policy, review.max_rollback_seconds),
            *_alerts(policy),
        ]
    lines.extend(_workload_rows(review))
    lines.extend(_findings(review))
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"
