"""The Distribution base class: data files, validated attributes, equality, dicts, old imports."""

from __future__ import annotations

import doctest
import json
import os
import pickle
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from binomial_package import Binomial, Distribution, Gaussian, _datafile

DATA = Path(__file__).parent / "data"
COURSE_NUMBERS = [1, 3, 99, 100, 120, 32, 330, 23, 76, 44, 31]


def test_defaults_match_the_course() -> None:
    distribution = Distribution()
    assert (distribution.mean, distribution.stdev, distribution.data) == (0, 1, [])
    assert repr(Distribution(55, 5.0)) == "mean 55, standard deviation 5.0"


def test_read_data_file_reads_the_course_file_and_changes_nothing_else() -> None:
    distribution = Distribution(7, 3)
    distribution.read_data_file(DATA / "numbers.txt")
    assert distribution.data == COURSE_NUMBERS
    assert all(type(value) is int for value in distribution.data)
    assert (distribution.mean, distribution.stdev) == (7, 3)


def test_read_data_file_accepts_a_str_path() -> None:
    distribution = Distribution()
    distribution.read_data_file(str(DATA / "numbers_binomial.txt"))
    assert distribution.data == [0, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1, 0]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"1\n2.5\n-3\n1e3\n.5\n", [1, 2.5, -3, 1000.0, 0.5]),
        (b"\n\n1\n\n\n2\n\n", [1, 2]),
        (b"# header\n1  # first\n   # indented comment\n2\n", [1, 2]),
        (b"1\r\n2\r\n", [1, 2]),
        (b"1\r2\r", [1, 2]),
        (b"\xef\xbb\xbf1\n2\n", [1, 2]),
        (b"  +4 \t\n", [4]),
        (b"3", [3]),
    ],
    ids=[
        "ints-and-floats",
        "blank-lines",
        "comments",
        "crlf",
        "old-mac",
        "bom",
        "spaces",
        "no-newline",
    ],
)
def test_read_data_file_formats(tmp_path: Path, content: bytes, expected: list[float]) -> None:
    path = tmp_path / "data.txt"
    path.write_bytes(content)
    distribution = Distribution()
    distribution.read_data_file(path)
    assert distribution.data == expected
    assert [type(value) for value in distribution.data] == [type(value) for value in expected]


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (b"1\n2\nthree\n", 3),
        (b"1\n\n# note\n1,5\n", 4),
        (b"nan\n", 1),
        (b"inf\n", 1),
        (b"1_000\n", 1),
        (b"1e999\n", 1),
        (b"9" * 400 + b"\n", 1),
        (b"1\x002\n", 1),
    ],
    ids=["word", "comma-decimal", "nan", "inf", "underscore", "overflow", "huge-int", "nul-byte"],
)
def test_a_bad_line_names_the_file_and_line(tmp_path: Path, content: bytes, line: int) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    refused_leaving_data_as_it_was(path, rf"bad\.txt, line {line}: ")


def refused_leaving_data_as_it_was(path: Path, message: str) -> None:
    distribution = Distribution()
    distribution.data = [5]
    with pytest.raises(ValueError, match=message):
        distribution.read_data_file(path)
    assert distribution.data == [5]  # unchanged on error


def test_missing_file_directory_and_binary_file(tmp_path: Path) -> None:
    distribution = Distribution()
    with pytest.raises(FileNotFoundError, match=r"data file not found: '.*nope\.txt'"):
        distribution.read_data_file(tmp_path / "nope.txt")
    with pytest.raises(ValueError, match="is a directory"):
        distribution.read_data_file(tmp_path)
    binary = tmp_path / "image.bin"
    binary.write_bytes(bytes(range(128, 256)))
    with pytest.raises(ValueError, match=r"image\.bin: not a UTF-8 text file"):
        distribution.read_data_file(binary)
    with pytest.raises(TypeError, match="file_name must be a path"):
        distribution.read_data_file(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("attribute", "value", "error", "message"),
    [
        ("mean", float("nan"), ValueError, "mean must be a number, not NaN"),
        ("mean", float("inf"), ValueError, "mean must be finite"),
        ("mean", "1", TypeError, "mean must be a real number"),
        ("mean", True, TypeError, "mean must be a real number"),
        pytest.param(
            "mean", 10**400, ValueError, "mean must fit in a float .* 1329 bits", id="huge-int"
        ),
        ("stdev", -0.1, ValueError, r"stdev must be >= 0"),
        ("stdev", float("inf"), ValueError, "stdev must be finite"),
        ("data", "123", TypeError, "data must be a flat list of numbers"),
        ("data", [1, "2"], TypeError, r"data\[1\] must be a real number"),
        ("data", [1, float("nan")], ValueError, r"data\[1\] must be a number, not NaN"),
        ("data", [True], TypeError, r"data\[0\] must be a real number"),
    ],
)
def test_attributes_are_checked_on_assignment(
    attribute: str, value: object, error: type[Exception], message: str
) -> None:
    distribution = Distribution()
    with pytest.raises(error, match=message):
        setattr(distribution, attribute, value)


