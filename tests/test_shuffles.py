"""The compiled kernels of _shuffles.py give numpy's draws and numpy's results, bit for bit.

The inline PCG64 against numpy's raw outputs, the shuffles and generator states against
``Generator.permuted``, the permutation tests' and bootstrap medians against numpy's medians,
the co-location counts against ``permuted`` and ``bincount``, and the fallback to numpy when
the kernels' draws differ from this numpy's.
"""

from __future__ import annotations

import numpy as np
import pytest

from cwsgeo.analysis.stats._shuffles import _next64, permutation_extremes
from cwsgeo.analysis.stats.compare import (
    _permutation_tests,
    _ranks,
    bootstrap_median_ci,
    permutation_median_test,
)


def _numpy_extremes(rng, pooled, n_a, n_permutations, threshold, step=37):
    """The former implementation: numpy's permuted rows and numpy's medians, in blocks."""
    extreme = 0
    for start in range(0, n_permutations, step):
        rows = rng.permuted(np.broadcast_to(pooled, (min(step, n_permutations - start),
                                                     len(pooled))), axis=1)
        diff = np.median(rows[:, :n_a], axis=1) - np.median(rows[:, n_a:], axis=1)
        extreme += int((np.abs(diff) >= threshold).sum())
    return extreme


def _numpy_ci(x, n_resamples, seed):
    rng = np.random.default_rng(seed)
    medians = np.median(x[rng.integers(0, len(x), size=(n_resamples, len(x)))], axis=1)
    low, high = np.quantile(medians, [0.025, 0.975])
    return float(low), float(high)


def _samples(kind, n, rng):
    if kind == "continuous":
        return rng.normal(0, 1e3, n)
    if kind == "ties":
        return rng.integers(0, 4, n) / 3
    return rng.integers(0, 30, n).astype(float)


def test_inline_pcg64_matches_numpy_raw_outputs():
    bits = np.random.PCG64([2026, 7])
    full = bits.state
    word = (1 << 64) - 1
    hi, lo, inc_hi, inc_lo = (np.uint64(v) for v in (
        full["state"]["state"] >> 64, full["state"]["state"] & word,
        full["state"]["inc"] >> 64, full["state"]["inc"] & word))
    ours = []
    for _ in range(1000):
        hi, lo, out = (np.uint64(v) for v in _next64(hi, lo, inc_hi, inc_lo))
        ours.append(int(out))
    assert ours == [int(v) for v in bits.random_raw(1000)]


def _numpy_test(x, y, n_permutations, rng):
    """The former permutation_median_test, on a given generator."""
    pooled = np.concatenate([x, y])
    observed = float(np.median(x) - np.median(y))
    tol = 1e-9 * max(1.0, float(np.abs(pooled).max()))
    extreme = _numpy_extremes(rng, pooled, len(x), n_permutations, abs(observed) - tol)
    return observed, (1 + extreme) / (1 + n_permutations)


@pytest.mark.parametrize("kind", ["continuous", "ties", "integers"])
@pytest.mark.parametrize(("n_a", "n_b"), [(1, 1), (1, 6), (2, 3), (7, 4), (30, 61),
                                          (200, 333)])
def test_permutation_p_and_generator_state_match_numpy(kind, n_a, n_b):
    data = np.random.default_rng([n_a, n_b, len(kind)])
    x, y = _samples(kind, n_a, data), _samples(kind, n_b, data) + 0.5
    ours, theirs = np.random.default_rng([1, n_a]), np.random.default_rng([1, n_a])
    assert permutation_median_test(x, y, n_permutations=501, seed=ours) == _numpy_test(
        x, y, 501, theirs)
    assert ours.bit_generator.state == theirs.bit_generator.state
    assert ours.random() == theirs.random()  # the stream goes on where numpy's would


