"""The publish rehearsal (scripts/publish.py): what it refuses, what it never prints, what it stops.

Every test drives the real script on a tiny committed project. The ones that start a
package index start it on 127.0.0.1 through the script itself, and check that it is gone
when the script returns, whether it succeeded, failed or was interrupted.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from tiny_project import (
    FAKE_TOKEN,
    NAME,
    SCRIPTS,
    VERSION,
    git,
    make_tiny_project,
    require_scripts,
    run_script,
)

INDEX_LINE = re.compile(r"listening on http://127\.0\.0\.1:(\d+)/ \(pid (\d+)\)")
EXIT_FAILED, EXIT_REFUSED, EXIT_EXISTS, EXIT_INTERRUPTED = 1, 2, 3, 130


@pytest.fixture
def project(tmp_path: Path) -> Path:
    require_scripts()
    return make_tiny_project(tmp_path / "tiny")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """No credentials anywhere: no token variable, an empty home, a keyring that has nothing."""
    home = tmp_path / "home"
    home.mkdir()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TWINE_", "GITHUB_"))}
    clean.update(
        HOME=str(home),
        USERPROFILE=str(home),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )
    return clean


def publish(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_script("publish.py", "--project", str(project), "--extras", "", *args, env=env)


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def assert_server_gone(output: str) -> None:
    """Every index the run started no longer answers, and (on POSIX) its process is gone."""
    servers = INDEX_LINE.findall(output)
    assert servers, f"no index was started:\n{output}"
    for port, pid in servers:
        assert not port_is_open(int(port)), f"the index on port {port} still answers"
        if sys.platform != "win32":
            with pytest.raises(ProcessLookupError):
                os.kill(int(pid), 0)


def test_missing_credentials_are_refused_before_building(
    project: Path, env: dict[str, str]
) -> None:
    result = publish(project, env, "testpypi")
    assert result.returncode == EXIT_REFUSED
    assert "no API token for TestPyPI" in result.stderr
    assert "Nothing was built or uploaded" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "dist").exists()


def test_a_token_in_pypirc_counts_as_credentials(project: Path, env: dict[str, str]) -> None:
    (Path(env["HOME"]) / ".pypirc").write_text(
        f"[distutils]\nindex-servers =\n    pypi\n    testpypi\n\n[testpypi]\npassword = {FAKE_TOKEN}\n"
    )
    (project / "stray.txt").write_text("not committed")
    result = publish(project, env, "testpypi")
    # Past the credentials check, it stops at the dirty tree: the token itself is never shown.
    assert result.returncode == EXIT_REFUSED
    assert "no API token" not in result.stderr
    assert "refusing to publish a dirty tree" in result.stderr
    assert FAKE_TOKEN not in result.stdout + result.stderr


@pytest.mark.parametrize("target", ["local", "testpypi", "pypi"])
def test_a_dirty_tree_is_refused(project: Path, env: dict[str, str], target: str) -> None:
    (project / "tiny_rehearsal" / "__init__.py").write_text("VALUE = 43\n")
    env["TWINE_PASSWORD"] = FAKE_TOKEN
    result = publish(project, env, target)
    assert result.returncode == EXIT_REFUSED
    assert "refusing to publish a dirty tree" in result.stderr
    assert "tiny_rehearsal/__init__.py" in result.stderr
    assert FAKE_TOKEN not in result.stdout + result.stderr
    assert not (project / "dist").exists()


def test_allow_dirty_is_for_the_local_rehearsal_only(project: Path, env: dict[str, str]) -> None:
    (project / "notes.txt").write_text("untracked")
    env["TWINE_PASSWORD"] = FAKE_TOKEN
    real = publish(project, env, "testpypi", "--allow-dirty")
    assert real.returncode == EXIT_REFUSED
    assert "dirty tree" in real.stderr
    # Locally it gets past the tree check; an empty --dist folder stops it right after.
    empty = project.parent / "empty"
    empty.mkdir()
    local = publish(project, env, "--allow-dirty", "--dist", str(empty))
    assert "rehearsing anyway (--allow-dirty)" in local.stdout
    assert local.returncode == EXIT_REFUSED
    assert "must hold one sdist" in local.stderr


def test_a_tag_that_does_not_name_the_version_is_refused(
    project: Path, env: dict[str, str]
) -> None:
    git(project, "tag", "v9.9.9")
    result = publish(project, env)
    assert result.returncode == EXIT_REFUSED
    assert f"the tag v9.9.9 being released does not match version {VERSION}" in result.stderr
    # On GitHub the tag comes from GITHUB_REF.
    git(project, "tag", "-d", "v9.9.9")
    env["GITHUB_REF"] = "refs/tags/v2.0.0"
    result = publish(project, env)
    assert result.returncode == EXIT_REFUSED
    assert "the tag v2.0.0 being released" in result.stderr


def test_a_matching_tag_passes_and_pypi_needs_one(project: Path, env: dict[str, str]) -> None:
    env["TWINE_PASSWORD"] = FAKE_TOKEN
    untagged = publish(project, env, "pypi")
    assert untagged.returncode == EXIT_REFUSED
    assert "PyPI releases are made from a tag" in untagged.stderr
    git(project, "tag", f"v{VERSION}")
    empty = project.parent / "empty"
    empty.mkdir()
    tagged = publish(project, env, "--dist", str(empty))
    assert f"matches the tag v{VERSION}" in tagged.stdout
    assert FAKE_TOKEN not in tagged.stdout + tagged.stderr


@pytest.fixture(scope="module")
def built_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny project's sdist and wheel, built once for this module by the build script."""
    require_scripts()
    project = make_tiny_project(tmp_path_factory.mktemp("tiny-for-build"))
    out = tmp_path_factory.mktemp("built")
    result = run_script("reproducible_build.py", "--outdir", str(out), str(project))
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture
def built(built_once: Path, tmp_path: Path) -> Path:
    """A private copy of the built files, which a test may damage."""
    return Path(shutil.copytree(built_once, tmp_path / "built"))


