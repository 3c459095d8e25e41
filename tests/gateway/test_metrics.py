"""The metrics text is valid Prometheus exposition format and follows its conventions."""

from __future__ import annotations

import shutil
import subprocess
from math import inf, nan

from prometheus_client.parser import text_string_to_metric_families

from tests.services import skip_or_fail
from tfprod.runtime.gateway.metrics import Counter, GatewayMetrics, Gauge, Histogram


def test_histogram_buckets_are_cumulative_with_sum_and_count() -> None:
    histogram = Histogram("x_seconds", "help", ("model",), (0.1, 1.0))
    for value in (0.05, 0.1, 0.5, 3.0):
        histogram.observe(("clf",), value)
    assert list(histogram.render())[2:] == [
        'x_seconds_bucket{model="clf",le="0.1"} 2',
        'x_seconds_bucket{model="clf",le="1"} 3',
        'x_seconds_bucket{model="clf",le="+Inf"} 4',
        'x_seconds_sum{model="clf"} 3.65',
        'x_seconds_count{model="clf"} 4',
    ]


def test_label_values_are_escaped() -> None:
    counter = Counter("odd_total", "help", ("model",))
    counter.inc(('a"b\\c\nd',))
    (family,) = text_string_to_metric_families("\n".join(counter.render()) + "\n")
    assert [sample.labels for sample in family.samples] == [{"model": 'a"b\\c\nd'}]


def populated() -> GatewayMetrics:
    """Gateway metrics with one sample in every family."""
    metrics = GatewayMetrics()
    metrics.requests.inc(("clf", "stable", "200", ""))
    metrics.requests.inc(("clf", "canary", "503", "fell_back"))
    metrics.requests.inc(("clf", "canary", "500", "failed"))
    metrics.prediction_nonfinite.inc(("clf", "stable"))
    metrics.duration.observe(("clf", "stable"), 0.002)
    metrics.confidence.observe(("clf", "stable"), 0.9)
    metrics.weights.set(("clf", "stable"), 0.95)
    metrics.feedback.inc(("clf", "stable", "click"))
    metrics.feedback_value.inc(("clf", "stable", "revenue"), 12.5)
    metrics.feedback_squares.inc(("clf", "stable", "revenue"), 156.25)
    metrics.feedback_unmatched.inc()
    metrics.feedback_refused.inc(("forged",))
    metrics.feedback_relayed.inc(("relayed",))
    metrics.shadow.inc(("clf", "shadow", "agree"))
    metrics.shadow_difference.observe(("clf", "shadow"), 0.01)
    metrics.shadow_latency.observe(("clf", "shadow"), -0.0005)
    metrics.captured.inc(("clf",))
    metrics.capture_dropped.inc(("clf",))
    metrics.capture_expired.inc(("clf",))
    metrics.capture_unredactable.inc(("clf",))
    metrics.breaker_open.set(("clf/stable",), 0)
    metrics.fallbacks.inc(("clf", "stable"))
    return metrics


def test_every_gateway_metric_parses_with_its_declared_type() -> None:
    families = {f.name: f.type for f in text_string_to_metric_families(populated().render())}
    assert families == {
        "tfprod_gateway_requests": "counter",
        "tfprod_gateway_request_duration_seconds": "histogram",
        "tfprod_gateway_prediction_confidence": "histogram",
        "tfprod_gateway_prediction_nonfinite": "counter",
        "tfprod_gateway_traffic_weight": "gauge",
        "tfprod_gateway_feedback_events": "counter",
        "tfprod_gateway_feedback_value": "counter",
        "tfprod_gateway_feedback_value_squares": "counter",
        "tfprod_gateway_feedback_unmatched": "counter",
        "tfprod_gateway_feedback_refused": "counter",
        "tfprod_gateway_feedback_relayed": "counter",
        "tfprod_gateway_shadow_requests": "counter",
        "tfprod_gateway_shadow_abs_difference": "histogram",
        "tfprod_gateway_shadow_latency_difference_seconds": "histogram",
        "tfprod_gateway_capture_records": "counter",
        "tfprod_gateway_capture_dropped": "counter",
        "tfprod_gateway_capture_expired": "counter",
        "tfprod_gateway_capture_unredactable": "counter",
        "tfprod_gateway_breaker_open": "gauge",
        "tfprod_gateway_fallback_requests": "counter",
        "tfprod_gateway_status_generation": "gauge",
    }


def test_promtool_finds_no_naming_problem() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        skip_or_fail("promtool (Debian package prometheus) is not installed")
        return
    checked = subprocess.run(
        [promtool, "check", "metrics"],
        input=populated().render(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")


def test_a_histogram_observes_no_nan_or_infinity_so_its_sum_stays_finite() -> None:
    histogram = Histogram("x_seconds", "help", ("model",), (0.1, 1.0))
    observed = [histogram.observe(("clf",), value) for value in (0.5, nan, inf, -inf, 0.05)]
    assert observed == [True, False, False, False, True]
    assert list(histogram.render())[-2:] == [
        'x_seconds_sum{model="clf"} 0.55',
        'x_seconds_count{model="clf"} 2',
    ]


def test_non_finite_gauge_values_render_as_prometheus_spells_them() -> None:
    gauge = Gauge("odd", "help", ("case",))
    for case, value in (("nan", nan), ("up", inf), ("down", -inf)):
        gauge.set((case,), value)
    text = "\n".join(gauge.render()) + "\n"
    (family,) = text_string_to_metric_families(text)
    values = {sample.labels["case"]: sample.value for sample in family.samples}
    assert (values["up"], values["down"], str(values["nan"])) == (inf, -inf, "nan")


def test_an_empty_label_value_is_left_out_as_prometheus_does() -> None:
    counter = Counter("tries_total", "help", ("variant", "outcome"))
    counter.inc(("canary", ""))
    counter.inc(("canary", "fell_back"))
    assert list(counter.render())[2:] == [
        'tries_total{variant="canary"} 1',
        'tries_total{variant="canary",outcome="fell_back"} 1',
    ]
