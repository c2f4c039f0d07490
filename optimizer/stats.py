"""Uncertainty for small evaluation sets: bootstrap confidence intervals and a paired test.

With 20-100 validation examples a difference of a few points is often noise; every comparison the
workbench states comes with a 95% interval and, for candidate vs baseline, a paired p-value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

BOOTSTRAP_SAMPLES = 2000


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int


@dataclass(frozen=True)
class PairedComparison:
    """Mean of (candidate - baseline) over the same examples, its 95% CI and a sign-flip p-value."""

    delta: float
    low: float
    high: float
    p_value: float
    n: int

    def sentence(self, scale: float = 100.0, unit: str = "points") -> str:
        return (
            f"{self.delta * scale:+.1f} {unit} overall, 95% CI [{self.low * scale:+.1f}, {self.high * scale:+.1f}], "
            f"p = {self.p_value:.2g} over {self.n} examples"
        )


def bootstrap_ci(values: Sequence[float], *, seed: int = 0, samples: int = BOOTSTRAP_SAMPLES) -> Interval:
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return Interval(float("nan"), float("nan"), float("nan"), 0)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(samples, data.size))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return Interval(float(data.mean()), float(low), float(high), int(data.size))


def paired_comparison(
    candidate: Sequence[float], baseline: Sequence[float], *, seed: int = 0, samples: int = BOOTSTRAP_SAMPLES
) -> PairedComparison:
    """Bootstrap CI of the mean paired difference and a two-sided sign-flip permutation p-value."""
    differences = np.asarray(candidate, dtype=float) - np.asarray(baseline, dtype=float)
    if differences.size == 0:
        return PairedComparison(float("nan"), float("nan"), float("nan"), float("nan"), 0)
    interval = bootstrap_ci(differences, seed=seed, samples=samples)
    rng = np.random.default_rng(seed + 1)
    observed = abs(differences.mean())
    signs = rng.choice([-1.0, 1.0], size=(samples, differences.size))
    permuted = np.abs((signs * differences).mean(axis=1))
    p_value = (np.count_nonzero(permuted >= observed - 1e-12) + 1) / (samples + 1)
    return PairedComparison(interval.mean, interval.low, interval.high, float(min(1.0, p_value)), int(differences.size))
