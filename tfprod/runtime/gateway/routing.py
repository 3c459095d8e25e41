"""Pure routing: weights to ranges of [0, 1), sticky keys to points in it.

A key hashes (salted with the model name) to a point u in [0, 1). Variants hold consecutive
ranges laid out from the last listed variant at 0 upwards; the first listed variant holds the
top and the second sits just below it. With two variants [stable, canary], a user is in the
canary iff u < canary weight, so raising the canary's weight only ever moves users from stable
to canary, never back. With more variants the same holds for the second listed one; changing
a lower variant's share shifts the ranges above it, so ramp one variant at a time, second.
"""

from __future__ import annotations

import hashlib
import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_SCALE = float(1 << 64)


def key_point(key: str, model: str) -> float:
    """The sticky point of `key` for `model`: uniform on [0, 1), stable across processes."""
    digest = hashlib.blake2b(
        key.encode("utf-8", "surrogatepass"), digest_size=8, salt=model.encode()[:16]
    ).digest()
    return int.from_bytes(digest, "big") / _SCALE


@dataclass(frozen=True, kw_only=True)
class RoutingTable:
    """An immutable weight table; the gateway swaps whole tables to change weights atomically.

    `bounds[i]` is the lower end of variant i's range, counted from the last variant at 0."""

    names: tuple[str, ...]
    weights: tuple[float, ...]
    bounds: tuple[float, ...]

    @classmethod
    def build(cls, names: Sequence[str], weights: Sequence[float]) -> RoutingTable:
        if len(names) != len(weights) or not names:
            raise ValueError("routing needs one weight per variant and at least one variant")
        if any(not math.isfinite(w) or w < 0 for w in weights):
            raise ValueError(f"weights must be finite and >= 0, got {list(weights)}")
        total = math.fsum(weights)
        if total <= 0:
            raise ValueError("weights must not all be 0")
        normalised = tuple(w / total for w in weights)
        # Lay out from the last variant at 0 upward; store lower ends in ascending order.
        lower: list[float] = []
        edge = 0.0
        for weight in reversed(normalised):
            lower.append(edge)
            edge += weight
        return cls(names=tuple(names), weights=normalised, bounds=tuple(lower))

    def with_weights(self, weights: Mapping[str, float]) -> RoutingTable:
        """A new table with `weights` given for exactly this table's variants."""
        problem = names_problem(self.names, weights)
        if problem is not None:
            raise ValueError(problem)
        return RoutingTable.build(self.names, [weights[n] for n in self.names])

    def pick(self, point: float) -> int:
        """The index (in listed order) of the variant whose range holds `point` in [0, 1).

        A variant with weight 0 holds an empty range and is never picked."""
        slot = bisect_right(self.bounds, point) - 1
        # bounds are ascending lower ends of reversed variants; equal bounds mean empty ranges,
        # and bisect_right picks the last of equal ones, i.e. the non-empty range above them.
        return len(self.names) - 1 - slot


def names_problem(names: Sequence[str], weights: Mapping[str, object]) -> str | None:
    """Why `weights` do not name exactly the variants `names`, or None."""
    missing = [n for n in names if n not in weights]
    unknown = sorted(set(weights) - set(names))
    if not missing and not unknown:
        return None
    return (
        f"weights must name exactly the variants {', '.join(names)};"
        f" missing: {', '.join(missing) or '-'}; unknown: {', '.join(unknown) or '-'}"
    )