def add_to_wheel(wheel: Path, name: str, data: bytes) -> None:
    """Add a file to a wheel and to its RECORD, as a careless build would."""
    with zipfile.ZipFile(wheel) as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist()}
    (record,) = [entry for entry in entries if entry.endswith(".dist-info/RECORD")]
    entries[name] = data
    entries[record] += f"{name},,\n".encode()
    with zipfile.ZipFile(wheel, "w") as archive:
        for entry, content in entries.items():
            archive.writestr(entry, content)


def test_failing_checks_stop_before_any_upload(
    project: Path, env: dict[str, str], built: Path
) -> None:
    (wheel,) = built.glob("*.whl")
    add_to_wheel(wheel, "tiny_rehearsal/__pycache__/__init__.cpython-311.pyc", b"\0" * 16)
    result = publish(project, env, "--dist", str(built), "--index-dir", str(project / "idx"))
    assert result.returncode == EXIT_FAILED
    assert "refusing to upload: `python -m check_wheel_contents" in result.stderr
    assert "W001" in result.stderr
    assert "index" not in result.stdout  # no server was started, nothing was uploaded
    assert not (project / "idx").exists()


@pytest.mark.slow
def test_rehearsal_uploads_installs_and_refuses_the_same_version_twice(
    project: Path, env: dict[str, str], built: Path, tmp_path: Path
) -> None:
    env["TWINE_PASSWORD"] = FAKE_TOKEN
    index = tmp_path / "index"
    args = ("--dist", str(built), "--index-dir", str(index))
    first = publish(project, env, *args)
    output = first.stdout + first.stderr
    assert first.returncode == 0, output
    steps = re.findall(r"^ok +(\w+) ", first.stdout, re.MULTILINE)
    expected = ["preflight", "build", "check", "index", "upload", "venv", "install"]
    assert steps == [*expected, "deps", "smoke", "stop"]
    assert re.search(rf"{NAME}=={VERSION} with --no-deps, from http://127\.0\.0\.1:\d+/", output)
    assert "tiny smoke test passed" in output
    assert_server_gone(output)

    second = publish(project, env, *args)
    again = second.stdout + second.stderr
    assert second.returncode == EXIT_EXISTS
    assert f"already has version {VERSION} of {NAME}" in second.stderr
    assert "bump `version` in pyproject.toml" in second.stderr
    assert "Traceback" not in again
    assert_server_gone(again)

    # The token reached the server (uploads need it) but no output, log or file kept it.
    assert FAKE_TOKEN not in output + again
    leftovers = [p for p in index.rglob("*") if p.is_file()]
    assert sorted(p.name for p in leftovers if p.suffix != ".log") == sorted(
        p.name for p in built.iterdir()
    )
    for path in leftovers:
        assert FAKE_TOKEN.encode() not in path.read_bytes(), path


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT cannot be sent to one process there")
def test_interrupting_stops_the_index_which_listened_on_loopback_only(
    project: Path, env: dict[str, str], built: Path, tmp_path: Path
) -> None:
    command = [sys.executable, str(SCRIPTS / "publish.py"), "--project", str(project)]
    command += ["--extras", "", "--dist", str(built), "--index-dir", str(tmp_path / "index")]
    with subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        seen = ""
        while (line := process.stdout.readline()) and not INDEX_LINE.search(line):
            seen += line
        match = INDEX_LINE.search(line)
        assert match, f"the index never started:\n{seen}"
        port = int(match.group(1))
        assert port_is_open(port)
        if sys.platform == "linux":  # 127.0.0.2 is loopback too, but not the address it bound
            assert not port_is_open(port, "127.0.0.2")
        process.send_signal(signal.SIGINT)
        # Keep reading through the same buffered stream: communicate() would skip what
        # readline() has already buffered.
        rest = process.stdout.read()
        errors = process.stderr.read() if process.stderr else ""
        process.wait(timeout=60)
    assert process.returncode == EXIT_INTERRUPTED
    assert "interrupted" in errors
    assert "stopped the local index" in rest
    deadline = time.monotonic() + 5
    while port_is_open(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert_server_gone(line)