def test_constructor_arguments_are_checked_with_their_attribute_names() -> None:
    with pytest.raises(ValueError, match="sigma must be >= 0"):
        Distribution(0, -1)
    with pytest.raises(ValueError, match="mu must be a number, not NaN"):
        Gaussian(float("nan"), 1)
    with pytest.raises(TypeError, match="sigma must be a real number"):
        Gaussian(0, None)  # type: ignore[arg-type]


def test_slots_catch_attribute_typos() -> None:
    gaussian = Gaussian()
    with pytest.raises(AttributeError):
        gaussian.stddev = 3  # type: ignore[attr-defined]


def test_numpy_numbers_become_python_numbers() -> None:
    np = pytest.importorskip("numpy")
    distribution = Distribution(np.int64(3), np.float32(0.5))
    assert (type(distribution.mean), type(distribution.stdev)) == (int, float)
    distribution.data = np.array([1.5, 2.0])
    assert distribution.data == [1.5, 2.0]
    assert all(type(value) is float for value in distribution.data)


def test_equality_compares_class_and_parameters_not_data() -> None:
    first, second = Gaussian(1, 2), Gaussian(1.0, 2.0)
    second.data = [1, 2, 3]
    assert first == second
    assert first != Gaussian(1, 3)
    assert Distribution(1, 2) != Gaussian(1, 2)
    assert Binomial(0.4, 20) == Binomial(0.4, 20.0)  # type: ignore[arg-type]
    assert Binomial(0.4, 20) != Binomial(0.4, 21)
    assert first != "mean 1, standard deviation 2"


def test_distributions_are_deliberately_unhashable() -> None:
    for distribution in (Distribution(), Gaussian(), Binomial()):
        with pytest.raises(TypeError, match="unhashable"):
            hash(distribution)


@pytest.mark.parametrize(
    "original",
    [Distribution(3, 4), Gaussian(2.5, 0.5), Binomial(0.25, 12)],
    ids=["distribution", "gaussian", "binomial"],
)
def test_dict_round_trip_through_json(original: Distribution) -> None:
    original.data = [0, 1, 1]
    as_dict = original.to_dict()
    assert as_dict["type"] == type(original).__name__
    restored = type(original).from_dict(json.loads(json.dumps(as_dict)))
    assert restored == original
    assert restored.to_dict() == as_dict
    assert repr(restored) == repr(original)
    as_dict["data"].append(5)
    assert original.data == [0, 1, 1]  # to_dict hands out a copy


def test_binomial_dict_may_leave_out_the_derived_fields() -> None:
    binomial = Binomial.from_dict({"type": "Binomial", "p": 0.4, "n": 20})
    assert repr(binomial) == "mean 8.0, standard deviation 2.1908902300206643, p 0.4, n 20"
    assert binomial.data == []


