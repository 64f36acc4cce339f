"""Compiled statistics of random relabellings and resamples (numba).

Behind :mod:`.compare` (permutation tests, bootstrap medians) and :mod:`.colocation`
(relabelled nearest-neighbour counts).

**Shuffles.** A relabelling is a row shuffled as ``Generator.permuted`` shuffles each row of
``broadcast_to(values, (size, n))``: Fisher–Yates from the last position down, the partner
of position ``i`` drawn by numpy's ``random_interval(i)``. The kernels draw it themselves
with numpy's PCG64 written out (:func:`_next64`: the 128-bit LCG step and XSL RR output;
:func:`_shuffle`: numpy's buffered 32-bit draws and masked rejection), so they make the same
draws in the same order as ``permuted`` and leave the generator in the state numpy would
(:func:`pcg64_state` / :func:`set_pcg64_state` carry it; both checked in the tests): a seed
gives the results it gave before, about three times faster than numpy's shuffle (whose draws
go through a function pointer each), with no ``(size, n)`` array.

NumPy does not promise that a Generator's streams stay the same across versions. So before a
process first uses a kernel, :func:`pcg64_state` shuffles a few small rows both ways and
compares the rows and the final states (:func:`kernel_draws_as_numpy`); when they differ (a
numpy that draws otherwise), it logs a warning once and returns None, and the callers shuffle
with numpy itself. Either way the relabellings are uniform random permutations; the check only
keeps "a seed gives numpy's numbers".

**Medians from ranks** (:mod:`.compare`). A sample of ``n`` values sorted once (``s``,
ascending) is replaced by each value's position in that order (ties broken by position, so
the ranks are ``0 .. n-1``, each once). The ``k``-th smallest value of any subset is then
``s`` at the ``k``-th smallest rank of the subset, which a pass over a flag or count array of
``n`` cells finds without sorting: the medians equal ``numpy.median``'s (the middle value,
or ``(lo + hi) / 2`` of the two middle ones, the same floating-point operations).

**Co-location counts** (:mod:`.colocation`): the weighted nearest-neighbour pairs of each
relabelling summed per pair of labels, in the order ``numpy.bincount`` sums them.

Compiled on first use (``cache=True``).
"""

from __future__ import annotations

import logging

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic

__all__: list[str] = []

_WORD = (1 << 64) - 1
_log = logging.getLogger(__name__)
#: Result of :func:`kernel_draws_as_numpy` in this process (None: not checked yet).
_KERNEL_OK: bool | None = None


def pcg64_state(rng: np.random.Generator) -> np.ndarray | None:
    """Return the kernels' copy of a PCG64 generator's state.

    ``uint64`` array ``[state_hi, state_lo, inc_hi, inc_lo, has_uint32, uinteger]``; None
    for other bit generators, and when this numpy's ``permuted`` draws otherwise than the
    kernels (:func:`kernel_draws_as_numpy`): the caller then shuffles with numpy.
    """
    bits = rng.bit_generator
    if type(bits) is not np.random.PCG64 or not kernel_draws_as_numpy():
        return None
    return _state_of(bits)


def _state_of(bits: np.random.BitGenerator) -> np.ndarray:
    full = bits.state
    return np.array([full["state"]["state"] >> 64, full["state"]["state"] & _WORD,
                     full["state"]["inc"] >> 64, full["state"]["inc"] & _WORD,
                     full["has_uint32"], full["uinteger"]], dtype=np.uint64)


def set_pcg64_state(rng: np.random.Generator, state: np.ndarray) -> None:
    """Give ``rng`` the state a kernel advanced (from :func:`pcg64_state`)."""
    hi, lo, inc_hi, inc_lo, has_uint32, uinteger = (int(v) for v in state)
    rng.bit_generator.state = {"bit_generator": "PCG64",
                               "state": {"state": hi << 64 | lo, "inc": inc_hi << 64 | inc_lo},
                               "has_uint32": has_uint32, "uinteger": uinteger}


def kernel_draws_as_numpy() -> bool:
    """Whether the kernels' shuffles equal this numpy's ``Generator.permuted`` (cached).

    Checked once per process: rows of lengths 1 to 70 shuffled by the kernel and by
    ``permuted`` from one seed, then the generators' final states (an odd number of 32-bit
    draws leaves a buffered half). A difference is logged once as a warning.
    """
    global _KERNEL_OK
    if _KERNEL_OK is None:
        _KERNEL_OK = _same_shuffles()
        if not _KERNEL_OK:
            _log.warning("numpy %s draws Generator.permuted otherwise than cwsgeo's compiled "
                         "shuffles: shuffling with numpy (valid results, slower; a seed may "
                         "give other numbers than with another numpy)", np.__version__)
    return _KERNEL_OK


