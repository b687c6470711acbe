"""Fuzzing binomial_package: every input either works correctly or fails clearly.

"Clearly" means ValueError, TypeError or FileNotFoundError, with a message that names the
argument or the file; never another exception, never NaN, never a value outside the range
the answer must lie in. The last tests repeat the checks under ``python -O``.
"""

from __future__ import annotations

import ast
import math
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as npst

import binomial_package
from binomial_package import Binomial, Gaussian

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# For the tests whose single example can cost milliseconds (large-n cdf, scipy calls).
FUZZ_HEAVY = settings(FUZZ, max_examples=40)
CLEAR_ERRORS = (ValueError, TypeError)

extreme_floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [0.0, -0.0, 5e-324, 1e-308, 1e308, -1e308, math.nan, math.inf, -math.inf]
)
numpy_scalars = st.one_of(
    st.integers(-(2**63), 2**63 - 1).map(np.int64),
    st.integers(0, 2**64 - 1).map(np.uint64),
    st.floats(width=32).map(np.float32),
    extreme_floats.map(np.float64),
    st.booleans().map(np.bool_),
)
numeric_arrays = npst.arrays(
    dtype=st.sampled_from([np.float64, np.float32, np.int64, np.uint8, np.int32]),
    shape=npst.array_shapes(min_dims=0, max_dims=2, max_side=4),
)
other_dtypes: list[np.dtype[Any]] = [
    np.dtype(np.bool_),
    np.dtype(np.complex128),
    np.dtype("U3"),
    np.dtype("M8[D]"),
]
other_arrays: st.SearchStrategy[Any] = npst.arrays(
    dtype=st.sampled_from(other_dtypes),
    shape=npst.array_shapes(min_dims=0, max_dims=1, max_side=3),
)
anything = st.one_of(
    extreme_floats,
    st.integers(),
    st.integers(min_value=10**300, max_value=10**400),
    numpy_scalars,
    numeric_arrays,
    other_arrays,
    st.lists(extreme_floats, max_size=4),
    st.lists(st.integers(), max_size=4),
    st.text(max_size=5),
    st.binary(max_size=5),
    st.none(),
    st.booleans(),
    st.complex_numbers(),
    st.just([[1, 2], [3]]),
    st.just({"x": 1}),
)


def fails_clearly(call: Callable[[], Any], *names: str) -> Any:
    """Run ``call``; return its result, or None if it raised a clear error naming one of ``names``."""
    try:
        return call()
    except CLEAR_ERRORS as error:
        message = str(error)
        assert any(name in message for name in names), f"{message!r} names none of {names}"
        assert "\n" not in message, "error messages are one line"
        return None


# Constructors and attributes ----------------------------------------------------------


@FUZZ
@given(anything, anything)
def test_gaussian_constructor(mu: Any, sigma: Any) -> None:
    gaussian = fails_clearly(lambda: Gaussian(mu, sigma), "mu", "sigma")
    if gaussian is not None:
        assert math.isfinite(gaussian.mean)
        assert math.isfinite(gaussian.stdev)
        assert gaussian.stdev >= 0
        assert repr(gaussian).startswith("mean ")


@FUZZ
@given(anything, anything)
def test_binomial_constructor(prob: Any, size: Any) -> None:
    binomial = fails_clearly(lambda: Binomial(prob, size), "prob", "size")
    if binomial is not None:
        assert 0 <= binomial.p <= 1
        assert type(binomial.n) is int
        assert 0 <= binomial.n <= 10**15
        assert binomial.mean == binomial.p * binomial.n


@FUZZ
@given(st.sampled_from(["mean", "stdev", "data", "p", "n"]), anything)
def test_attribute_assignment_never_leaves_an_invalid_object(name: str, value: Any) -> None:
    binomial = Binomial(0.3, 10)
    before = getattr(binomial, name)
    fails_clearly(lambda: setattr(binomial, name, value), name)
    after = getattr(binomial, name)
    if after is not before:  # accepted: the stored value is a clean Python value
        if name == "data":
            assert all(type(item) in (int, float) and math.isfinite(item) for item in after)
        else:
            assert type(after) in (int, float)
            assert math.isfinite(after)


# pdf, pmf, cdf --------------------------------------------------------------------------


def check_values(result: Any, given_value: Any, low: float, high: float) -> None:
    """A scalar gives a float, an array an array of its shape; every value within [low, high]."""
    values = np.asarray(result)
    if isinstance(given_value, (np.ndarray, list)):
        assert isinstance(result, np.ndarray)
        assert result.shape == np.asarray(given_value).shape
    else:
        assert type(result) is float
    assert not np.isnan(values).any()
    assert np.all((values >= low) & (values <= high))


