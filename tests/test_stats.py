"""One paired method: the interval and the test agree, small n says so, and the power statement is right."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.analysis.stats import (
    METHOD, min_paired_n, minimal_detectable_difference, paired_comparison, required_n,
)


def test_interval_and_test_agree_on_every_dataset() -> None:
    rng = np.random.default_rng(7)
    for trial in range(120):
        n = int(rng.integers(2, 60))
        reference = rng.uniform(size=n)
        candidate = np.clip(reference + rng.normal(rng.uniform(-0.3, 0.3), rng.uniform(0.05, 0.5), n), 0, 1)
        result = paired_comparison(candidate.tolist(), reference.tolist(), seed=trial)
        excludes_zero = result.low > 0 or result.high < 0
        assert (result.p_value < 0.05) == excludes_zero, (n, result)
        assert result.low <= result.delta <= result.high


def test_three_examples_cannot_separate_even_a_large_gain() -> None:
    # The case: a big gain over 3 examples used to get a narrow bootstrap CI next to p = 0.25.
    result = paired_comparison([1.0, 1.0, 0.9], [0.2, 0.3, 0.4])
    assert result.p_value >= 0.05 and result.low <= 0 <= result.high
    assert not result.separable and result.too_few
    sentence = result.sentence()
    assert "over 3 paired examples" in sentence
    assert "too small to separate" in sentence and f"fewer than {min_paired_n()}" in sentence


def test_a_real_gain_is_separable_and_said_in_words() -> None:
    better = paired_comparison([1.0] * 40 + [0.0] * 10, [0.0] * 10 + [1.0] * 20 + [0.0] * 20)
    assert better.separable and better.low > 0 and better.method == METHOD
    assert "separable at n = 50: the candidate is better" in better.sentence()


def test_unseparated_comparison_states_detectable_difference_and_needed_n() -> None:
    rng = np.random.default_rng(3)
    reference = rng.uniform(size=20)
    candidate = np.clip(reference + 0.03 + rng.normal(0, 0.3, 20), 0, 1)
    result = paired_comparison(candidate.tolist(), reference.tolist())
    assert not result.separable
    text = result.verdict()
    assert f"{result.mde * 100:.1f} points" in text
    needed = required_n(result.delta, result.sd)
    assert needed is not None and needed > 20 and f"about {needed} examples" in text


def test_power_formulas() -> None:
    # (1.96 + 0.8416) * sd / sqrt(n)
    assert minimal_detectable_difference(0.5, 100) == pytest.approx(0.1401, abs=1e-3)
    # detecting that difference again needs about the same n
    assert required_n(minimal_detectable_difference(0.5, 100), 0.5) in (100, 101)
    assert required_n(0.0, 0.5) is None
    assert min_paired_n() == 6  # 2 / 2**6 = 0.031 < 0.05; 2 / 2**5 = 0.0625 is not


def test_no_shared_examples() -> None:
    result = paired_comparison([], [])
    assert result.n == 0 and "no shared examples" in result.sentence()