@pytest.mark.parametrize("threads", [1, 2])
def test_batched_tests_equal_single_ones_whatever_the_threads(threads, monkeypatch):
    import numba

    from cwsgeo.analysis.stats import compare

    monkeypatch.setattr(compare, "_BLOCK", 70)  # blocks of relabellings: the same draws
    data = np.random.default_rng(8)
    pairs = [(data.normal(0, 1, n), data.normal(0.3, 1, 2 * n + 1)) for n in range(1, 40)]
    pairs.insert(5, (np.array([]), np.array([1.0, 2.0])))  # an empty sample: NaN
    seeds = [[3, i] for i in range(len(pairs))]
    before = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        batch = _permutation_tests(pairs, 199, seeds)
    finally:
        numba.set_num_threads(before)
    single = [permutation_median_test(x, y, n_permutations=199, seed=s)
              for (x, y), s in zip(pairs, seeds, strict=True)]
    assert np.isnan(batch[5]).all() and np.isnan(single[5]).all()
    del batch[5], single[5]
    assert batch == single
    assert single[:3] == [_numpy_test(x, y, 199, np.random.default_rng(s))
                          for (x, y), s in zip(pairs[:3], seeds[:3], strict=True)]


def test_one_generator_for_several_pairs_draws_in_turn():
    data = np.random.default_rng(4)
    pairs = [(data.random(9), data.random(12)) for _ in range(3)]
    shared, ref = np.random.default_rng(21), np.random.default_rng(21)
    assert _permutation_tests(pairs, 99, [shared] * 3) == [
        _numpy_test(x, y, 99, ref) for x, y in pairs]


def test_one_bit_generator_behind_several_generators_draws_in_turn():
    data = np.random.default_rng(4)
    pairs = [(data.random(9), data.random(12)) for _ in range(3)]
    shared, ref = np.random.PCG64(21), np.random.default_rng(21)
    assert _permutation_tests(pairs, 99, [shared] * 3) == [
        _numpy_test(x, y, 99, ref) for x, y in pairs]
    assert shared.state == ref.bit_generator.state


def test_kernels_fall_back_to_numpy_when_its_draws_differ(monkeypatch, caplog):
    from cwsgeo.analysis.stats import _shuffles
    from cwsgeo.analysis.stats.colocation import _relabelled_pairs

    assert _shuffles.kernel_draws_as_numpy()  # this numpy: the kernels draw as it does
    data = np.random.default_rng(6)
    x, y = data.random(15), data.random(25)
    codes, rows, cols = np.array([0, 1, 1, 2, 0, 2, 1]), np.arange(7), np.arange(7)[::-1]
    expected = (permutation_median_test(x, y, n_permutations=300, seed=3),
                _relabelled_pairs(np.random.default_rng(3), codes, rows, cols, np.ones(7), 3,
                                  np.array([1, 5]), 40))
    monkeypatch.setattr(_shuffles, "_KERNEL_OK", None)  # not checked yet in this "process"
    monkeypatch.setattr(_shuffles, "_numpy_rows",  # a numpy that draws otherwise
                        lambda rng, values, size: rng.permuted(
                            np.broadcast_to(values, (size, len(values))), axis=1)[:, ::-1])

    def unused(*args):
        raise AssertionError("kernel used")

    monkeypatch.setattr(_shuffles, "permutation_extremes", unused)
    monkeypatch.setattr(_shuffles, "clq_counts", unused)
    with caplog.at_level("WARNING", logger=_shuffles.__name__):
        assert permutation_median_test(x, y, n_permutations=300, seed=3) == expected[0]
        np.testing.assert_array_equal(_relabelled_pairs(
            np.random.default_rng(3), codes, rows, cols, np.ones(7), 3, np.array([1, 5]), 40),
            expected[1])
    assert _shuffles.pcg64_state(np.random.default_rng(0)) is None
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
    assert len(caplog.records) == 1 and "shuffling with numpy" in caplog.records[0].message


