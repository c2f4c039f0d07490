"""Uncertainty for small evaluation sets: intervals, one paired method, and what n can tell apart.

With 20-100 validation examples a difference of a few points is often noise. A candidate-vs-reference
comparison uses ONE paired method for both its interval and its test: the sign-flip permutation test
on the per-example differences, and the interval that inverts it (every shift the test does not
reject at 5%). The two therefore always agree: p < 0.05 exactly when the interval excludes 0. With
fewer than 6 paired examples no shift can be rejected, so the interval is the whole possible range
and the sentence says n is too small. Each comparison also states the smallest difference this n
can detect (80% power, 5% level) and the n a given difference would need, from the spread of the
observed differences (normal approximation, said so).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

BOOTSTRAP_SAMPLES = 2000
PERMUTATION_SAMPLES = 4000
EXACT_UP_TO = 12  # enumerate all 2**n sign vectors up to this n (4096), sample them above
ALPHA = 0.05
POWER = 0.8
SCORE_RANGE = (-1.0, 1.0)  # scores are in [0, 1], so a per-example difference is in [-1, 1]
METHOD = "paired sign-flip permutation test; 95% CI by inverting it"


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int


def _z(probability: float) -> float:
    return NormalDist().inv_cdf(probability)


def min_paired_n(alpha: float = ALPHA) -> int:
    """The smallest n at which an exact two-sided sign-flip test can reach ``p < alpha`` at all."""
    n = 1
    while 2.0 / 2**n >= alpha:
        n += 1
    return n


def minimal_detectable_difference(sd: float, n: int, *, alpha: float = ALPHA, power: float = POWER) -> float:
    """Smallest true mean difference detected with ``power`` at level ``alpha`` (normal approximation)."""
    if n < 1:
        return float("nan")
    return (_z(1 - alpha / 2) + _z(power)) * sd / math.sqrt(n)


def required_n(difference: float, sd: float, *, alpha: float = ALPHA, power: float = POWER) -> int | None:
    """Paired examples needed to detect ``difference`` (None when it is 0 or there is no spread to size from)."""
    if difference == 0 or not math.isfinite(difference) or not math.isfinite(sd) or sd <= 0:
        return None
    needed = ((_z(1 - alpha / 2) + _z(power)) * sd / abs(difference)) ** 2
    return max(min_paired_n(alpha), math.ceil(needed))


@dataclass(frozen=True)
class PairedComparison:
    """Mean of (candidate - reference) over shared examples, with a test and interval from one method.

    ``low``/``high`` are the 95% interval that inverts the sign-flip test whose p-value is ``p_value``;
    ``mde`` is the smallest difference this n detects with 80% power; ``sd`` the spread of differences.
    """

    delta: float
    low: float
    high: float
    p_value: float
    n: int
    sd: float = float("nan")
    mde: float = float("nan")
    method: str = METHOD

    @property
    def separable(self) -> bool:
        """True when the data tell the two apart at the 5% level (the interval excludes 0)."""
        return self.n > 0 and self.p_value < ALPHA

    @property
    def too_few(self) -> bool:
        """Fewer paired examples than the test needs to ever reach significance."""
        return self.n < min_paired_n()

    def needed_for(self, difference: float) -> int | None:
        return required_n(difference, self.sd)

    def verdict(self, scale: float = 100.0, unit: str = "points") -> str:
        """In words: separated or not, and what this n can detect (a power statement)."""
        if self.n == 0:
            return "no shared examples: the two cannot be compared"
        if self.too_few:
            return (f"n = {self.n} is too small to separate the two: with fewer than {min_paired_n()} paired "
                    "examples no difference can reach p < 0.05")
        if self.separable:
            direction = "better" if self.delta > 0 else "worse"
            return f"separable at n = {self.n}: the candidate is {direction} (p < 0.05)"
        if not math.isfinite(self.mde) or self.sd == 0:
            return f"n = {self.n} cannot separate the two: every paired difference is the same"
        text = (f"n = {self.n} cannot separate the two; the smallest difference this n detects (80% power, "
                f"5% level) is about {self.mde * scale:.1f} {unit}")
        needed = self.needed_for(self.delta)
        if needed is not None:
            text += f"; a true difference of {abs(self.delta) * scale:.1f} {unit} would need about {needed} examples"
        return text

    def sentence(self, scale: float = 100.0, unit: str = "points") -> str:
        if self.n == 0:
            return self.verdict(scale, unit)
        return (
            f"{self.delta * scale:+.1f} {unit} overall, 95% CI [{self.low * scale:+.1f}, {self.high * scale:+.1f}], "
            f"{format_p(self.p_value)} over {self.n} paired examples; {self.verdict(scale, unit)}"
        )


def format_p(p_value: float) -> str:
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.2g}"


def bootstrap_ci(values: Sequence[float], *, seed: int = 0, samples: int = BOOTSTRAP_SAMPLES) -> Interval:
    """Percentile bootstrap interval of one candidate's mean score (not for comparisons: see above)."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return Interval(float("nan"), float("nan"), float("nan"), 0)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(samples, data.size))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return Interval(float(data.mean()), float(low), float(high), int(data.size))


