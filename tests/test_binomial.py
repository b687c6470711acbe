"""Binomial: the course's known answers, a pmf accurate for any n, validation, sampling, plots."""

from __future__ import annotations

import copy
import math
import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from binomial_package import Binomial, _binomial_cdf

DATA = Path(__file__).parent / "data"
FAST = settings(max_examples=60, deadline=None)


@pytest.fixture
def course_binomial() -> Binomial:
    binomial = Binomial(0.4, 20)
    binomial.read_data_file(DATA / "numbers_binomial.txt")
    return binomial


def test_course_known_answers(course_binomial: Binomial) -> None:
    assert (course_binomial.calculate_mean(), round(course_binomial.calculate_stdev(), 2)) == (
        8.0,
        2.19,
    )
    assert round(course_binomial.pdf(5), 5) == 0.07465
    assert round(course_binomial.pdf(3), 5) == 0.01235
    p, n = course_binomial.replace_stats_with_data()
    assert (round(p, 3), n) == (0.615, 13)
    assert (course_binomial.p, course_binomial.n) == (p, n)
    assert round(course_binomial.pdf(5), 5) == 0.05439
    assert round(course_binomial.pdf(3), 5) == 0.00472
    assert (Binomial(0.4, 20) + Binomial(0.4, 60)).n == 80


def test_course_repr() -> None:
    assert repr(Binomial(0.4, 20)) == "mean 8.0, standard deviation 2.1908902300206643, p 0.4, n 20"
    assert repr(Binomial()) == "mean 10.0, standard deviation 2.23606797749979, p 0.5, n 20"
    total = Binomial(0.4, 20) + Binomial(0.4, 60)
    assert repr(total) == f"mean 32.0, standard deviation {math.sqrt(80 * 0.4 * 0.6)}, p 0.4, n 80"


def test_mean_and_stdev_follow_p_and_n_only_when_recalculated(course_binomial: Binomial) -> None:
    course_binomial.p = 0.5  # the course's attributes, kept: mean waits for calculate_mean()
    assert course_binomial.mean == 8.0
    assert course_binomial.calculate_mean() == 10.0
    assert course_binomial.calculate_stdev() == math.sqrt(5.0)


def test_pmf_is_pdf_and_is_exact_on_small_cases() -> None:
    binomial = Binomial(0.25, 4)
    exact = [math.comb(4, k) * 0.25**k * 0.75 ** (4 - k) for k in range(5)]
    assert binomial.pmf(range(5)) == pytest.approx(exact, rel=1e-15)
    assert binomial.pdf(range(5)).tolist() == binomial.pmf(range(5)).tolist()
    assert type(binomial.pmf(2)) is float
    assert type(binomial.pmf(np.int64(2))) is float
    assert binomial.pmf(np.array([[0, 1], [2, 3]])).shape == (2, 2)
    assert binomial.pmf(2.0) == binomial.pmf(2)


def test_point_masses_are_exact() -> None:
    assert Binomial(0, 7).pmf(range(8)).tolist() == [1.0] + [0.0] * 7
    assert Binomial(1, 7).pmf(range(8)).tolist() == [0.0] * 7 + [1.0]
    assert Binomial(0.3, 0).pmf(0) == 1.0
    assert Binomial(0, 7).cdf([-1, 0, 6, 7]).tolist() == [0.0, 1.0, 1.0, 1.0]
    assert Binomial(1, 7).cdf([-1, 0, 6, 7]).tolist() == [0.0, 0.0, 0.0, 1.0]


def test_the_course_overflow_is_gone() -> None:
    middle = Binomial(0.5, 10**6).pdf(500_000)
    # sqrt(2 / (pi n)) (1 - 1/(4n) + ...): the central term's own asymptotic expansion
    assert middle == pytest.approx(
        math.sqrt(2 / (math.pi * 10**6)) * (1 - 1 / (4 * 10**6)), rel=1e-12
    )
    assert Binomial(0.5, 1030).pmf(515) > 0


def test_the_whole_pmf_of_ten_million_trials_sums_to_one() -> None:
    # Its speed is measured in benchmarks/, not asserted here (no timed assertions in tests).
    binomial = Binomial(0.3, 10**7)
    values = binomial.pmf(np.arange(10**7 + 1, dtype=np.float64))
    assert values.sum() == pytest.approx(1.0, abs=1e-12)
    assert int(np.argmax(values)) == 3 * 10**6
    assert values[0] == 0.0  # far below the smallest float: exactly 0, not garbage


