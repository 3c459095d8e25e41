"""TFP008: an A/B test measures success, not only guardrails.

error_rate, latencies and drift_score tell whether the treatment is safe, which is what a
canary's criteria and the safety net are for; an A/B test exists to find out whether it is
better, so at least one of its metrics should measure what the change is meant to improve
(conversion_rate, click_through_rate, revenue_per_user, ...).
"""

from __future__ import annotations

from collections.abc import Iterator

from tfprod.governance.findings import Hit, Level
from tfprod.governance.view import StackView

GUARDRAILS = frozenset(
    {"error_rate", "drift_score", "latency_p50", "latency_p90", "latency_p95", "latency_p99"}
)

LEVEL: Level = "warning"
TITLE = "A/B tests have a success metric"


def check(view: StackView) -> Iterator[Hit]:
    for path, policy in sorted(view.policies.items()):
        test = policy.ab_test
        if test is None:
            continue
        names = [metric.name for metric in test.metrics]
        if all(name in GUARDRAILS for name in names):
            yield (
                path,
                f"A/B test of {policy.name!r} ({test.control!r} vs {test.treatment!r}) measures"
                f" only guardrails ({', '.join(names)}); add a success metric such as"
                " conversion_rate or click_through_rate",
            )
