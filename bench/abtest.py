"""Sequential A/B statistics, measured side by side in one run: tfprod's mSPRT against a naive
z-test peeked at the same looks, and against the fixed-horizon sample size.

Every experiment is a conversion test (base rate 5%), both arms growing by `--per-look`
samples between looks, looked at every tick up to `--horizon` times the fixed-horizon sample
size for a +10% relative lift at 80% power (two-sided, alpha 0.05). Prints:

- A/A (no difference): the share of experiments ever declared different, by tfprod's
  always-valid test (target: at most alpha) and by a z-test looked at the same ticks;
- +10% and +20% lift: the median samples per arm to a decision, over the fixed-horizon sample
  size planned for a +10% minimum detectable effect (targets: at most 1.0x and 0.35x), and,
  for +20%, also over the fixed-horizon size for +20% itself.

The looks use tfprod's own formulas (`tfprod.runtime.analysis.msprt`) on numpy arrays, one
row per experiment; a sample of experiments is replayed through the scalar `update` the
controller calls, to show both give the same decisions. Seeded: the figures are reproducible.
"""

from __future__ import annotations

import argparse
import math
import time
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from tfprod.runtime.analysis import Arms, Proportion, SequentialState, update
from tfprod.runtime.analysis.msprt import (
    DEFAULT_RELATIVE_MDE,
    log_likelihood_ratio,
    mixing_variance,
)
from tfprod.runtime.analysis.samples import mean_and_variance

BASE_RATE = 0.05
MIN_SAMPLES = 1000
TARGETS = {"fpr": 0.05, "ratio_10": 1.0, "ratio_20": 0.35}
Counts = npt.NDArray[np.int64]


def fixed_horizon_n(base: float, lift: float, alpha: float, power: float = 0.8) -> float:
    """Samples per arm a fixed-horizon two-proportion z-test needs for `lift` at `power`."""
    treated = base * (1 + lift)
    z = NormalDist().inv_cdf(1 - alpha / 2) + NormalDist().inv_cdf(power)
    return z * z * (base * (1 - base) + treated * (1 - treated)) / (treated - base) ** 2


def simulate(
    rng: np.random.Generator, experiments: int, looks: int, per_look: int, lift: float
) -> tuple[Counts, Counts]:
    """Running conversions at each look, arrays of shape (experiments, looks)."""
    control = rng.binomial(per_look, BASE_RATE, size=(experiments, looks)).cumsum(axis=1)
    treated = rng.binomial(per_look, BASE_RATE * (1 + lift), size=(experiments, looks))
    return control, treated.cumsum(axis=1)