@pytest.mark.parametrize("p", [0.5, 0.4, 0.3, 0.123456789, 0.001, 0.999, 1e-7])
@pytest.mark.parametrize("n", [1, 10, 137, 1000])
def test_pmf_matches_scipy_to_1e_12_where_scipy_is_exact(n: int, p: float) -> None:
    stats = pytest.importorskip("scipy.stats")
    k = np.arange(n + 1, dtype=np.float64)
    ours, theirs = Binomial(p, n).pmf(k), stats.binom.pmf(k, n, p)
    visible = theirs > 1e-300
    np.testing.assert_allclose(ours[visible], theirs[visible], rtol=1e-12, atol=0)
    assert np.all(ours[~visible] < 1e-290)


@pytest.mark.parametrize("p", [0.5, 0.4, 0.123456789, 0.001])
@pytest.mark.parametrize("n", [10**5, 10**7])
def test_pmf_matches_scipy_for_large_n_to_scipys_own_accuracy(n: int, p: float) -> None:
    # Measured against 40-digit arithmetic, scipy 1.17 itself is off by up to 3e-11 at
    # n = 10**7 (ours by at most 5e-13), so 1e-10 is the fair bound against scipy here;
    # the 1e-12 claim is checked against exact values below.
    stats = pytest.importorskip("scipy.stats")
    reach = 40 * math.sqrt(n * p * (1 - p))  # every value above 1e-300, and some beyond
    k = np.arange(max(0, math.floor(n * p - reach)), min(n, math.ceil(n * p + reach)) + 1)
    ours, theirs = Binomial(p, n).pmf(k), stats.binom.pmf(k, n, p)
    visible = theirs > 1e-300
    assert not visible[0] or k[0] == 0
    np.testing.assert_allclose(ours[visible], theirs[visible], rtol=1e-10, atol=0)


def _exact_pmf(k: int, n: int, p: float) -> float:
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(40):
        return float(_exact_pmf_mp(k, n, mpmath.mpf(p)))  # mpf(p): the float p, exactly


def _exact_pmf_mp(k: int, n: int, p_exact: Any) -> Any:
    """The pmf in the current mpmath precision, from log-gamma: no cancellation at any n."""
    mpmath = pytest.importorskip("mpmath")
    return mpmath.exp(
        mpmath.loggamma(n + 1)
        - mpmath.loggamma(k + 1)
        - mpmath.loggamma(n - k + 1)
        + (k * mpmath.log(p_exact) if k else 0)
        + ((n - k) * mpmath.log1p(-p_exact) if n - k else 0)
    )


@pytest.mark.parametrize("p", [0.5, 0.4, 0.123456789, 0.001, 0.999])
@pytest.mark.parametrize("n", [10**3, 10**5, 10**7, 10**12])
def test_pmf_is_exact_to_1e_12_against_40_digit_arithmetic(n: int, p: float) -> None:
    pytest.importorskip("mpmath")
    sd = math.sqrt(n * p * (1 - p))
    offsets = np.linspace(-37, 37, 41)  # out to where the pmf nears 1e-300
    k = np.unique(np.clip(np.round(n * p + offsets * sd), 0, n))
    ours = Binomial(p, n).pmf(k)
    for value, kk in zip(ours.tolist(), k.tolist(), strict=True):
        exact = _exact_pmf(int(kk), n, p)
        if exact > 1e-300:
            assert value == pytest.approx(exact, rel=1e-12), (n, p, kk)


@pytest.mark.parametrize(("n", "p"), [(20, 0.4), (1000, 0.3), (10**5, 0.123456789)])
def test_cdf_matches_scipy(n: int, p: float) -> None:
    stats = pytest.importorskip("scipy.stats")
    k = np.arange(-2, n + 3, dtype=np.float64)
    ours, theirs = Binomial(p, n).cdf(k), stats.binom.cdf(k, n, p)
    # lower tail relative to the cdf; upper tail relative to the survival function
    lower = (theirs > 1e-300) & (theirs < 0.5)
    np.testing.assert_allclose(ours[lower], theirs[lower], rtol=1e-10)
    upper = theirs >= 0.5
    np.testing.assert_allclose(
        1 - ours[upper], stats.binom.sf(k[upper], n, p), rtol=1e-9, atol=1e-16
    )