@pytest.mark.parametrize(
    ("mapping", "error", "message"),
    [
        ({"type": "Binomial", "mean": 0, "stdev": 1}, ValueError, "'type' must be 'Gaussian'"),
        ({"mean": 0, "stdev": 1}, ValueError, "'type' must be 'Gaussian', got None"),
        ({"type": "Gaussian", "mean": 0}, ValueError, "missing key"),
        ({"type": "Gaussian", "mean": 0, "stdev": 1, "sd": 2}, ValueError, "unknown key"),
        ({"type": "Gaussian", "mean": 0, "stdev": -1}, ValueError, "stdev must be >= 0"),
        (
            {"type": "Gaussian", "mean": 0, "stdev": 1, "data": 5},
            TypeError,
            "data must be a flat list",
        ),
    ],
)
def test_from_dict_refuses_bad_dicts(
    mapping: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        Gaussian.from_dict(mapping)


def test_from_dict_refuses_a_non_mapping() -> None:
    with pytest.raises(TypeError, match="expected a dict, not list"):
        Gaussian.from_dict([("type", "Gaussian")])  # type: ignore[arg-type]


def test_the_tour_runs() -> None:
    # docs/binomial_package.md is a doctest: its examples are checked like docstrings.
    pytest.importorskip("matplotlib")
    tour = Path(__file__).parent.parent / "docs" / "binomial_package.md"
    result = doctest.testfile(
        str(tour),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted > 40
    assert result.failed == 0


def test_course_module_names_still_import() -> None:
    from binomial_package.Binomialdistribution import Binomial as OldBinomial
    from binomial_package.Gaussiandistribution import Gaussian as OldGaussian
    from binomial_package.Generaldistribution import Distribution as OldDistribution

    assert (OldBinomial, OldGaussian, OldDistribution) == (Binomial, Gaussian, Distribution)
    assert issubclass(Gaussian, Distribution)
    assert issubclass(Binomial, Distribution)


# Hostile files: special files, huge and sparse files, numbers that do not fit -----------

SPECIAL_FILE_READER = """
import sys
from binomial_package import Distribution

distribution = Distribution()
try:
    distribution.read_data_file(sys.argv[1])
except ValueError as error:
    print(error)
else:
    print("read", len(distribution.data), "numbers")
"""


def read_in_a_bounded_process(path: str | Path) -> str:
    """Read ``path`` in a child limited to 4 GiB and 60 s, so a reader that never stops fails."""
    resource = pytest.importorskip("resource")

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, 4 * 2**30))

    result = subprocess.run(
        [sys.executable, "-c", SPECIAL_FILE_READER, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        # One BLAS thread: on a many-core machine its per-thread buffers alone could reach
        # the address-space limit before the file is even opened.
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
        preexec_fn=limit_memory,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_devices_are_refused_before_a_byte_is_read(device: str) -> None:
    if not Path(device).exists():
        pytest.skip(f"no {device} here")
    assert read_in_a_bounded_process(device) == (
        f"{device!r} is a character device, not a regular file: "
        "give a text file with one number per line"
    )


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    fifo = tmp_path / "numbers.txt"
    os.mkfifo(fifo)
    assert read_in_a_bounded_process(fifo) == (
        f"{str(fifo)!r} is a FIFO (named pipe), not a regular file: "
        "give a text file with one number per line"
    )


def sparse_file(path: Path, size: int) -> Path:
    with path.open("wb") as handle:
        handle.truncate(size)  # a hole: takes no disk space, reads as zero bytes
    return path


def test_a_gigabyte_sparse_file_is_refused_by_its_size_without_reading_it(tmp_path: Path) -> None:
    path = sparse_file(tmp_path / "sparse.txt", 2**30)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"larger \(1,073,741,824 bytes\) than the"):
            Distribution().read_data_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**20


def test_a_sparse_file_under_the_limit_is_refused_after_its_first_chunk(tmp_path: Path) -> None:
    path = sparse_file(tmp_path / "sparse.txt", 200 * 2**20)
    tracemalloc.start()
    try:
        refused_leaving_data_as_it_was(path, r"line 1: longer than 65,536 bytes, so not a number")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20  # streamed: a chunk or two, never the 200 MiB


def test_the_byte_limit_holds_while_reading_files_that_report_size_0(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    status = Path("/proc/self/status")
    if not status.is_file() or status.stat().st_size != 0:
        pytest.skip("needs Linux's /proc, whose files report size 0")
    monkeypatch.setattr(_datafile, "MAX_FILE_BYTES", 64)
    with pytest.raises(ValueError, match=r"/proc/self/status: larger than the 64 bytes a data"):
        Distribution().read_data_file(status)


def test_a_long_line_after_good_ones_is_reported_by_its_number(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_bytes(b"1\r\n2\r\n" + b"3" * (_datafile.MAX_LINE_BYTES + 1) + b"\r\n")
    with pytest.raises(ValueError, match=r"long\.txt, line 3: longer than 65,536 bytes"):
        Distribution().read_data_file(path)


def test_line_breaks_split_across_chunks_keep_the_line_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_datafile, "_CHUNK_BYTES", 3)  # "\r" and "\n" land in different chunks
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"12\r\n34\r\n\r\n5.5\r\nsix\r\n")
    with pytest.raises(ValueError, match=r"crlf\.txt, line 5: 'six' is not a number"):
        Distribution().read_data_file(path)
    path.write_bytes(b"12\r\n34\r\r5.5\n")
    distribution = Distribution()
    distribution.read_data_file(path)
    assert distribution.data == [12, 34, 5.5]


@pytest.mark.parametrize(
    "content", [b"", b"\n\n", b"# only a comment\n", b"\xef\xbb\xbf"], ids=repr
)
def test_a_file_without_numbers_is_an_error_not_empty_data(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    refused_leaving_data_as_it_was(path, r"empty\.txt: no numbers in the file")


def test_numbers_too_small_for_a_float_are_refused_like_numbers_too_large(tmp_path: Path) -> None:
    path = tmp_path / "tiny.txt"
    for text in ("1e-400", "-2.5E-330", "0.00000" + "0" * 400 + "1"):
        path.write_text(f"1\n{text}\n")
        with pytest.raises(ValueError, match=r"line 2: .* is too small for a float \(it would"):
            Distribution().read_data_file(path)
    path.write_text("1e400\n")
    with pytest.raises(ValueError, match="is too large for a float"):
        Distribution().read_data_file(path)
    path.write_text("0e-400\n0.000\n1e-310\n")  # zeros are zeros; a subnormal is not 0
    distribution = Distribution()
    distribution.read_data_file(path)
    assert distribution.data == [0.0, 0.0, 1e-310]


# data is a list that checks what is put into it ------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda data: data.append("x"),
            r"data\[2\] must be a real number \(int or float\), not str",
        ),
        (lambda data: data.extend([3, None]), r"data\[3\] must be a real number"),
        (lambda data: data.insert(0, float("nan")), r"data\[0\] must be a number, not NaN"),
        (lambda data: data.__iadd__([float("inf")]), r"data\[2\] must be finite"),
        (lambda data: data.__setitem__(1, "2"), r"data\[1\] must be a real number"),
        (lambda data: data.__setitem__(slice(0, 1), [True]), r"data\[0\] must be a real number"),
        (lambda data: data.__setitem__(slice(0, 1), 5), "can only assign an iterable"),
    ],
    ids=["append", "extend", "insert", "+=", "item", "slice", "slice-of-a-number"],
)
def test_changing_data_in_place_is_checked_too(change: Any, message: str) -> None:
    gaussian = Gaussian()
    gaussian.data = [1, 2]
    with pytest.raises((TypeError, ValueError), match=message):
        change(gaussian.data)
    assert gaussian.data[:2] == [1, 2]
    assert json.loads(json.dumps(gaussian.to_dict()))["data"][:2] == [1, 2]