@FUZZ
@given(
    st.floats(-1e300, 1e300),
    st.floats(min_value=0, max_value=1e300, exclude_min=True) | st.sampled_from([5e-324, 1e-310]),
    anything,
)
def test_gaussian_pdf_and_cdf(mu: float, sigma: float, x: Any) -> None:
    gaussian = Gaussian(mu, sigma)
    density = fails_clearly(lambda: gaussian.pdf(x), "x")
    if density is not None:
        check_values(density, x, 0.0, math.inf)
        assert np.all(np.asarray(density) <= 1 / (sigma * math.sqrt(2 * math.pi)))
    probability = fails_clearly(lambda: gaussian.cdf(x), "x")
    if probability is not None:
        check_values(probability, x, 0.0, 1.0)


@FUZZ_HEAVY
@given(st.floats(0, 1), st.integers(0, 10**15), anything)
def test_binomial_pmf_and_cdf(p: float, n: int, k: Any) -> None:
    binomial = Binomial(p, n)
    mass = fails_clearly(lambda: binomial.pmf(k), "k")
    if mass is not None:
        check_values(mass, k, 0.0, 1.0)
    probability = fails_clearly(lambda: binomial.cdf(k), "k")
    if probability is not None:
        check_values(probability, k, 0.0, 1.0)


@FUZZ_HEAVY
@given(st.floats(0, 1), st.integers(0, 10**6), st.data())
def test_binomial_pmf_agrees_with_scipy_on_valid_input(p: float, n: int, data: Any) -> None:
    stats = pytest.importorskip("scipy.stats")
    assume(p == 0 or p > 1e-300)  # scipy 1.17 raises OverflowError for p near 1e-308
    k = data.draw(st.integers(0, n))
    as_type = data.draw(st.sampled_from([int, float, np.int64, np.float64, np.uint32]))
    ours = Binomial(p, n).pmf(as_type(k))
    theirs = float(stats.binom.pmf(k, n, p))
    if theirs > 1e-300:
        # scipy's own error reaches about 1e-11 at n = 10**6 (ours 1e-13): see test_binomial
        assert ours == pytest.approx(theirs, rel=1e-10)
    else:
        assert ours < 1e-290


# Arithmetic ------------------------------------------------------------------------------


@FUZZ
@given(st.floats(-1e308, 1e308), st.floats(0, 1e308), st.floats(-1e308, 1e308), st.floats(0, 1e308))
def test_gaussian_sum_is_finite_or_refused(m1: float, s1: float, m2: float, s2: float) -> None:
    total = fails_clearly(lambda: Gaussian(m1, s1) + Gaussian(m2, s2), "mean")
    if total is not None:
        assert total.mean == m1 + m2
        assert math.isfinite(total.stdev)
        assert total.stdev >= max(s1, s2)


@FUZZ
@given(st.floats(0, 1), st.floats(0, 1), st.integers(0, 10**15), st.integers(0, 10**15))
def test_binomial_sum_needs_equal_p(p1: float, p2: float, n1: int, n2: int) -> None:
    total = fails_clearly(lambda: Binomial(p1, n1) + Binomial(p2, n2), "p", "n =")
    if total is not None:
        assert p1 == p2
        assert total.n == n1 + n2
    else:
        assert p1 != p2 or n1 + n2 > 10**15


@FUZZ
@given(anything)
def test_adding_other_things_is_a_type_error(other: Any) -> None:
    for distribution in (Gaussian(), Binomial()):
        with pytest.raises(TypeError):
            distribution + other


@FUZZ
@given(anything, anything)
def test_sample_size_and_seed(size: Any, seed: Any) -> None:
    assume(not (isinstance(size, (int, float, np.number)) and size > 10_000))  # memory
    draws = fails_clearly(lambda: Binomial(0.5, 10).sample(size, seed=seed), "size", "seed")
    if draws is not None:
        assert draws.shape == (int(size),)


@FUZZ
@given(st.dictionaries(st.sampled_from(["type", "p", "n", "mean", "stdev", "data", "x"]), anything))
def test_from_dict_with_arbitrary_values(mapping: dict[str, Any]) -> None:
    mapping.setdefault("type", "Binomial")
    binomial = fails_clearly(lambda: Binomial.from_dict(mapping), "from_dict", *mapping)
    if binomial is not None:
        assert Binomial.from_dict(binomial.to_dict()) == binomial


# Data files ------------------------------------------------------------------------------