def test_cdf_deep_tail_is_exact_where_scipy_is_not() -> None:
    # P(X <= 440) for Binomial(2000, 0.3): summed exactly from the integers below
    n, p, k = 2000, 0.3, 440
    exact = math.fsum(_exact_pmf(j, n, p) for j in range(k + 1))
    assert Binomial(p, n).cdf(k) == pytest.approx(exact, rel=1e-12)


def test_cdf_handles_any_real_k_and_refuses_impossible_widths() -> None:
    binomial = Binomial(0.5, 4)
    assert binomial.cdf([-math.inf, -0.5, 1.5, 4, math.inf]).tolist() == [
        0.0,
        0.0,
        binomial.cdf(1),
        1.0,
        1.0,
    ]
    with pytest.raises(ValueError, match="k must not be NaN"):
        binomial.cdf(math.nan)
    huge = Binomial(0.5, 10**15)
    assert huge.cdf(-1) == 0.0
    assert huge.cdf(10**15) == 1.0


def test_cdf_of_the_widest_binomials_keeps_the_symmetry_exactly() -> None:
    # For p = 1/2 and even n, P(X <= n/2) = 1/2 + pmf(n/2)/2: a known answer at n = 10**15,
    # where the window holds 1.2e9 values and the cdf takes its Euler-Maclaurin path.
    n = 10**15
    binomial = Binomial(0.5, n)
    middle = binomial.pmf(n // 2)
    below, at = binomial.cdf([n // 2 - 1, n // 2]).tolist()
    assert at == pytest.approx(0.5 + middle / 2, rel=1e-14)
    assert below == pytest.approx(0.5 - middle / 2, rel=1e-14)


@pytest.mark.parametrize("p", [0.5, 0.999])
def test_cdf_past_the_summation_limit_agrees_with_the_exact_sum(
    p: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    # sd = 10**4 here: the sum of every pmf value is still affordable to compare with,
    # and the corrections left out of Euler-Maclaurin are below 3e-13 from that sd on.
    n = round(10**8 / (p * (1 - p)))
    sd = math.sqrt(n * p * (1 - p))
    k = np.array([round(n * p + z * sd) for z in (-37, -20, -5, -1, -0.1, 0, 0.3, 1, 5, 20)])
    summed = Binomial(p, n).cdf(k)
    monkeypatch.setattr(_binomial_cdf, "MAX_TERMS", 2**16)  # force the smooth path
    smooth = Binomial(p, n).cdf(k)
    visible = summed > 1e-300
    np.testing.assert_allclose(smooth[visible], summed[visible], rtol=1e-12, atol=0)
    lower = summed < 0.5  # the upper tail keeps its relative accuracy too
    np.testing.assert_allclose(1 - smooth[~lower], 1 - summed[~lower], rtol=1e-11, atol=1e-17)


@pytest.mark.parametrize(
    ("k", "message"),
    [
        (21, r"k must be whole numbers in 0\.\.20 \(n\), got 21"),
        (-1, r"got -1"),
        (2.5, r"got 2\.5"),
        ([1, 2, math.inf], r"got inf"),
        (math.nan, "k must not be NaN"),
    ],
)
def test_pmf_refuses_impossible_k(k: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Binomial(0.4, 20).pmf(k)  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((1.5, 20), ValueError, r"prob must be a probability in \[0, 1\], got 1\.5"),
        ((-0.1, 20), ValueError, r"prob must be a probability in \[0, 1\]"),
        ((math.nan, 20), ValueError, "prob must be a number, not NaN"),
        ((0.5, -1), ValueError, r"size must be a whole number in 0\.\.1000000000000000, got -1"),
        ((0.5, 2.5), ValueError, r"size must be a whole number in 0\.\.1000000000000000, got 2\.5"),
        ((0.5, 10**16), ValueError, "size must be a whole number"),
        ((0.5, True), TypeError, "size must be a real number .* not bool"),
        (("0.5", 20), TypeError, "prob must be a real number"),
    ],
)
def test_constructor_refuses_bad_parameters(
    args: tuple[object, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        Binomial(*args)  # type: ignore[arg-type]


def test_assigned_parameters_are_checked_under_their_attribute_names() -> None:
    binomial = Binomial()
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\], got 2"):
        binomial.p = 2
    with pytest.raises(ValueError, match=r"n must be a whole number in 0\.\.1000000000000000"):
        binomial.n = -5
    assert (binomial.p, binomial.n) == (0.5, 20)


def test_integral_float_n_is_stored_as_an_int() -> None:
    binomial = Binomial(0.5, 20.0)  # type: ignore[arg-type]
    assert type(binomial.n) is int
    assert repr(binomial).endswith("n 20")


def test_adding_binomials_with_different_p_raises_even_under_optimisation() -> None:
    with pytest.raises(ValueError, match=r"different p \(0\.4 and 0\.5\)"):
        _ = Binomial(0.4, 20) + Binomial(0.5, 20)
    with pytest.raises(TypeError, match="unsupported operand"):
        _ = Binomial() + 1
    with pytest.raises(ValueError, match="more than the 1000000000000000 allowed"):
        _ = Binomial(0.5, 10**15) + Binomial(0.5, 1)


def test_replace_stats_with_data_needs_zero_one_outcomes() -> None:
    binomial = Binomial()
    with pytest.raises(ValueError, match="data is empty"):
        binomial.replace_stats_with_data()
    binomial.data = [0, 1, 2]
    with pytest.raises(
        ValueError, match=r"data\[2\] is 2.0: binomial data must be outcomes 0 or 1"
    ):
        binomial.replace_stats_with_data()
    assert (binomial.p, binomial.n) == (0.5, 20)  # unchanged on error
    binomial.data = [0.0, 1.0, 1.0, 1.0]
    assert binomial.replace_stats_with_data() == (0.75, 4)


def test_sample_is_reproducible_with_the_right_moments() -> None:
    binomial = Binomial(0.3, 50)
    draws = binomial.sample(20_000, seed=3)
    assert draws.dtype == np.int64
    np.testing.assert_array_equal(draws, binomial.sample(20_000, seed=3))
    assert abs(draws.mean() - 15) < 4 * math.sqrt(50 * 0.3 * 0.7 / 20_000)
    assert draws.min() >= 0
    assert draws.max() <= 50
    assert Binomial(1, 9).sample(3).tolist() == [9, 9, 9]


def test_from_data_and_fit() -> None:
    fitted = Binomial.from_data([0, 1, 1, 1])
    assert (fitted.p, fitted.n, fitted.data) == (0.75, 4, [0, 1, 1, 1])
    assert Binomial.fit([1, 0]) == Binomial(0.5, 2)


# Property tests -----------------------------------------------------------------------

probabilities = st.floats(min_value=0, max_value=1)
small_n = st.integers(min_value=0, max_value=400)


@FAST
@given(probabilities, small_n)
def test_pmf_sums_to_one_with_the_formula_mean_and_variance(p: float, n: int) -> None:
    binomial = Binomial(p, n)
    k = np.arange(n + 1, dtype=np.float64)
    mass = binomial.pmf(k)
    assert math.fsum(mass) == pytest.approx(1.0, abs=1e-13)
    mean = math.fsum(k * mass)
    assert mean == pytest.approx(n * p, rel=1e-12, abs=1e-12)
    variance = math.fsum((k - mean) ** 2 * mass)
    assert variance == pytest.approx(n * p * (1 - p), rel=1e-10, abs=1e-12)
    assert binomial.calculate_mean() == n * p
    assert binomial.calculate_stdev() ** 2 == pytest.approx(variance, rel=1e-10, abs=1e-12)


@FAST
@given(probabilities, st.integers(0, 60), st.integers(0, 60))
def test_sum_of_binomials_is_the_convolution(p: float, n1: int, n2: int) -> None:
    first, second = Binomial(p, n1), Binomial(p, n2)
    total = first + second
    assert (total.p, total.n) == (p, n1 + n2)
    convolution = np.convolve(
        first.pmf(np.arange(n1 + 1, dtype=np.float64)),
        second.pmf(np.arange(n2 + 1, dtype=np.float64)),
    )
    np.testing.assert_allclose(
        total.pmf(np.arange(n1 + n2 + 1, dtype=np.float64)), convolution, rtol=1e-9, atol=1e-15
    )


@FAST
@given(probabilities, small_n, st.floats(min_value=-5, max_value=405))
def test_cdf_is_the_running_sum_of_the_pmf(p: float, n: int, x: float) -> None:
    binomial = Binomial(p, n)
    upto = min(max(math.floor(x), -1), n)
    expected = math.fsum(binomial.pmf(np.arange(upto + 1, dtype=np.float64)))
    assert binomial.cdf(x) == pytest.approx(expected, rel=1e-12, abs=1e-15)


@FAST
@given(probabilities, st.integers(0, 10**15), st.lists(st.sampled_from([0, 1]), max_size=5))
def test_dict_round_trip(p: float, n: int, data: list[int]) -> None:
    binomial = Binomial(p, n)
    binomial.data = data
    restored = Binomial.from_dict(binomial.to_dict())
    assert restored == binomial
    assert restored.to_dict() == binomial.to_dict()
    assert repr(restored) == repr(binomial)


# Counts with a known n -------------------------------------------------------------------


def test_from_counts_fits_p_to_counts_out_of_a_known_n() -> None:
    counts = Binomial(0.4, 20).sample(2000, seed=11)
    fitted = Binomial.from_counts(counts, 20)
    assert fitted.n == 20
    assert fitted.p == int(counts.sum()) / (2000 * 20)  # correctly rounded: exact int division
    assert abs(fitted.p - 0.4) < 4 * math.sqrt(0.4 * 0.6 / (2000 * 20))
    assert fitted.data == counts.tolist()
    assert (fitted.mean, fitted.stdev) == (fitted.p * 20, math.sqrt(20 * fitted.p * (1 - fitted.p)))
    assert Binomial.from_counts([0, 0], 5) == Binomial(0.0, 5)
    assert Binomial.from_counts([5, 5.0], 5.0) == Binomial(1.0, 5)  # type: ignore[arg-type]


def test_from_counts_needs_counts_in_0_to_n_and_a_whole_n() -> None:
    with pytest.raises(
        ValueError,
        match=r"counts\[1\] is 21: a count must be a whole number of successes in 0\.\.20",
    ):
        Binomial.from_counts([3, 21], 20)
    with pytest.raises(ValueError, match=r"counts\[0\] is 2\.5"):
        Binomial.from_counts([2.5], 20)
    with pytest.raises(ValueError, match=r"counts\[0\] is -1"):
        Binomial.from_counts([-1], 20)
    with pytest.raises(ValueError, match="counts is empty"):
        Binomial.from_counts([], 20)
    with pytest.raises(ValueError, match=r"n must be a whole number in 1\.\."):
        Binomial.from_counts([0], 0)
    with pytest.raises(TypeError, match="n must be a real number"):
        Binomial.from_counts([1], "20")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"counts\[0\] must be a real number"):
        Binomial.from_counts(["1"], 20)  # type: ignore[list-item]


def test_from_data_of_counts_names_the_way_to_fit_them() -> None:
    with pytest.raises(
        ValueError,
        match=r"binomial data must be outcomes 0 or 1; for counts of successes out of n trials "
        r"each, use Binomial\.from_counts\(counts, n\)$",
    ):
        Binomial.from_data(Binomial(0.4, 20).sample(10, seed=1))


# Data that contradict themselves ---------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"mean": -5}, r"mean -5 contradicts p 0\.4 and n 20 \(n \* p = 8\.0\)"),
        ({"mean": 8.1}, r"mean 8\.1 contradicts"),
        (
            {"stdev": 0},
            r"stdev 0 contradicts p 0\.4 and n 20 \(sqrt\(n \* p \* \(1 - p\)\) = 2\.19",
        ),
        ({"mean": 8, "stdev": 3}, "stdev 3 contradicts"),
    ],
)
def test_from_dict_refuses_a_mean_or_stdev_that_contradicts_p_and_n(
    extra: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=rf"^Binomial\.from_dict: {message}"):
        Binomial.from_dict({"type": "Binomial", "p": 0.4, "n": 20, **extra})


def test_from_dict_takes_a_mean_and_stdev_that_agree_with_p_and_n() -> None:
    rounded = {"type": "Binomial", "p": 0.4, "n": 20, "mean": 8, "stdev": 2.1908902300}
    restored = Binomial.from_dict(rounded)
    assert (restored.mean, restored.stdev) == (8.0, math.sqrt(20 * 0.4 * 0.6))  # recalculated
    assert repr(restored) == repr(Binomial(0.4, 20))


@pytest.mark.parametrize(
    "unordered",
    [{1, 0}, frozenset({1}), {0: "a", 1: "b"}, {0: 1}.keys(), {0: 1}.values()],
    ids=["set", "frozenset", "dict", "keys", "values"],
)
def test_data_without_an_order_is_refused(unordered: object) -> None:
    with pytest.raises(TypeError, match=r"data must be in order \(a list, tuple or array\)"):
        Binomial.from_data(unordered)  # type: ignore[arg-type]
    binomial = Binomial()
    with pytest.raises(TypeError, match="data must be in order"):
        binomial.data = unordered
    assert binomial.data == []


def test_ordered_iterables_are_still_data() -> None:
    assert Binomial.from_data(iter([0, 1, 1])).data == [0, 1, 1]
    assert Binomial.from_data(range(2)).data == [0, 1]
    assert Binomial.from_data(np.array([1, 0, 1])).p == 2 / 3


def test_a_masked_array_is_refused_rather_than_its_mask_ignored() -> None:
    masked = np.ma.array([0, 1, 7], mask=[False, False, True])
    with pytest.raises(TypeError, match=r"data must not be a masked array .*compressed\(\)"):
        Binomial.from_data(masked)
    assert Binomial.from_data(masked.compressed()).p == 0.5
    with pytest.raises(TypeError, match=r"k must not be a masked array"):
        Binomial(0.4, 20).pmf(np.ma.array([1, 99], mask=[False, True]))


def test_seed_true_is_refused_not_taken_as_seed_1() -> None:
    for seed in (True, False, np.bool_(True)):
        with pytest.raises(TypeError, match="seed must be None, a non-negative int"):
            Binomial().sample(3, seed=seed)  # type: ignore[arg-type]
    assert Binomial().sample(3, seed=1).tolist() == Binomial().sample(3, seed=1).tolist()


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_binomial_pickles_with_every_protocol(protocol: int) -> None:
    binomial = Binomial(0.3, 10**12)
    binomial.data = [0, 1, 1]
    binomial.p = 0.5  # mean is left stale, as the course allows: pickling keeps it so
    restored = pickle.loads(pickle.dumps(binomial, protocol=protocol))
    assert type(restored) is Binomial
    assert repr(restored) == repr(binomial)
    assert restored.data == [0, 1, 1]
    with pytest.raises(TypeError):
        restored.data.append("x")  # still validated after the round trip
    assert copy.deepcopy(binomial).to_dict() == binomial.to_dict()


# Exact to 1e-12 over the whole parameter space, against 40-digit arithmetic --------------

P_NEAR_1 = 0.999999999999  # 1 - 1e-12, the largest p the accuracy goal covers
EXACT = settings(max_examples=80, deadline=None, derandomize=True)


def _exact_cdf(k: int, n: int, p: float) -> float:
    """``P(X <= k)`` to 40 digits: the exact pmf at the edge, then neighbour ratios outward."""
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(40):
        p_exact = mpmath.mpf(p)
        q_exact = 1 - p_exact
        below = k < n * p  # sum the smaller tail, then take the complement if needed
        j = k if below else k + 1
        term = _exact_pmf_mp(j, n, p_exact) if 0 <= j <= n else mpmath.mpf(0)
        total = term
        while term > total * mpmath.mpf(10) ** -30 and 0 < j < n:
            if below:
                term *= j / (n - j + 1) * q_exact / p_exact
                j -= 1
            else:
                term *= (n - j) / (j + 1) * p_exact / q_exact
                j += 1
            total += term
        return float(total if below else 1 - total)


def _log_uniform_p() -> st.SearchStrategy[float]:
    tiny = st.floats(-300, 0).map(lambda exponent: 10.0**exponent)
    near_1 = st.floats(-12, -0.3).map(lambda exponent: 1.0 - 10.0**exponent)
    anywhere = st.floats(1e-300, P_NEAR_1)
    return (tiny | near_1 | anywhere).filter(lambda p: 1e-300 <= p <= P_NEAR_1)


def _log_uniform_n() -> st.SearchStrategy[int]:
    return st.floats(0, 15).map(lambda exponent: int(10.0**exponent)) | st.integers(1, 10**15)


def _k_near(n: int, p: float, where: float, edge: int) -> int:
    """A k ``where`` standard deviations from the mean, or an edge (0, 1, n - 1, n)."""
    if edge >= 0:
        return [0, 1, n - 1, n][edge] if n > 1 else edge % 2 * n
    sd = math.sqrt(n * p * (1 - p))
    return min(n, max(0, round(n * p + where * sd)))


@EXACT
@given(_log_uniform_p(), _log_uniform_n(), st.floats(-40, 40), st.integers(-4, 3))
@example(P_NEAR_1, 10**12, 0.0, 2)  # the reported case: k = n - 1
@example(P_NEAR_1, 10**15, -3.0, -1)
@example(P_NEAR_1, 24, 0.0, 0)  # k = 0 at p near 1: (1e-12)**24
@example(0.999999999, 10**9, 0.0, 2)
@example(0.999999999, 10**9, -5.0, -1)
@example(1e-300, 10**15, 0.0, 0)  # p at the bottom of the range
@example(1e-300, 10**15, 0.0, 1)
@example(1e-12, 10**15, 10.0, -1)  # the mirror of p near 1
@example(0.5, 10**15, 37.0, -1)
@example(0.3, 1, 0.0, 3)  # k = n, n = 1
@example(0.9, 1000, 0.0, 3)
def test_pmf_is_within_1e_12_of_40_digit_arithmetic_everywhere(
    p: float, n: int, where: float, edge: int
) -> None:
    k = _k_near(n, p, where, edge)
    exact = _exact_pmf(k, n, p)
    assume(exact > 1e-300)
    binomial = Binomial(p, n)
    assert binomial.pmf(k) == pytest.approx(exact, rel=1e-12, abs=0)
    table = binomial.pmf([k, k])  # the array path (a table of the whole pmf for small n)
    assert table[0] == pytest.approx(exact, rel=1e-12, abs=0)


@EXACT
@given(_log_uniform_p(), _log_uniform_n(), st.floats(-40, 40), st.integers(-4, 3))
@example(P_NEAR_1, 10**12, 0.0, 2)
@example(P_NEAR_1, 10**12, -4.0, -1)
@example(P_NEAR_1, 10**15, -30.0, -1)
@example(0.999999999, 10**9, -8.0, -1)
@example(1e-300, 10**15, 0.0, 0)
@example(0.4, 20, 0.0, 3)
def test_cdf_is_within_1e_12_of_40_digit_arithmetic_where_it_answers(
    p: float, n: int, where: float, edge: int
) -> None:
    # The exact sum has to walk the values one by one: keep to sd <= 300 for its sake.
    assume(n * p * (1 - p) <= 9e4)
    k = _k_near(n, p, where, edge)
    exact = _exact_cdf(k, n, p)
    assume(exact > 1e-300)
    assert Binomial(p, n).cdf(k) == pytest.approx(exact, rel=1e-12, abs=0)


def test_the_reported_value_near_p_1() -> None:
    assert Binomial(P_NEAR_1, 10**12).pmf(10**12 - 1) == pytest.approx(
        0.36787944108161026, rel=1e-15
    )


# Subnormal p -----------------------------------------------------------------------------


@pytest.mark.parametrize("p", [1e-310, 5e-324, 1e-320, 2.2250738585072014e-308])
def test_subnormal_p_gives_the_same_pmf_on_the_scalar_and_array_paths(p: float) -> None:
    binomial = Binomial(p, 20)
    exact = [_exact_pmf(k, 20, p) for k in range(3)]
    scalars = [binomial.pmf(k) for k in range(3)]
    arrays = binomial.pmf([0, 1, 2]).tolist()
    assert scalars[0] == arrays[0] == 1.0
    # a subnormal result has fewer digits: compare to its own spacing (2**-1074)
    assert scalars == pytest.approx(exact, rel=1e-12, abs=2 * 5e-324)
    assert arrays == pytest.approx(exact, rel=1e-12, abs=2 * 5e-324)
    assert scalars[1] > 0 or exact[1] < 5e-324


def test_subnormal_p_samples_and_sums_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Binomial(1e-320, 20).sample(5, seed=0).tolist() == [0] * 5
        assert Binomial(1e-310, 10**15).sample(3, seed=0).tolist() == [0] * 3
        assert Binomial(1e-310, 20).cdf([0, 1, 20]).tolist() == [1.0, 1.0, 1.0]
        assert Binomial(1e-320, 20).pmf(1) > 0
