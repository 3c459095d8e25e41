"""Comparing a shadow's prediction with the primary's, and mirroring requests to shadows.

Mirroring starts only after the primary answer is in hand and runs as a detached task with
its own timeout and a bound on concurrent mirrors (over the bound: dropped and counted), so a
slow or failing shadow can neither delay nor change what the caller receives.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from tfprod.runtime.gateway.config import Shadow
from tfprod.runtime.gateway.metrics import GatewayMetrics
from tfprod.runtime.gateway.upstream import Origin, UpstreamClient, UpstreamError


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """`agree`: same argmax per row (or same side of 0.5 for one probability);
    `max_abs_difference`: the largest absolute difference of any output number."""

    agree: bool
    max_abs_difference: float


def prediction_rows(body: object) -> list[list[float]] | None:
    """The numeric prediction rows of a TF Serving answer (row or columnar format)."""
    if not isinstance(body, dict):
        return None
    predictions = body.get("predictions", body.get("outputs"))
    if isinstance(predictions, dict):  # several named outputs: one row per instance, by name
        columns = [predictions[k] for k in sorted(predictions)]
        predictions = [list(row) for row in zip(*columns, strict=False)]
    if not isinstance(predictions, list):
        return None
    rows: list[list[float]] = []
    for row in predictions:
        flat = _flatten(row)
        if flat is None:
            return None
        rows.append(flat)
    return rows


def _flatten(value: object) -> list[float] | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, dict):
        value = [value[k] for k in sorted(value)]
    if isinstance(value, list):
        out: list[float] = []
        for item in value:
            flat = _flatten(item)
            if flat is None:
                return None
            out.extend(flat)
        return out
    return None


def _finite(rows: list[list[float]]) -> bool:
    return all(math.isfinite(x) for row in rows for x in row)


def _label(row: list[float]) -> int:
    if len(row) == 1:
        return int(row[0] >= 0.5)
    return max(range(len(row)), key=row.__getitem__)


def compare(primary: bytes, shadow: bytes) -> Comparison | None:
    """Compares two predict answers; None when either is not a numeric prediction or holds
    NaN or an infinity (no difference or argmax means anything then)."""
    try:
        left, right = prediction_rows(json.loads(primary)), prediction_rows(json.loads(shadow))
    except ValueError:
        return None
    if left is None or right is None or not (_finite(left) and _finite(right)):
        return None
    if len(left) != len(right) or any(len(a) != len(b) for a, b in zip(left, right, strict=True)):
        return Comparison(agree=False, max_abs_difference=math.inf)
    agree = all(_label(a) == _label(b) for a, b in zip(left, right, strict=True) if a)
    difference = max(
        (abs(x - y) for a, b in zip(left, right, strict=True) for x, y in zip(a, b, strict=True)),
        default=0.0,
    )
    return Comparison(agree=agree, max_abs_difference=difference)


class ShadowMirror:
    """Fires bounded, detached mirror requests and records agreement and latency difference."""

    def __init__(
        self,
        *,
        client: UpstreamClient,
        origins: dict[str, Origin],
        metrics: GatewayMetrics,
        timeout_seconds: float,
        max_in_flight: int,
        random: Callable[[], float],
    ) -> None:
        self.client = client
        self.origins = origins
        self.metrics = metrics
        self.timeout = timeout_seconds
        self.max_in_flight = max_in_flight
        self.random = random
        self.tasks: set[asyncio.Task[None]] = set()

    def mirror(
        self,
        *,
        model: str,
        shadows: tuple[Shadow, ...],
        verb: str,
        body: bytes,
        primary: bytes,
        primary_seconds: float,
    ) -> None:
        """Schedules the mirrors for one answered request; returns at once."""
        for shadow in shadows:
            if shadow.fraction < 1.0 and self.random() >= shadow.fraction:
                continue
            name = shadow.endpoint.name
            if len(self.tasks) >= self.max_in_flight:
                self.metrics.shadow.inc((model, name, "dropped"))
                continue
            task = asyncio.create_task(
                self._run(
                    model=model,
                    shadow=shadow,
                    verb=verb,
                    body=body,
                    primary=primary,
                    primary_seconds=primary_seconds,
                )
            )
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _run(
        self,
        *,
        model: str,
        shadow: Shadow,
        verb: str,
        body: bytes,
        primary: bytes,
        primary_seconds: float,
    ) -> None:
        name = shadow.endpoint.name
        started = time.perf_counter()
        try:
            status, answer = await self.client.request(
                self.origins[shadow.endpoint.url],
                "POST",
                f"{shadow.endpoint.model_path(model)}:{verb}",
                body,
                timeout=self.timeout,
            )
        except TimeoutError:
            self.metrics.shadow.inc((model, name, "timeout"))
            return
        except UpstreamError:
            self.metrics.shadow.inc((model, name, "error"))
            return
        elapsed = time.perf_counter() - started
        self.metrics.shadow_latency.observe((model, name), elapsed - primary_seconds)
        result = compare(primary, answer) if status == 200 else None
        if result is None:
            self.metrics.shadow.inc((model, name, "error"))
            return
        self.metrics.shadow.inc((model, name, "agree" if result.agree else "disagree"))
        self.metrics.shadow_difference.observe((model, name), result.max_abs_difference)

    async def close(self, grace_seconds: float) -> None:
        """Gives running mirrors `grace_seconds` to finish, then cancels the rest."""
        if not self.tasks:
            return
        _, pending = await asyncio.wait(set(self.tasks), timeout=grace_seconds)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
