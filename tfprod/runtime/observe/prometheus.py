"""The Prometheus source: instant queries of the gateways' cumulative counters.

The PromQL is generated from the Policy (`queries`): per deployment, the gateway series of its
namespace, deployment (`model`) and versions (`variant`), summed by scrape target (`instance`)
and the labels the counters need, so each gateway replica's counters stay apart as in the
direct source (a restarted replica resets only its own series) and the controller computes
windows from its own snapshots. All queries of one check are evaluated at the same instant.

Prometheus marks the series of a target it cannot scrape stale, which reads like "no data":
so `up` of the gateway job is queried too, and a target that is down, or a job without
targets, is a source error naming it. So is a query that fails, times out, or comes back
partial (Prometheus' `warnings`): the whole check is then an error, never zeros.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import aiohttp

from tfprod.policy import Policy
from tfprod.runtime.controller.observation import Observation, VersionCounters
from tfprod.runtime.observe.counters import (
    DURATION_BUCKETS,
    FEEDBACK_EVENTS,
    FEEDBACK_SQUARES,
    FEEDBACK_VALUES,
    REQUESTS,
    STATUS_GENERATION,
    served_generation,
    version_counters,
)
from tfprod.runtime.observe.exposition import Sample
from tfprod.runtime.observe.http import HttpSource

SOURCE = "prometheus"
"""The source's name in `Observation.source_errors`."""
UP = "up"


class PrometheusError(Exception):
    """A query that did not give a complete answer."""


def queries(policy: Policy, *, job: str) -> dict[str, str]:
    """Metric name -> the PromQL instant query of its series for `policy`'s deployment."""
    versions = "|".join(re.escape(version.id) for version in policy.versions)
    scope = f"job={_string(job)}, namespace={_string(policy.namespace)}"
    series = f"{scope}, model={_string(policy.name)}, variant=~{_string(versions)}"
    by = "instance, model, variant"
    return {
        REQUESTS: f"sum by ({by}, outcome) ({REQUESTS}{{{series}}})",
        DURATION_BUCKETS: f"sum by ({by}, le) ({DURATION_BUCKETS}{{{series}}})",
        **{
            name: f"sum by ({by}, event) ({name}{{{series}}})"
            for name in (FEEDBACK_EVENTS, FEEDBACK_VALUES, FEEDBACK_SQUARES)
        },
        STATUS_GENERATION: (
            f"max by (instance, deployment) ({STATUS_GENERATION}"
            f"{{{scope}, deployment={_string(policy.name)}}})"
        ),
        UP: f"{UP}{{job={_string(job)}}}",
    }


class PrometheusSource(HttpSource):
    """Observes deployments through the Prometheus HTTP API at `url` (e.g. http://prom:9090).

    `job` is the scrape job of the gateways (with the Prometheus operator, the gateway
    Service's name); `timeout_seconds` bounds each check's queries, Prometheus' own
    evaluation included.
    """

    def __init__(self, *, url: str, job: str, timeout_seconds: float = 5.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"url {url!r} is not valid: give http://host:port of Prometheus")
        self.url = url.rstrip("/")
        self.job = job
        super().__init__(timeout_seconds=timeout_seconds)

    async def observe(self, policy: Policy) -> Observation:
        """The deployment's counters per gateway replica, as Prometheus last scraped them."""
        expressions = queries(policy, job=self.job)
        at = time.time()
        try:
            results = await asyncio.gather(
                *(self.query(expression, at=at) for expression in expressions.values())
            )
        except PrometheusError as error:
            return Observation(source_errors={SOURCE: str(error)})
        by_metric = dict(zip(expressions, results, strict=True))
        down = _down_targets(by_metric.pop(UP), self.job)
        if down:
            return Observation(source_errors={SOURCE: down})
        per_replica: dict[str, list[Sample]] = defaultdict(list)
        for name, vector in by_metric.items():
            for labels, value in vector:
                per_replica[labels.get("instance", "")].append(
                    Sample(name=name, labels=labels, value=value)
                )
        versions = {version.id for version in policy.versions}
        replicas: dict[str, dict[str, VersionCounters]] = {}
        generations: dict[str, int] = {}
        for replica, samples in sorted(per_replica.items()):
            counters = version_counters(samples, deployment=policy.name, versions=versions)
            if counters:
                replicas[replica] = counters
            generation = served_generation(samples, deployment=policy.name)
            if generation is not None:
                generations[replica] = generation
        return Observation(replicas=replicas, replica_generations=generations)

    async def query(
        self, expression: str, *, at: float | None = None
    ) -> list[tuple[dict[str, str], float]]:
        """An instant vector query's series (labels, value); raises PrometheusError."""
        if self._session is None:
            raise RuntimeError("use PrometheusSource in `async with`")
        params = {"query": expression, "timeout": f"{self.timeout_seconds:g}s"}
        if at is not None:
            params["time"] = f"{at:.3f}"
        where = f"{self.url}/api/v1/query {expression!r}"
        try:
            async with self._session.get(f"{self.url}/api/v1/query", params=params) as response:
                text = await response.text()
                try:
                    document = await response.json(content_type=None)
                except ValueError:
                    raise PrometheusError(
                        f"{where}: answered {response.status}, not JSON: {text[:200]!r}"
                    ) from None
        except TimeoutError:
            raise PrometheusError(f"{where}: no answer within {self.timeout_seconds:g} s") from None
        except aiohttp.ClientError as error:
            raise PrometheusError(f"{where}: {error}") from None
        return _vector(document, where)


def _vector(document: Any, where: str) -> list[tuple[dict[str, str], float]]:
    if not isinstance(document, Mapping) or document.get("status") != "success":
        kind = document.get("errorType", "?") if isinstance(document, Mapping) else "?"
        message = document.get("error", document) if isinstance(document, Mapping) else document
        raise PrometheusError(f"{where}: {kind}: {message}")
    if document.get("warnings"):
        raise PrometheusError(f"{where}: partial answer: {'; '.join(document['warnings'])}")
    data = document.get("data", {})
    if data.get("resultType") != "vector":
        raise PrometheusError(f"{where}: expected a vector, got {data.get('resultType')!r}")
    try:
        return [(dict(item["metric"]), float(item["value"][1])) for item in data["result"]]
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise PrometheusError(f"{where}: a result is not [labels, value]: {error!r}") from None


def _down_targets(up: list[tuple[dict[str, str], float]], job: str) -> str:
    """What is wrong with the gateway targets' `up` series, or "" when all are up."""
    if not up:
        return f"Prometheus has no scrape target for job {job!r}"
    down = sorted(labels.get("instance", "?") for labels, value in up if value != 1)
    if down:
        return f"gateway target(s) of job {job!r} down in Prometheus: {', '.join(down)}"
    return ""


def _string(value: str) -> str:
    """A PromQL double-quoted string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
