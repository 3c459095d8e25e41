"""Tiny, cheap metrics rendered in the Prometheus text exposition format (version 0.0.4).

The gateway increments these on every request, so an increment is one dict lookup and an
add; label values are plain tuples. Rendering happens only when `/metrics` is scraped.

Requests are counted where they happen: `tfprod_gateway_requests_total{model, variant, code}`
counts every attempt on the variant that made it, with that variant's own status code, and an
`outcome` label marks the attempts that failed (a 5xx answer, or 503 for a connection error,
a timeout or an open circuit):

- no `outcome` label: the variant answered (2xx, or a 4xx that is the caller's fault);
- `outcome="fell_back"`: the variant failed and the request went on to the fallback, whose own
  attempt is counted under the fallback's variant name;
- `outcome="failed"`: the variant failed and the caller got that failure (no fallback, or the
  fallback itself failed).

So a crashing canary shows as the canary's 5xx (its error rate is what the alert rules and
the controller read), the fallback's answers as the fallback's, and the answers callers saw
are the series without `outcome="fell_back"`. The answered series carry no `outcome` label
because Prometheus treats an empty label value as no label: they are the same series they were
before failures were attributed. `tfprod_gateway_request_duration_seconds` observes each
attempt on the variant that made it, failed ones included; a request refused by an open
circuit made no attempt and is counted but not timed.

Feedback (see the feedback module) counts events, the sum of their values and, for valued
events (revenue), the sum of the squared values, so the controller can estimate a variance;
events that do not count are counted by reason.

Non-finite numbers never reach a sum: a histogram does not observe NaN or an infinity
(`observe` says so and the caller counts it instead), so prediction rows holding NaN or +-Inf
(the model server writes bare `NaN`) are counted by `tfprod_gateway_prediction_nonfinite_total`
and every scrape stays parseable.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterator, Sequence

LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
CONFIDENCE_BUCKETS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
DIFFERENCE_BUCKETS = (0.001, 0.01, 0.05, 0.1, 0.2, 0.5, 1.0)
SIGNED_SECONDS_BUCKETS = (-1.0, -0.1, -0.01, -0.001, 0.0, 0.001, 0.01, 0.1, 1.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    """`{name="value",...}`; a label whose value is empty is left out (the same series)."""
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True) if v]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _number(value: float) -> str:
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
    return repr(float(value)) if value != int(value) else str(int(value))


class _Metric:
    kind = ""

    def __init__(self, name: str, help_text: str, labels: Sequence[str]) -> None:
        self.name = name
        self.help = help_text
        self.label_names = tuple(labels)

    def samples(self) -> Iterator[str]:
        raise NotImplementedError

    def render(self) -> Iterator[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} {self.kind}"
        yield from self.samples()


class Counter(_Metric):
    """A monotonically increasing count per label tuple; the name ends in `_total`."""

    kind = "counter"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, labels)
        self.values: dict[tuple[str, ...], float] = {}

    def inc(self, labels: tuple[str, ...] = (), amount: float = 1.0) -> None:
        values = self.values
        values[labels] = values.get(labels, 0.0) + amount

    def samples(self) -> Iterator[str]:
        for key, value in sorted(self.values.items()):
            yield f"{self.name}{_labels(self.label_names, key)} {_number(value)}"


class Gauge(Counter):
    """A value that goes up and down, per label tuple."""

    kind = "gauge"

    def set(self, labels: tuple[str, ...], value: float) -> None:
        self.values[labels] = value


class Histogram(_Metric):
    """Bucketed observations per label tuple; buckets are rendered cumulatively."""

    kind = "histogram"

    def __init__(
        self, name: str, help_text: str, labels: Sequence[str], buckets: Sequence[float]
    ) -> None:
        super().__init__(name, help_text, labels)
        self.buckets = tuple(buckets)
        # Per label tuple: [count per bucket..., count above the last bucket, sum].
        self.series: dict[tuple[str, ...], list[float]] = {}

    def observe(self, labels: tuple[str, ...], value: float) -> bool:
        """Counts `value` in its bucket and the sum; returns False, observing nothing, for NaN
        or an infinity, which would turn the sum into NaN or Inf for good."""
        if not math.isfinite(value):
            return False
        series = self.series.get(labels)
        if series is None:
            series = self.series[labels] = [0.0] * (len(self.buckets) + 2)
        series[bisect_left(self.buckets, value)] += 1
        series[-1] += value
        return True

    def samples(self) -> Iterator[str]:
        for key, series in sorted(self.series.items()):
            running = 0.0
            for bound, count in zip((*self.buckets, float("inf")), series[:-1], strict=True):
                running += count
                le = f'le="{_number(bound)}"'
                yield f"{self.name}_bucket{_labels(self.label_names, key, le)} {_number(running)}"
            yield f"{self.name}_sum{_labels(self.label_names, key)} {_number(series[-1])}"
            yield f"{self.name}_count{_labels(self.label_names, key)} {_number(running)}"


class GatewayMetrics:
    """Every metric the gateway exports, named by Prometheus conventions."""

    def __init__(self) -> None:
        self.requests = Counter(
            "tfprod_gateway_requests_total",
            "Attempts by model, the variant that made them, its HTTP status code and, for a"
            " failed attempt, outcome fell_back (the fallback took over) or failed.",
            ("model", "variant", "code", "outcome"),
        )
        self.duration = Histogram(
            "tfprod_gateway_request_duration_seconds",
            "Time from sending an attempt to a variant to having its answer or failure.",
            ("model", "variant"),
            LATENCY_BUCKETS,
        )
        self.confidence = Histogram(
            "tfprod_gateway_prediction_confidence",
            "Top-class probability of predictions (the route's confidence_rate share).",
            ("model", "variant"),
            CONFIDENCE_BUCKETS,
        )
        self.prediction_nonfinite = Counter(
            "tfprod_gateway_prediction_nonfinite_total",
            "Prediction rows holding NaN or an infinity, among those parsed for confidence.",
            ("model", "variant"),
        )
        self.weights = Gauge(
            "tfprod_gateway_traffic_weight",
            "Current share of a model's traffic routed to each variant (0 to 1).",
            ("model", "variant"),
        )
        self.feedback = Counter(
            "tfprod_gateway_feedback_events_total",
            "Business outcome events joined to a variant, by event name.",
            ("model", "variant", "event"),
        )
        self.feedback_value = Counter(
            "tfprod_gateway_feedback_value_total",
            "Sum of the values of feedback events (for example revenue).",
            ("model", "variant", "event"),
        )
        self.feedback_squares = Counter(
            "tfprod_gateway_feedback_value_squares_total",
            "Sum of the squared values of valued feedback events (revenue), for variances.",
            ("model", "variant", "event"),
        )
        self.feedback_unmatched = Counter(
            "tfprod_gateway_feedback_unmatched_total",
            "Feedback naming a caller's own request id that is unknown or has left the join"
            " window.",
        )
        self.feedback_refused = Counter(
            "tfprod_gateway_feedback_refused_total",
            "Feedback events not counted, by reason: invalid, unsigned, forged, expired,"
            " duplicate.",
            ("reason",),
        )
        self.feedback_relayed = Counter(
            "tfprod_gateway_feedback_relayed_total",
            "Feedback for ids another replica issued, by outcome: relayed (the owner answered),"
            " unreachable (counted here instead).",
            ("outcome",),
        )
        self.shadow = Counter(
            "tfprod_gateway_shadow_requests_total",
            "Mirrored requests by outcome: agree, disagree, error, timeout, dropped.",
            ("model", "shadow", "outcome"),
        )
        self.shadow_difference = Histogram(
            "tfprod_gateway_shadow_abs_difference",
            "Largest absolute difference between shadow and primary predictions.",
            ("model", "shadow"),
            DIFFERENCE_BUCKETS,
        )
        self.shadow_latency = Histogram(
            "tfprod_gateway_shadow_latency_difference_seconds",
            "Shadow latency minus primary latency for the same request.",
            ("model", "shadow"),
            SIGNED_SECONDS_BUCKETS,
        )
        self.captured = Counter(
            "tfprod_gateway_capture_records_total",
            "Request/response pairs sampled into the capture queue.",
            ("model",),
        )
        self.capture_dropped = Counter(
            "tfprod_gateway_capture_dropped_total",
            "Sampled records dropped because the capture queue was full.",
            ("model",),
        )
        self.capture_expired = Counter(
            "tfprod_gateway_capture_expired_total",
            "Captured records discarded unread because their retention ran out.",
            ("model",),
        )
        self.capture_unredactable = Counter(
            "tfprod_gateway_capture_unredactable_total",
            "Sampled exchanges not kept because a body to redact was not JSON.",
            ("model",),
        )
        self.breaker_open = Gauge(
            "tfprod_gateway_breaker_open",
            "1 while an upstream's circuit breaker is open (or half-open), else 0.",
            ("upstream",),
        )
        self.status_generation = Gauge(
            "tfprod_gateway_status_generation",
            "Generation of the deployment's status document being served (0: declared weights).",
            ("deployment",),
        )
        self.fallbacks = Counter(
            "tfprod_gateway_fallback_requests_total",
            "Requests sent to the fallback because the chosen upstream failed or was open.",
            ("model", "variant"),
        )

    def all(self) -> tuple[_Metric, ...]:
        return tuple(m for m in vars(self).values() if isinstance(m, _Metric))

    def render(self) -> str:
        return "\n".join(line for metric in self.all() for line in metric.render()) + "\n"
