"""The PromQL the Prometheus source asks, generated from the Policy."""

from __future__ import annotations

from tests.alerting.conftest import proposal_policy
from tfprod.runtime.gateway.metrics import GatewayMetrics
from tfprod.runtime.observe import queries
from tfprod.runtime.observe.counters import (
    DURATION_BUCKETS,
    FEEDBACK_EVENTS,
    FEEDBACK_SQUARES,
    FEEDBACK_VALUES,
    REQUESTS,
    STATUS_GENERATION,
)

SERIES = (
    'job="tfprod-gateway", namespace="ml", model="recommendation-engine",'
    r' variant=~"rec\\-v2\\.0\\.0|rec\\-v2\\.1\\.0|rec\\-v2\\.2\\.0"'
)
BY = "instance, model, variant"


def test_queries_select_the_deployments_versions_per_instance_with_regex_escaped_ids() -> None:
    assert queries(proposal_policy(), job="tfprod-gateway") == {
        "tfprod_gateway_requests_total": (
            f"sum by ({BY}, outcome) (tfprod_gateway_requests_total{{{SERIES}}})"
        ),
        "tfprod_gateway_request_duration_seconds_bucket": (
            f"sum by ({BY}, le) (tfprod_gateway_request_duration_seconds_bucket{{{SERIES}}})"
        ),
        "tfprod_gateway_feedback_events_total": (
            f"sum by ({BY}, event) (tfprod_gateway_feedback_events_total{{{SERIES}}})"
        ),
        "tfprod_gateway_feedback_value_total": (
            f"sum by ({BY}, event) (tfprod_gateway_feedback_value_total{{{SERIES}}})"
        ),
        "tfprod_gateway_feedback_value_squares_total": (
            f"sum by ({BY}, event) (tfprod_gateway_feedback_value_squares_total{{{SERIES}}})"
        ),
        "tfprod_gateway_status_generation": (
            "max by (instance, deployment) (tfprod_gateway_status_generation"
            '{job="tfprod-gateway", namespace="ml", deployment="recommendation-engine"})'
        ),
        "up": 'up{job="tfprod-gateway"}',
    }


def test_a_job_name_with_quotes_stays_one_promql_string() -> None:
    assert queries(proposal_policy(), job='a"b\\c')["up"] == r'up{job="a\"b\\c"}'


def test_every_series_the_sources_read_is_one_the_gateway_exports() -> None:
    exported = {metric.name: metric for metric in GatewayMetrics().all()}
    read = {
        REQUESTS: ("model", "variant", "code", "outcome"),
        DURATION_BUCKETS.removesuffix("_bucket"): ("model", "variant"),
        FEEDBACK_EVENTS: ("model", "variant", "event"),
        FEEDBACK_VALUES: ("model", "variant", "event"),
        FEEDBACK_SQUARES: ("model", "variant", "event"),
        STATUS_GENERATION: ("deployment",),
    }
    assert {name: exported[name].label_names for name in read if name in exported} == read