def test_data_still_behaves_as_the_course_list() -> None:
    gaussian = Gaussian()
    gaussian.data.append(4)
    gaussian.data += [5.5]
    gaussian.data.extend(range(2))
    gaussian.data[0] = 3
    assert gaussian.data == [3, 5.5, 0, 1]
    assert isinstance(gaussian.data, list)
    assert repr(gaussian.data) == "[3, 5.5, 0, 1]"
    assert type(gaussian.to_dict()["data"]) is list
    assert gaussian.calculate_mean() == 2.375


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize("original", [Distribution(1, 2), Gaussian(3, 0.5)], ids=repr)
def test_distributions_pickle_with_every_protocol(original: Distribution, protocol: int) -> None:
    original.data = [1, 2.5]
    restored = pickle.loads(pickle.dumps(original, protocol=protocol))
    assert (type(restored), repr(restored), restored.data) == (
        type(original),
        repr(original),
        [1, 2.5],
    )


def test_a_tampered_pickle_is_checked_on_loading() -> None:
    tampered = pickle.dumps(Gaussian(1, 2), protocol=0).replace(b"I2\n", b"I-2\n")
    assert tampered != pickle.dumps(Gaussian(1, 2), protocol=0)
    with pytest.raises(ValueError, match="stdev must be >= 0"):
        pickle.loads(tampered)


def test_one_value_is_too_few_for_a_sample_stdev_in_plain_words() -> None:
    with pytest.raises(ValueError, match=r"^data has only 1 value: a sample standard deviation"):
        Gaussian.from_data([1])