def _same_shuffles() -> bool:
    """Shuffle a few rows with the kernel and with numpy; compare rows and final states."""
    ours, theirs = np.random.default_rng(20261208), np.random.default_rng(20261208)
    state = _state_of(ours.bit_generator)
    for n in (1, 2, 3, 17, 70):
        rows = _numpy_rows(theirs, np.arange(n, dtype=np.int64), 3)
        mine = _kernel_rows(state, np.arange(n, dtype=np.int64), 3)
        if not np.array_equal(rows, mine):
            return False
    set_pcg64_state(ours, state)
    return bool(ours.bit_generator.state == theirs.bit_generator.state)


def _numpy_rows(rng: np.random.Generator, values: np.ndarray, size: int) -> np.ndarray:
    """``size`` relabellings of ``values`` as numpy draws them (the reference of the check)."""
    return rng.permuted(np.broadcast_to(values, (size, len(values))), axis=1)


@njit(cache=True)
def _kernel_rows(state, values, size):
    """``size`` relabellings of ``values`` drawn by the kernels' shuffle."""
    out = np.empty((size, len(values)), values.dtype)
    for s in range(size):
        out[s] = values
        _shuffle(out[s], state)
    return out


@njit(cache=True, inline="always")
def _middle(sorted_values, lo, hi, n):
    """Median of a sample whose order statistics ``(n - 1) // 2`` and ``n // 2`` are lo, hi."""
    if n % 2 == 1:
        return sorted_values[lo]
    return (sorted_values[lo] + sorted_values[hi]) / 2.0


# ---------------------------------------------------------------- numpy's PCG64, inline
_M_HI = np.uint64(2549297995355413924)  # PCG's 128-bit multiplier, high and low halves
_M_LO = np.uint64(4865540595714422341)
_LOW32 = np.uint64(0xFFFFFFFF)
_U1 = np.uint64(1)
_U32 = np.uint64(32)


@intrinsic
def _mulhi(typingctx, a, b):
    """High 64 bits of the 128-bit product ``a * b`` (``uint64``): one widening multiply."""
    sig = types.uint64(types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        wide = ir.IntType(128)
        product = builder.mul(builder.zext(args[0], wide), builder.zext(args[1], wide))
        return builder.trunc(builder.lshr(product, ir.Constant(wide, 64)), ir.IntType(64))

    return sig, codegen


@njit(cache=True, inline="always")
def _next64(hi, lo, inc_hi, inc_lo):
    """PCG64 (XSL RR 128/64): step the 128-bit LCG, output the rotated xor of its halves.

    Returns the new state's halves and the output.
    """
    prod_lo = lo * _M_LO
    lo2 = prod_lo + inc_lo
    carry = _U1 if lo2 < prod_lo else np.uint64(0)
    # an intrinsic: numba passes the typing context itself
    high = _mulhi(lo, _M_LO)  # type: ignore[call-arg,var-annotated]
    hi2 = high + lo * _M_HI + hi * _M_LO + inc_hi + carry
    x = hi2 ^ lo2
    rot = hi2 >> np.uint64(58)
    return hi2, lo2, (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))


@njit(cache=True, inline="always")
def _shuffle(row, state):
    """Fisher–Yates shuffle of ``row`` in place, as numpy's ``Generator.permuted`` of a row.

    Position ``i`` (from the last down to 1) swaps with ``random_interval(i)``: a 32-bit
    draw (numpy's buffered one: the low half of a 64-bit output, then its high half) masked
    to the smallest ``2**k - 1 >= i``, redrawn while above ``i``. ``state`` (see
    :func:`pcg64_state`) is read once and written back once: the loop keeps it in
    registers.
    """
    hi, lo, inc_hi, inc_lo, has32, half = (state[0], state[1], state[2], state[3],
                                           state[4], state[5])
    for i in range(len(row) - 1, 0, -1):
        top = np.uint64(i)
        mask = top
        mask |= mask >> _U1
        mask |= mask >> np.uint64(2)
        mask |= mask >> np.uint64(4)
        mask |= mask >> np.uint64(8)
        mask |= mask >> np.uint64(16)
        while True:
            if has32 != 0:
                value = half
                has32 = np.uint64(0)
            else:
                hi, lo, x = _next64(hi, lo, inc_hi, inc_lo)
                value, half, has32 = x & _LOW32, x >> _U32, _U1
            value &= mask
            if value <= top:
                break
        j = int(value)
        row[i], row[j] = row[j], row[i]
    state[0], state[1], state[4], state[5] = hi, lo, has32, half


# ---------------------------------------------------------------- permutation test
@njit(cache=True, inline="always")
def _is_extreme(row, in_a, sorted_values, n_a, threshold):
    """Whether ``|median(first n_a of row) - median(rest)| >= threshold`` (row: ranks)."""
    n = len(row)
    n_b = n - n_a
    ka_lo, ka_hi, kb_lo, kb_hi = (n_a - 1) // 2, n_a // 2, (n_b - 1) // 2, n_b // 2
    for i in range(n_a):
        in_a[row[i]] = True
    ca = cb = 0
    a_lo = a_hi = b_lo = b_hi = -1
    for r in range(n):
        if in_a[r]:
            if ca == ka_lo:
                a_lo = r
            if ca == ka_hi:
                a_hi = r
            ca += 1
        else:
            if cb == kb_lo:
                b_lo = r
            if cb == kb_hi:
                b_hi = r
            cb += 1
        if a_hi >= 0 and b_hi >= 0:
            break
    for i in range(n_a):
        in_a[row[i]] = False
    diff = (_middle(sorted_values, a_lo, a_hi, n_a)
            - _middle(sorted_values, b_lo, b_hi, n_b))
    return abs(diff) >= threshold