def read(content: bytes) -> tuple[Path, Any]:
    """Write ``content`` to a fresh file and read it; return the path and the data or error.

    The file lives in a temporary folder that is removed before this returns, so the
    hundreds of examples of a run leave nothing behind in the system's temporary folder.
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzzed data.txt"
        path.write_bytes(content)
        gaussian = Gaussian()
        try:
            gaussian.read_data_file(path)
        except ValueError as error:
            return path, error
        return path, gaussian.data


def test_reading_leaves_no_temporary_folder_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    for content in (b"1\n2\n", b"not a number", b""):
        read(content)
    assert list(tmp_path.iterdir()) == []


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes_give_numbers_or_an_error_naming_the_file(content: bytes) -> None:
    path, outcome = read(content)
    if isinstance(outcome, ValueError):
        assert str(path) in str(outcome)
    else:
        assert all(type(item) in (int, float) and math.isfinite(item) for item in outcome)


numbers_in_text = st.one_of(
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False, allow_infinity=False),
)


@FUZZ
@given(
    st.lists(st.one_of(numbers_in_text, st.sampled_from(["", "   ", "# note", "\t"])), max_size=20),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.booleans(),
    st.booleans(),
)
def test_well_formed_files_read_back_exactly(
    lines: list[Any], newline: str, bom: bool, trailing_newline: bool
) -> None:
    text = newline.join(item if isinstance(item, str) else repr(item) for item in lines)
    if trailing_newline:
        text += newline
    content = (b"\xef\xbb\xbf" if bom else b"") + text.encode()
    path, outcome = read(content)
    numbers = [item for item in lines if not isinstance(item, str)]
    if numbers:
        assert outcome == numbers
    else:  # only blank lines and comments: no data, which is an error, not []
        assert isinstance(outcome, ValueError)
        assert f"{path}: no numbers in the file" in str(outcome)


@FUZZ
@given(
    st.lists(st.integers(-1000, 1000), min_size=1, max_size=10),
    st.integers(0, 9),
    st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=8),
)
def test_a_bad_line_is_reported_with_its_number(
    numbers: list[int], position: int, junk: str
) -> None:
    assume(not {"#", "\n", "\r"} & set(junk))  # a comment or a line break is not junk
    stripped = junk.strip()
    assume(stripped and not _is_decimal(stripped))
    position = min(position, len(numbers))
    lines = [str(number) for number in numbers]
    lines.insert(position, junk)
    path, outcome = read("\n".join(lines).encode())
    assert isinstance(outcome, ValueError)
    assert f"{path}, line {position + 1}: " in str(outcome)


def _is_decimal(text: str) -> bool:
    try:
        return math.isfinite(float(text)) and text.isascii() and "_" not in text
    except ValueError:
        return False


def test_empty_file_directory_and_missing_file(tmp_path: Path) -> None:
    path, outcome = read(b"")
    assert isinstance(outcome, ValueError)
    assert str(outcome).startswith(f"{path}: no numbers in the file (it is empty")
    gaussian = Gaussian()
    with pytest.raises(ValueError, match="is a directory"):
        gaussian.read_data_file(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"missing\.txt"):
        gaussian.read_data_file(tmp_path / "missing.txt")


@FUZZ
@given(anything)
def test_file_name_of_the_wrong_type(file_name: Any) -> None:
    assume(not isinstance(file_name, str))
    with pytest.raises(TypeError, match="file_name must be a path"):
        Gaussian().read_data_file(file_name)


# Under python -O --------------------------------------------------------------------------


def test_the_package_contains_no_assert_statements() -> None:
    # Asserts vanish under python -O; validation must never depend on one.
    folder = Path(binomial_package.__file__).parent
    found = [
        f"{path.name}:{node.lineno}"
        for path in sorted(folder.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Assert)
    ]
    assert found == []


OPTIMISED_CHECKS = textwrap.dedent(
    """
    import sys
    from binomial_package import Binomial, Gaussian

    assert False, "asserts must be stripped in this run"  # proves -O is in force
    cases = {
        "different p": lambda: Binomial(0.4, 20) + Binomial(0.5, 20),
        "prob": lambda: Binomial(2, 10),
        "size": lambda: Binomial(0.5, -3),
        "k": lambda: Binomial(0.4, 20).pmf(21),
        "sigma": lambda: Gaussian(0, -1),
        "data is empty": lambda: Gaussian().calculate_mean(),
        "only 1 value": lambda: Gaussian.from_data([1.0]),
        "x must not be NaN": lambda: Gaussian().pdf(float("nan")),
    }
    for expected, case in cases.items():
        try:
            case()
        except (ValueError, TypeError) as error:
            if expected not in str(error):
                sys.exit(f"{expected}: wrong message {error}")
        else:
            sys.exit(f"{expected}: no error under -O")
    print("all", len(cases), "refused")
    """
)


def test_validation_holds_under_python_dash_o() -> None:
    result = subprocess.run(
        [sys.executable, "-O", "-c", OPTIMISED_CHECKS],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "all 8 refused"
