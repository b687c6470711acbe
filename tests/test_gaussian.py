"""Gaussian: the course's known answers, then what the course lacked (arrays, cdf, sampling...)."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from binomial_package import Gaussian

DATA = Path(__file__).parent / "data"
FAST = settings(max_examples=60, deadline=None)


@pytest.fixture
def course_gaussian() -> Gaussian:
    gaussian = Gaussian(25, 2)
    gaussian.read_data_file(DATA / "numbers.txt")
    return gaussian


def test_course_known_answers(course_gaussian: Gaussian) -> None:
    assert round(Gaussian(25, 2).pdf(25), 5) == 0.19947
    assert round(course_gaussian.calculate_mean(), 2) == 78.09
    assert round(course_gaussian.calculate_stdev(), 2) == 92.87
    assert round(course_gaussian.calculate_stdev(sample=False), 2) == 88.55
    course_gaussian.calculate_mean()
    course_gaussian.calculate_stdev()
    assert round(course_gaussian.pdf(75), 5) == 0.00429


def test_course_sum_and_repr() -> None:
    total = Gaussian(25, 3) + Gaussian(30, 4)
    assert (total.mean, total.stdev) == (55, 5.0)
    assert repr(total) == "mean 55, standard deviation 5.0"
    assert repr(Gaussian()) == "mean 0, standard deviation 1"


def test_statistics_agree_with_the_standard_library(course_gaussian: Gaussian) -> None:
    numbers = course_gaussian.data
    assert course_gaussian.calculate_mean() == statistics.fmean(numbers)
    assert course_gaussian.calculate_stdev() == pytest.approx(statistics.stdev(numbers), rel=1e-15)
    assert course_gaussian.calculate_stdev(False) == pytest.approx(
        statistics.pstdev(numbers), rel=1e-15
    )


def test_calculate_stdev_also_sets_the_mean_as_the_course_did() -> None:
    gaussian = Gaussian(0, 1)
    gaussian.data = [1, 2, 3]
    gaussian.calculate_stdev()
    assert gaussian.mean == 2.0


def test_statistics_of_too_little_data_raise() -> None:
    gaussian = Gaussian()
    with pytest.raises(ValueError, match="data is empty: a mean needs at least 1 value"):
        gaussian.calculate_mean()
    gaussian.data = [4]
    with pytest.raises(ValueError, match="only 1 value: a sample standard deviation needs"):
        gaussian.calculate_stdev()
    assert gaussian.calculate_stdev(sample=False) == 0.0
    with pytest.raises(TypeError, match="sample must be True or False"):
        gaussian.calculate_stdev("no")  # type: ignore[arg-type]


def test_pdf_and_cdf_take_scalars_and_arrays_like_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    gaussian = Gaussian(3, 1.5)
    grid = np.linspace(-10, 16, 301).reshape(7, 43)
    assert gaussian.pdf(grid).shape == (7, 43)
    np.testing.assert_allclose(gaussian.pdf(grid), stats.norm.pdf(grid, 3, 1.5), rtol=1e-14)
    np.testing.assert_allclose(gaussian.cdf(grid), stats.norm.cdf(grid, 3, 1.5), rtol=1e-13)
    assert type(gaussian.pdf(2)) is float
    assert type(gaussian.cdf(np.float32(2))) is float
    assert gaussian.pdf([1, 2]).tolist() == [gaussian.pdf(1), gaussian.pdf(2)]
    assert gaussian.cdf(np.array(2.0)).shape == ()
    assert gaussian.pdf([]).shape == (0,)


def test_far_tails_are_exact_zeros_and_ones() -> None:
    gaussian = Gaussian(0, 1)
    assert gaussian.pdf([math.inf, -math.inf]).tolist() == [0.0, 0.0]
    assert gaussian.cdf([-math.inf, math.inf, -40, 40]).tolist() == [0.0, 1.0, 0.0, 1.0]
    assert gaussian.cdf(-30) == pytest.approx(4.906713927148187e-198, rel=1e-13)


def test_huge_values_do_not_overflow_to_wrong_answers() -> None:
    wide = Gaussian(-1e308, 1e308)
    assert wide.cdf(1e308) == pytest.approx(0.9772498680518208, rel=1e-14)  # z = 2
    assert wide.pdf(1e308) == pytest.approx(math.exp(-2) / (1e308 * math.sqrt(2 * math.pi)))


def test_a_point_mass_has_no_pdf_or_cdf() -> None:
    point = Gaussian(3, 0)
    with pytest.raises(ValueError, match="not defined for a Gaussian with stdev 0"):
        point.pdf(3)
    with pytest.raises(ValueError, match="not defined for a Gaussian with stdev 0"):
        point.cdf(3)
    assert point.sample(3, seed=0).tolist() == [3.0, 3.0, 3.0]


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (float("nan"), ValueError, "x must not be NaN"),
        ([0.0, float("nan")], ValueError, "x must not contain NaN"),
        ("1", TypeError, "x must be a real number or an array of them, not str"),
        (True, TypeError, "not bool"),
        (1j, TypeError, "not complex"),
        (np.array([1 + 0j]), TypeError, "x must hold real numbers"),
        (np.array(["a"]), TypeError, "x must hold real numbers"),
        ([[1, 2], [3]], ValueError, "rectangular"),
    ],
)
def test_pdf_refuses_what_is_not_a_real_number(
    value: object, error: type[Exception], message: str
) -> None:
    for method in (Gaussian().pdf, Gaussian().cdf):
        with pytest.raises(error, match=message):
            method(value)  # type: ignore[call-overload]


def test_sample_is_reproducible_and_has_the_right_moments() -> None:
    gaussian = Gaussian(10, 2)
    draws = gaussian.sample(20_000, seed=7)
    assert draws.dtype == np.float64
    assert draws.shape == (20_000,)
    np.testing.assert_array_equal(draws, gaussian.sample(20_000, seed=7))
    np.testing.assert_array_equal(draws, gaussian.sample(20_000, seed=np.random.default_rng(7)))
    assert abs(draws.mean() - 10) < 4 * 2 / math.sqrt(20_000)
    assert abs(draws.std() - 2) < 0.05
    assert gaussian.sample(0).shape == (0,)
    with pytest.raises(ValueError, match="size must be a whole number"):
        gaussian.sample(-1)
    with pytest.raises(ValueError, match=r"size must be a whole number in 0\.\.1000000000, got"):
        gaussian.sample(10**10)
    with pytest.raises(ValueError, match="seed must be None, a non-negative int"):
        gaussian.sample(3, seed=-5)
    with pytest.raises(TypeError, match="size must be a real number"):
        gaussian.sample("3")  # type: ignore[arg-type]


def test_from_data_and_fit_keep_the_data() -> None:
    numbers = [1.0, 2.0, 3.0, 4.0]
    fitted = Gaussian.from_data(numbers)
    assert (fitted.mean, fitted.stdev) == (2.5, statistics.stdev(numbers))
    assert fitted.data == numbers
    assert fitted.data is not numbers
    assert Gaussian.fit(numbers, sample=False).stdev == statistics.pstdev(numbers)
    with pytest.raises(ValueError, match="data is empty"):
        Gaussian.from_data([])


def test_adding_anything_but_a_gaussian_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="unsupported operand"):
        _ = Gaussian() + 1


# Property tests -----------------------------------------------------------------------

moderate = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
spread = st.floats(min_value=1e-3, max_value=1e6)


@FAST
@given(moderate, spread, moderate, spread)
def test_sum_adds_means_and_variances(mu1: float, s1: float, mu2: float, s2: float) -> None:
    total = Gaussian(mu1, s1) + Gaussian(mu2, s2)
    assert total.mean == mu1 + mu2
    assert total.stdev**2 == pytest.approx(s1**2 + s2**2, rel=1e-14)
    assert total == Gaussian(mu2, s2) + Gaussian(mu1, s1)


@FAST
@given(st.lists(moderate, min_size=2, max_size=50))
def test_statistics_match_the_standard_library(values: list[float]) -> None:
    gaussian = Gaussian.from_data(values)
    assert gaussian.mean == pytest.approx(statistics.fmean(values), rel=1e-12, abs=1e-9)
    assert gaussian.stdev == pytest.approx(statistics.stdev(values), rel=1e-9, abs=1e-9)


@FAST
@given(moderate, spread, moderate)
def test_pdf_is_the_derivative_of_the_cdf(mu: float, sigma: float, offset: float) -> None:
    gaussian = Gaussian(mu, sigma)
    x = mu + (offset / 1e6) * 3 * sigma
    step = sigma * 1e-4
    # Divide by the distance between the points as stored: far from zero, x + step and
    # x - step round to the nearest double, which alone can shift the slope by 1e-5.
    low, high = x - step, x + step
    slope = (gaussian.cdf(high) - gaussian.cdf(low)) / (high - low)
    assert slope == pytest.approx(gaussian.pdf((low + high) / 2), rel=1e-5, abs=1e-12 / sigma)


@FAST
@given(moderate, st.floats(min_value=0, max_value=1e6), st.lists(moderate, max_size=5))
def test_dict_round_trip(mu: float, sigma: float, data: list[float]) -> None:
    gaussian = Gaussian(mu, sigma)
    gaussian.data = data
    restored = Gaussian.from_dict(gaussian.to_dict())
    assert restored == gaussian
    assert restored.to_dict() == gaussian.to_dict()