def first_decisions(
    control: Counts, treatment: Counts, per_look: int, alpha: float
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Per experiment: the first look (index) whose mSPRT and whose naive z-test reject, or -1.

    Looks before `MIN_SAMPLES` per arm are skipped, as `update` does; tau2 is the default,
    fixed at the first tested look.
    """
    n = per_look * np.arange(1, control.shape[1] + 1, dtype=np.float64)
    mean_c, var_c = mean_and_variance(n, control, control)
    mean_t, var_t = mean_and_variance(n, treatment, treatment)
    difference, variance = mean_t - mean_c, var_c / n + var_t / n
    tested = (n >= MIN_SAMPLES) & (variance > 0)
    first_tested = tested.argmax(axis=1)
    rows = np.arange(control.shape[0])
    pooled = (control + treatment)[rows, first_tested] / (2 * n[first_tested])
    tau2 = mixing_variance(pooled, DEFAULT_RELATIVE_MDE)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_lr = log_likelihood_ratio(difference, variance, tau2)
        z = difference / np.sqrt(variance)
    rejects = tested & (tau2 > 0) & (log_lr >= math.log(1 / alpha))
    first = np.where(rejects.any(axis=1), rejects.argmax(axis=1), -1)
    naive = tested & (np.abs(z) > NormalDist().inv_cdf(1 - alpha / 2))
    return first, naive.any(axis=1)


def replayed(control: Counts, treatment: Counts, per_look: int, alpha: float) -> list[int]:
    """The first deciding look of each experiment through the scalar `update`, or -1."""
    firsts = []
    for control_row, treatment_row in zip(control, treatment, strict=True):
        state = SequentialState(alpha=alpha, min_samples=MIN_SAMPLES)
        first = -1
        for look, (c, t) in enumerate(zip(control_row, treatment_row, strict=True)):
            n = float(per_look * (look + 1))
            arms = Arms(
                control=Proportion(trials=n, successes=float(c)),
                treatment=Proportion(trials=n, successes=float(t)),
            )
            state = update(state, arms)
            if state.significant:
                first = look
                break
        firsts.append(first)
    return firsts


def median_samples(first: npt.NDArray[np.int64], per_look: int) -> tuple[float, float, float]:
    """Median samples per arm to a decision (undecided experiments count as never), with a
    distribution-free 95% interval for it (order statistics n/2 -+ 1.96*sqrt(n)/2)."""
    samples = np.sort(np.where(first >= 0, (first + 1) * per_look, np.inf).astype(np.float64))
    spread = 1.96 * math.sqrt(len(samples)) / 2
    low = samples[max(0, math.floor(len(samples) / 2 - spread))]
    high = samples[min(len(samples) - 1, math.ceil(len(samples) / 2 + spread))]
    return float(np.median(samples)), float(low), float(high)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiments", type=int, default=2000)
    parser.add_argument("--per-look", type=int, default=250, help="samples per arm per tick")
    parser.add_argument("--horizon", type=float, default=3.0, help="in fixed-horizon sizes")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--replay", type=int, default=20, help="experiments replayed by update")
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args()
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    planned = fixed_horizon_n(BASE_RATE, 0.1, args.alpha)
    planned_20 = fixed_horizon_n(BASE_RATE, 0.2, args.alpha)
    looks = math.ceil(args.horizon * planned / args.per_look)
    print(
        f"{args.experiments} experiments per case, base rate {BASE_RATE:.0%}, a look every"
        f" {args.per_look} samples per arm, {looks} looks (up to {looks * args.per_look} per arm),"
        f" alpha {args.alpha}, tau2 = ({DEFAULT_RELATIVE_MDE} * pooled rate)^2, seed {args.seed}"
    )
    print(f"fixed-horizon n per arm at 80% power: +10% {planned:.0f}, +20% {planned_20:.0f}")
    agree = 0
    for lift in (0.0, 0.1, 0.2):
        control, treatment = simulate(rng, args.experiments, looks, args.per_look, lift)
        first, naive = first_decisions(control, treatment, args.per_look, args.alpha)
        replay = replayed(
            control[: args.replay], treatment[: args.replay], args.per_look, args.alpha
        )
        agree += sum(a == b for a, b in zip(replay, first[: args.replay].tolist(), strict=True))
        decided = float((first >= 0).mean())
        if lift == 0:
            target = "met" if decided <= TARGETS["fpr"] else "NOT met"
            print(
                f"A/A false positive rate over {looks} looks: tfprod mSPRT {decided:.3f}"
                f" (target <= {TARGETS['fpr']}: {target}), naive z-test {naive.mean():.3f}"
                f" ({naive.mean() / max(decided, 1 / args.experiments):.0f}x)"
            )
            continue
        median, low, high = median_samples(first, args.per_look)
        key = "ratio_10" if lift == 0.1 else "ratio_20"
        ratio = median / planned
        target = "met" if ratio <= TARGETS[key] else "NOT met"
        extra = f"; {median / planned_20:.2f}x the +20% fixed horizon" if lift == 0.2 else ""
        print(
            f"+{lift:.0%} lift: decided {decided:.3f}, median samples per arm {median:.0f} ="
            f" {ratio:.3f}x the +10% fixed horizon (95% interval {low / planned:.3f}-"
            f"{high / planned:.3f}x; target <= {TARGETS[key]}: {target}){extra}"
        )
    print(
        f"scalar update() replay: same first deciding look in {agree} of {3 * args.replay}"
        f" experiments; wall {time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