@njit(cache=True)
def _extremes(state, ranks, sorted_values, n_a, n_permutations, threshold):
    """Count relabellings with ``|median(first n_a) - median(rest)| >= threshold``.

    Each relabelling shuffles the pooled ranks as ``Generator.permuted`` shuffles a row of
    ``broadcast_to(pooled, (size, n))``: Fisher–Yates from the last position down, the swap
    partner of position ``i`` drawn by ``random_interval(i)`` of numpy's PCG64.

    Parameters
    ----------
    state
        ``uint64`` array ``[state_hi, state_lo, inc_hi, inc_lo, has_uint32, uinteger]`` of a
        PCG64 bit generator, advanced in place.
    ranks
        ``int64`` ranks of the pooled values, in the pooled order (``n < 2**32``).
    sorted_values
        The pooled values sorted ascending.
    n_a
        Size of the first group (``1 <= n_a < len(ranks)``).
    n_permutations
        Relabellings.
    threshold
        ``|observed| - tol``.
    """
    n = len(ranks)
    row = np.empty(n, np.int64)
    in_a = np.zeros(n, np.bool_)
    extreme = 0
    for _ in range(n_permutations):
        row[:] = ranks
        _shuffle(row, state)
        if _is_extreme(row, in_a, sorted_values, n_a, threshold):
            extreme += 1
    return extreme


@njit(cache=True, parallel=True)
def permutation_extremes(states, ranks, sorted_values, starts, n_a, n_permutations,
                         thresholds):
    """:func:`_extremes` of several samples, in parallel over the samples.

    Sample ``s`` is ``ranks[starts[s]:starts[s + 1]]`` (its values sorted:
    ``sorted_values`` over the same range), with its own generator ``states[s]`` (advanced
    in place), first group ``n_a[s]`` and ``thresholds[s]``.
    """
    out = np.zeros(len(n_a), np.int64)
    for s in prange(len(n_a)):
        lo, hi = starts[s], starts[s + 1]
        out[s] = _extremes(states[s], ranks[lo:hi], sorted_values[lo:hi], n_a[s],
                           n_permutations, thresholds[s])
    return out


@njit(cache=True)
def shuffled_extremes(rows, sorted_values, n_a, threshold):
    """:func:`_extremes` on relabellings drawn by the caller (rows of ranks)."""
    in_a = np.zeros(rows.shape[1], np.bool_)
    extreme = 0
    for k in range(rows.shape[0]):
        if _is_extreme(rows[k], in_a, sorted_values, n_a, threshold):
            extreme += 1
    return extreme


@njit(cache=True)
def resampled_medians(draws, ranks, sorted_values):
    """Median of each row of ``values[draws]``, ``draws`` a ``(size, n)`` array of indices.

    ``ranks`` and ``sorted_values`` are those of ``values`` (see the module docstring).
    """
    size, n = draws.shape
    k_lo, k_hi = (n - 1) // 2, n // 2
    counts = np.zeros(len(sorted_values), np.int64)
    out = np.empty(size)
    for i in range(size):
        for j in range(n):
            counts[ranks[draws[i, j]]] += 1
        seen = 0
        lo = hi = -1
        for r in range(len(sorted_values)):
            seen += counts[r]
            if lo < 0 and seen > k_lo:
                lo = r
            if seen > k_hi:
                hi = r
                break
        out[i] = _middle(sorted_values, lo, hi, n)
        for j in range(n):
            counts[ranks[draws[i, j]]] = 0
    return out


@njit(cache=True)
def clq_counts(state, codes, rows, cols, weights, k, slot, n_sims):
    """Weighted neighbour pairs per wanted pair of labels of ``n_sims`` relabellings.

    ``slot`` (length ``k * k``; labels in ``range(k)``) maps the cell
    ``label_a * k + label_b`` of a wanted pair of labels to its column of the result, and
    every other cell to -1. Column ``c`` of row ``s`` of the ``(n_sims, slot.max() + 1)``
    result sums ``weights[p]`` over the pairs ``p`` (in order, as ``bincount`` does) whose
    cell ``label[rows[p]] * k + label[cols[p]]`` has slot ``c``, ``label`` being the
    ``s``-th shuffle of ``codes`` (``state``: see :func:`pcg64_state`).
    """
    out = np.zeros((n_sims, slot.max() + 1))
    label = np.empty(len(codes), np.int64)
    for s in range(n_sims):
        label[:] = codes
        _shuffle(label, state)
        for p in range(len(rows)):
            c = slot[label[rows[p]] * k + label[cols[p]]]
            if c >= 0:
                out[s, c] += weights[p]
    return out
