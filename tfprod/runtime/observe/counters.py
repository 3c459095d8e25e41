"""Gateway samples turned into the controller's counters: one place for both sources.

Both sources hand over one replica's samples at a time, with the gateway's label names: the
direct source the lines of the replica's `/metrics`, the Prometheus source its query results
(summed by instance and the labels read here). Metric names and labels are the gateway's
(`tfprod/runtime/gateway/metrics.py`): series of the deployment carry `model="<policy.name>"`
and `variant="<version id>"`. A fallback answering for a variant that also takes traffic is
named `<version>-fallback` by the gateway; those answers were made for another version and
count for none here, so the stable version's counts are its own traffic only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable

from tfprod.runtime.controller.observation import FeedbackCounters, Histogram, VersionCounters
from tfprod.runtime.observe.exposition import Sample

REQUESTS = "tfprod_gateway_requests_total"
"""Attempts by model, variant, code and, for failed ones, `outcome`."""
DURATION_BUCKETS = "tfprod_gateway_request_duration_seconds_bucket"
FEEDBACK_EVENTS = "tfprod_gateway_feedback_events_total"
FEEDBACK_VALUES = "tfprod_gateway_feedback_value_total"
FEEDBACK_SQUARES = "tfprod_gateway_feedback_value_squares_total"
STATUS_GENERATION = "tfprod_gateway_status_generation"
"""Gauge by `deployment`: the status document generation the replica serves."""
FAILED_OUTCOMES = frozenset({"fell_back", "failed"})
"""`outcome` values of failed attempts; answered attempts carry no outcome label."""
FEEDBACK_METRICS = {FEEDBACK_EVENTS: "count", FEEDBACK_VALUES: "total", FEEDBACK_SQUARES: "squares"}


def version_counters(
    samples: Iterable[Sample], *, deployment: str, versions: Collection[str]
) -> dict[str, VersionCounters]:
    """Each of `versions` with requests in `samples` of `deployment` -> its counters."""
    requests: dict[str, float] = defaultdict(float)
    errors: dict[str, float] = defaultdict(float)
    buckets: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    feedback: dict[str, dict[str, dict[str, float]]] = defaultdict(
        lambda: defaultdict(lambda: dict.fromkeys(FEEDBACK_METRICS.values(), 0.0))
    )
    for sample in samples:
        labels = sample.labels
        version = labels.get("variant", "")
        if labels.get("model") != deployment or version not in versions:
            continue
        if sample.name == REQUESTS:
            requests[version] += sample.value
            if labels.get("outcome", "") in FAILED_OUTCOMES:
                errors[version] += sample.value
        elif sample.name == DURATION_BUCKETS:
            buckets[version][float(labels["le"])] += sample.value
        elif sample.name in FEEDBACK_METRICS:
            event = feedback[version][labels.get("event", "")]
            event[FEEDBACK_METRICS[sample.name]] += sample.value
    return {
        version: VersionCounters(
            requests=requests[version],
            errors=errors[version],
            latency=_histogram(buckets[version]),
            feedback={
                event: FeedbackCounters(
                    count=value["count"], total=value["total"], sum_of_squares=value["squares"]
                )
                for event, value in sorted(feedback[version].items())
            },
        )
        for version in sorted(requests)
    }


def served_generation(samples: Iterable[Sample], *, deployment: str) -> int | None:
    """The status generation the replica reports serving for `deployment`, if it reports one."""
    for sample in samples:
        if sample.name == STATUS_GENERATION and sample.labels.get("deployment") == deployment:
            return int(sample.value)
    return None


def _histogram(counts: dict[float, float]) -> Histogram | None:
    """The cumulative histogram; None without buckets (a version whose attempts were all
    refused by an open circuit is counted but not timed) or without the +Inf bucket."""
    if float("inf") not in counts:
        return None
    bounds = sorted(counts)
    return Histogram(
        upper_bounds=tuple(bound for bound in bounds if bound != float("inf")),
        cumulative_counts=tuple(counts[bound] for bound in bounds),
    )