@functools.lru_cache(maxsize=32)
def _sign_vectors(n: int, seed: int, samples: int) -> tuple[np.ndarray, bool]:
    """All 2**n sign vectors for small n (exact test), else a fixed seeded sample of them.

    Memoised (read-only): a leaderboard tests hundreds of candidates on the same n and seed, and
    drawing the vectors cost more than the test itself."""
    if n <= EXACT_UP_TO:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=n)))
        exact = True
    else:
        signs, exact = np.random.default_rng(seed).choice([-1.0, 1.0], size=(samples, n)), False
    signs.setflags(write=False)
    return signs, exact


class _SignFlip:
    """p(shift) of the two-sided sign-flip test of H0: mean difference == shift, for any shift."""

    def __init__(self, differences: np.ndarray, seed: int, samples: int) -> None:
        signs, self.exact = _sign_vectors(differences.size, seed, samples)
        self.mean = float(differences.mean())
        self.flipped_means = signs @ differences / differences.size  # mean(s * d) per sign vector
        self.sign_means = signs.mean(axis=1)  # mean(s) per sign vector
        self.count = len(signs)

    def p_value(self, shift: float) -> float:
        # mean(s * (d - shift)) = mean(s * d) - shift * mean(s)
        permuted = np.abs(self.flipped_means - shift * self.sign_means)
        hits = int(np.count_nonzero(permuted >= abs(self.mean - shift) - 1e-12))
        if self.exact:
            return min(1.0, hits / self.count)
        return min(1.0, (hits + 1) / (self.count + 1))

    def bound(self, toward: float, alpha: float) -> float:
        """The furthest shift from the mean toward ``toward`` that the test does not reject."""
        if self.p_value(toward) >= alpha:
            return toward
        inside, outside = self.mean, toward
        for _ in range(40):
            middle = (inside + outside) / 2
            if self.p_value(middle) >= alpha:
                inside = middle
            else:
                outside = middle
        return inside


def paired_comparison(
    candidate: Sequence[float], reference: Sequence[float], *, seed: int = 0, samples: int = PERMUTATION_SAMPLES
) -> PairedComparison:
    """Sign-flip test of the mean paired difference and the 95% interval that inverts it.

    ``candidate[i]`` and ``reference[i]`` must be scores on the same example.
    """
    differences = np.asarray(candidate, dtype=float) - np.asarray(reference, dtype=float)
    if differences.size == 0:
        return PairedComparison(float("nan"), float("nan"), float("nan"), float("nan"), 0)
    test = _SignFlip(differences, seed, samples)
    p_value = test.p_value(0.0)
    low, high = test.bound(SCORE_RANGE[0], ALPHA), test.bound(SCORE_RANGE[1], ALPHA)
    # The bounds come from bisection; make the interval agree with the test exactly at 0.
    if p_value < ALPHA and low <= 0.0 <= high:
        low, high = (max(low, 1e-9), high) if test.mean > 0 else (low, min(high, -1e-9))
    if p_value >= ALPHA:
        low, high = min(low, 0.0), max(high, 0.0)
    sd = float(differences.std(ddof=1)) if differences.size > 1 else float("nan")
    return PairedComparison(
        test.mean, float(low), float(high), float(p_value), int(differences.size), sd,
        minimal_detectable_difference(sd, int(differences.size)) if math.isfinite(sd) else float("nan"),
    )


def paired_p_values(candidates: np.ndarray, references: np.ndarray, *, seed: int = 0,
                    samples: int = PERMUTATION_SAMPLES) -> tuple[np.ndarray, np.ndarray]:
    """(mean difference, p-value) of ``paired_comparison`` for many rows at once: row ``i`` of
    ``candidates`` against row ``i`` of ``references``, every row on the same n examples. The same
    sign vectors and test as one matrix product, without the interval (a leaderboard that labels
    hundreds of candidates "above / not above" needs the test, not the bisection of its bounds).
    """
    differences = np.asarray(candidates, dtype=float) - np.asarray(references, dtype=float)
    rows, n = differences.shape
    if n == 0:
        return np.full(rows, np.nan), np.full(rows, np.nan)
    signs, exact = _sign_vectors(n, seed, samples)
    means = differences.mean(axis=1)
    permuted = np.abs(signs @ differences.T / n)  # |mean(s * d)| per sign vector and row
    hits = np.count_nonzero(permuted >= (np.abs(means) - 1e-12)[None, :], axis=0)
    p_values = np.minimum(1.0, hits / len(signs) if exact else (hits + 1) / (len(signs) + 1))
    return means, p_values
