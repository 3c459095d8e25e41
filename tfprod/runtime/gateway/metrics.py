"""Tiny, cheap metrics rendered in the Prometheus text exposition format (version 0.0.4).

The gateway increments these on every request, so an increment is one dict lookup and an
add; label values are plain tuples. Rendering happens only when `/metrics` is scraped.
"""

from __future__ import annotations

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
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
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

    def observe(self, labels: tuple[str, ...], value: float) -> None:
        series = self.series.get(labels)
        if series is None:
            series = self.series[labels] = [0.0] * (len(self.buckets) + 2)
        series[bisect_left(self.buckets, value)] += 1
        series[-1] += value

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
            "Requests answered, by model, variant that answered and HTTP status code.",
            ("model", "variant", "code"),
        )
        self.duration = Histogram(
            "tfprod_gateway_request_duration_seconds",
            "Time from routing a request to having the upstream's answer.",
            ("model", "variant"),
            LATENCY_BUCKETS,
        )
        self.confidence = Histogram(
            "tfprod_gateway_prediction_confidence",
            "Top-class probability of predictions (the route's confidence_rate share).",
            ("model", "variant"),
            CONFIDENCE_BUCKETS,
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
        self.feedback_unmatched = Counter(
            "tfprod_gateway_feedback_unmatched_total",
            "Feedback events whose request id is unknown or has left the join window.",
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