def test_other_bit_generators_shuffle_in_numpy():
    data = np.random.default_rng(5)
    x, y = data.random(15), data.random(25)
    ours = np.random.Generator(np.random.MT19937(3))
    theirs = np.random.Generator(np.random.MT19937(3))
    assert permutation_median_test(x, y, n_permutations=300, seed=ours) == _numpy_test(
        x, y, 300, theirs)


def test_odd_buffered_half_carries_between_calls():
    # an odd number of 32-bit draws leaves numpy's buffered half for the next call
    rng, ref = np.random.default_rng(11), np.random.default_rng(11)
    x, y = np.array([0.0]), np.array([1.0, 2.0, 3.0])
    for _ in range(3):
        assert permutation_median_test(x, y, n_permutations=1, seed=rng) == _numpy_test(
            x, y, 1, ref)
        assert rng.bit_generator.state == ref.bit_generator.state


def test_kernel_counts_every_relabelling_at_threshold_zero():
    ranks, ordered = _ranks(np.array([3.0, 1.0, 2.0, 5.0]))
    states = np.zeros((1, 6), dtype=np.uint64)
    counts = permutation_extremes(states, ranks, ordered, np.array([0, 4]), np.array([2]), 50,
                                  np.array([0.0]))
    assert counts.tolist() == [50]


@pytest.mark.parametrize("n", [1, 2, 5, 64, 301])
def test_bootstrap_interval_matches_numpy_medians(n):
    x = _samples("ties" if n % 2 else "continuous", n, np.random.default_rng(n))
    assert bootstrap_median_ci(x, n_resamples=400, seed=[n, 1]) == _numpy_ci(x, 400, [n, 1])


def test_permutation_test_keeps_its_seeded_p_values():
    x = np.random.default_rng(0).normal(0, 1, 40)
    y = np.random.default_rng(1).normal(0.6, 1, 35)
    pooled = np.concatenate([x, y])
    observed = float(np.median(x) - np.median(y))
    tol = 1e-9 * max(1.0, float(np.abs(pooled).max()))
    extreme = _numpy_extremes(np.random.default_rng([4, 2]), pooled, len(x), 999,
                              abs(observed) - tol)
    assert permutation_median_test(x, y, n_permutations=999, seed=[4, 2]) == (
        observed, (1 + extreme) / 1000)


@pytest.mark.parametrize("k", [2, 5])
def test_clq_counts_equal_numpy_permuted_and_bincount(k):
    from cwsgeo.analysis.stats.colocation import _relabelled_pairs

    data = np.random.default_rng(k)
    codes = data.integers(0, k, 301).astype(np.int64)
    rows = np.repeat(np.arange(301), 2)
    cols = data.integers(0, 301, 602)
    w = data.choice([1.0, 0.5, 1 / 3], 602)
    ours, theirs = np.random.default_rng([9, k]), np.random.Generator(np.random.PCG64([9, k]))
    cells = np.array([0, k * k - 1, 1, 0, k + 1])  # some cells, one twice
    fast = _relabelled_pairs(ours, codes, rows, cols, w, k, cells, 150)
    slow = _relabelled_pairs(_NumpyOnly(theirs), codes, rows, cols, w, k, cells, 150)
    np.testing.assert_array_equal(fast, slow)
    labels = np.random.default_rng([9, k]).permuted(np.tile(codes, (150, 1)), axis=1)
    every = np.stack([np.bincount(lab[rows] * k + lab[cols], weights=w, minlength=k * k)
                      for lab in labels])
    np.testing.assert_array_equal(fast, every[:, cells])
    assert ours.bit_generator.state == theirs.bit_generator.state


class _NumpyOnly:
    """A generator whose bit generator the kernels do not know: numpy draws (the fallback)."""

    def __init__(self, rng):
        self._rng = rng
        self.bit_generator = object()

    def permuted(self, *args, **kwargs):
        return self._rng.permuted(*args, **kwargs)
