"""A sequential test of "this rate is past its threshold", for the safety net's triggers.

A trigger such as `error_rate > 5%` asks whether a version's rate is above 5% now, not on
average since the rollout started. Each look gives the running totals (trials, events) of the
version; the test keeps the totals at its last few looks (`starts`) and, for every start,
takes the requests since then: with `n` trials and `k` events there, the rate `k / n` on the
far side of the threshold `p0` is evidence `n * KL(k / n || p0)` (the binomial log-likelihood
ratio of the observed rate against the threshold; KL the Bernoulli Kullback-Leibler
divergence), 0 on the near side. The threshold is shown crossed when the largest evidence over
the starts reaches `log(len(starts) / alpha)`.

Why this shape: taking the largest over recent starts is a window-limited generalized
likelihood ratio (a CUSUM that needs no assumed "bad" rate), so evidence from before a fault
does not dilute it, and a fault is decided as soon as the requests since its onset carry
enough evidence, whatever its size: a version whose every request fails against a 5%
threshold is decided after 4 requests, 10% errors after about 530 requests, 50% after about
14 (60 starts, alpha 0.001: a bound of 11.0). For fixed `n`,
`P(k / n >= q) <= exp(-n * KL(q || p0))` when the true rate is at most `p0` (Chernoff), so
at one look the chance that a version at or below its threshold is shown past it is at most
`alpha` (a union bound over the starts). A healthy version far from the
threshold (0.5% against 5%) practically never is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_ALPHA = 0.001


@dataclass(frozen=True, kw_only=True)
class Crossing:
    """What one look found: the strongest evidence over the starts, and the bound."""

    shown: bool
    """The rate is shown past the threshold."""
    evidence: float
    """The largest `n * KL(k / n || p0)` over the starts (0: nothing on the far side)."""
    bound: float
    """`log(len(starts) / alpha)`; infinite without a start."""
    trials: float
    """`n` of the start with the largest evidence (the most recent start if none)."""
    events: float


def crossing(
    starts: Sequence[tuple[float, float]],
    now: tuple[float, float],
    *,
    threshold: float,
    above: bool,
    alpha: float = DEFAULT_ALPHA,
) -> Crossing:
    """Whether the rate since some start is shown above (`above`) or below `threshold`.

    `starts` and `now` are running totals (trials, events) at earlier looks and at this one.
    """
    if not starts:
        return Crossing(shown=False, evidence=0.0, bound=math.inf, trials=0.0, events=0.0)
    bound = math.log(len(starts) / alpha)
    base = np.asarray(starts, dtype=float).reshape(-1, 2)
    trials = now[0] - base[:, 0]
    events = now[1] - base[:, 1]
    evidence = _evidence(trials, events, threshold, above)
    best = int(np.argmax(evidence)) if float(evidence.max()) > 0 else len(starts) - 1
    strongest = float(evidence[best])
    return Crossing(
        shown=strongest >= bound,
        evidence=strongest,
        bound=bound,
        trials=float(trials[best]),
        events=float(events[best]),
    )


def _evidence(trials: np.ndarray, events: np.ndarray, p0: float, above: bool) -> np.ndarray:
    """`n * KL(k / n || p0)` where `k / n` lies on the tested side of `p0`, else 0."""
    n = np.maximum(trials, 0.0)
    rate = np.divide(events, n, out=np.zeros_like(n), where=n > 0)
    rate = np.clip(rate, 0.0, 1.0)
    far = (rate > p0) if above else (rate < p0)
    far &= n > 0
    if p0 <= 0.0 or p0 >= 1.0:
        # No rate lies past 0% from below or 100% from above; one past the other is certain.
        return np.where(far, np.inf, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = np.where(rate > 0, rate * np.log(rate / p0), 0.0) + np.where(
            rate < 1, (1 - rate) * np.log((1 - rate) / (1 - p0)), 0.0
        )
    return np.where(far, n * kl, 0.0)
