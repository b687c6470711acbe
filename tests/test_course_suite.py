"""The course's own checks, as known answers: every test of its ``distributions`` unittest file.

The course shipped a unittest file (``TestGaussianClass`` and ``TestBinomialClass``) that
reads ``numbers.txt`` and ``numbers_binomial.txt`` and checks the same calls and numbers
as below. A drop-in must pass all of them as the course called them: ``calculate_stdev(0)``
for the population standard deviation included, since the course passed an int as the flag.
The files in ``tests/data`` hold the course's numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from binomial_package import Binomial, Gaussian

DATA = Path(__file__).parent / "data"
COURSE_NUMBERS = [1, 3, 99, 100, 120, 32, 330, 23, 76, 44, 31]
COURSE_OUTCOMES = [0, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1, 0]


# The course opened its files by bare name, from the folder the tests ran in.


@pytest.fixture
def gaussian(monkeypatch: pytest.MonkeyPatch) -> Gaussian:
    monkeypatch.chdir(DATA)
    distribution = Gaussian(25, 2)
    distribution.read_data_file("numbers.txt")
    return distribution


@pytest.fixture
def binomial(monkeypatch: pytest.MonkeyPatch) -> Binomial:
    monkeypatch.chdir(DATA)
    distribution = Binomial(0.4, 20)
    distribution.read_data_file("numbers_binomial.txt")
    return distribution


class TestGaussianAsTheCourseTestedIt:
    def test_initialization(self, gaussian: Gaussian) -> None:
        assert (gaussian.mean, gaussian.stdev) == (25, 2)

    def test_readdata(self, gaussian: Gaussian) -> None:
        assert gaussian.data == COURSE_NUMBERS

    def test_meancalculation(self, gaussian: Gaussian) -> None:
        assert gaussian.calculate_mean() == sum(gaussian.data) / float(len(gaussian.data))

    def test_stdevcalculation(self, gaussian: Gaussian) -> None:
        assert round(gaussian.calculate_stdev(), 2) == 92.87
        assert round(gaussian.calculate_stdev(0), 2) == 88.55  # the course's population flag
        assert round(gaussian.calculate_stdev(1), 2) == 92.87

    def test_pdf(self, gaussian: Gaussian) -> None:
        assert round(gaussian.pdf(25), 5) == 0.19947
        gaussian.calculate_mean()
        gaussian.calculate_stdev()
        assert round(gaussian.pdf(75), 5) == 0.00429

    def test_add(self) -> None:
        total = Gaussian(25, 3) + Gaussian(30, 4)
        assert (total.mean, total.stdev) == (55, 5)


class TestBinomialAsTheCourseTestedIt:
    def test_initialization(self, binomial: Binomial) -> None:
        assert (binomial.p, binomial.n) == (0.4, 20)

    def test_readdata(self, binomial: Binomial) -> None:
        assert binomial.data == COURSE_OUTCOMES

    def test_calculatemean(self, binomial: Binomial) -> None:
        assert binomial.calculate_mean() == 8

    def test_calculatestdev(self, binomial: Binomial) -> None:
        assert round(binomial.calculate_stdev(), 2) == 2.19

    def test_replace_stats_with_data(self, binomial: Binomial) -> None:
        p, n = binomial.replace_stats_with_data()
        assert (round(p, 3), n) == (0.615, 13)

    def test_pdf(self, binomial: Binomial) -> None:
        assert round(binomial.pdf(5), 5) == 0.07465
        assert round(binomial.pdf(3), 5) == 0.01235
        binomial.replace_stats_with_data()
        assert round(binomial.pdf(5), 5) == 0.05439
        assert round(binomial.pdf(3), 5) == 0.00472

    def test_add(self) -> None:
        total = Binomial(0.4, 20) + Binomial(0.4, 60)
        assert (total.p, total.n) == (0.4, 80)


# The sample flag: what the course took, and the junk it must still refuse ---------------


@pytest.mark.parametrize(
    "population",
    [0, False, np.bool_(False), np.int64(0), np.uint8(0)],
    ids=["int-0", "False", "numpy-False", "numpy-int-0", "numpy-uint8-0"],
)
def test_every_spelling_of_false_gives_the_population_stdev(
    gaussian: Gaussian, population: object
) -> None:
    assert gaussian.calculate_stdev(population) == gaussian.calculate_stdev(sample=False)  # type: ignore[arg-type]
    assert Gaussian.from_data(COURSE_NUMBERS, population).stdev == gaussian.stdev  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "sample",
    [1, True, np.bool_(True), np.int32(1)],
    ids=["int-1", "True", "numpy-True", "numpy-int-1"],
)
def test_every_spelling_of_true_gives_the_sample_stdev(gaussian: Gaussian, sample: object) -> None:
    assert gaussian.calculate_stdev(sample) == gaussian.calculate_stdev(sample=True)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("junk", "error", "message"),
    [
        ("False", TypeError, "not str"),
        (0.0, TypeError, "not float"),
        (1.0, TypeError, "not float"),
        (None, TypeError, "not NoneType"),
        ([0], TypeError, "not list"),
        (np.array([1]), TypeError, "not ndarray"),
        (2, ValueError, "got 2"),
        (-1, ValueError, "got -1"),
        (np.int64(5), ValueError, "got 5"),
    ],
)
def test_other_flags_are_refused_in_one_line(
    gaussian: Gaussian, junk: object, error: type[Exception], message: str
) -> None:
    stdev_before = gaussian.stdev
    with pytest.raises(error, match=rf"^sample must be True or False \(or 1 or 0\), {message}$"):
        gaussian.calculate_stdev(junk)  # type: ignore[arg-type]
    with pytest.raises(error, match="sample must be True or False"):
        Gaussian.from_data(COURSE_NUMBERS, junk)  # type: ignore[arg-type]
    assert gaussian.stdev == stdev_before
