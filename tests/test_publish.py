"""The publish rehearsal (scripts/publish.py): what it refuses, what it never prints, what it stops.

Every test drives the real script on a tiny committed project. The ones that start a
package index start it on 127.0.0.1 through the script itself, and check that it is gone
when the script returns, whether it succeeded, failed or was interrupted.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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


# ---------------------------------------------------------------- the local index dies with its parent

SERVER = SCRIPTS / "local_index_server.py"
EXIT_PORT_IN_USE = 4


def process_is_running(pid: int) -> bool:
    """True while ``pid`` is a live process (a zombie waiting to be reaped counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError):
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def wait_until(condition: Callable[[], bool], seconds: float = 30) -> bool:
    """Poll ``condition`` until it holds or ``seconds`` pass; return whether it held."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def kill_parent_and_check_the_server_is_gone(
    parent: subprocess.Popen[str], server: int, port: int, password_file: Path
) -> None:
    """SIGKILL ``parent``; its server process must end, free its port and delete its file."""
    parent.kill()
    parent.communicate(timeout=60)
    # Polled together: a dying process shows as a zombie a moment before its socket closes.
    assert wait_until(lambda: not process_is_running(server) and not port_is_open(port)), (
        f"the index (pid {server}) outlived its parent"
    )
    assert not password_file.exists()


def hash_matches(htpasswd: Path, secret: str) -> bool:
    """Whether the htpasswd line for ``__token__`` is a hash of ``secret``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # passlib imports `crypt`
        from passlib.hash import apr_md5_crypt
    user, hashed = htpasswd.read_text().strip().split(":", 1)
    assert user == "__token__"
    return bool(apr_md5_crypt.verify(secret, hashed))


def start_rehearsal(
    project: Path, env: dict[str, str], built: Path, index: Path
) -> tuple[subprocess.Popen[str], str, re.Match[str]]:
    """Start the rehearsal and read its output until the local index listens."""
    command = [sys.executable, str(SCRIPTS / "publish.py"), "--project", str(project)]
    command += ["--extras", "", "--dist", str(built), "--index-dir", str(index)]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    seen = ""
    while (line := process.stdout.readline()) and not INDEX_LINE.search(line):
        seen += line
    match = INDEX_LINE.search(line)
    if match is None:
        process.kill()
        process.communicate()
        pytest.fail(f"the index never started:\n{seen}")
    return process, seen + line, match


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_kill_9_of_the_rehearsal_stops_the_index_and_leaves_no_hash_of_the_token(
    project: Path, env: dict[str, str], built: Path, tmp_path: Path
) -> None:
    env["TWINE_PASSWORD"] = FAKE_TOKEN
    index = tmp_path / "index"
    process, _, match = start_rehearsal(project, env, built, index)
    port, pid = int(match.group(1)), int(match.group(2))
    htpasswd = index / "htpasswd"
    try:
        assert port_is_open(port)
        # While it runs: readable by its owner only, and a hash of a password made for this
        # run, not of the user's token.
        assert htpasswd.stat().st_mode & 0o777 == 0o600
        assert not hash_matches(htpasswd, FAKE_TOKEN)
        kill_parent_and_check_the_server_is_gone(process, pid, port, htpasswd)
    finally:
        if process_is_running(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT cannot be sent to one process there")
def test_a_token_over_4096_characters_never_reaches_the_local_index(
    project: Path, env: dict[str, str], built: Path, tmp_path: Path
) -> None:
    env["TWINE_PASSWORD"] = FAKE_TOKEN + "x" * 5000  # passlib refuses to hash over 4096
    process, _, match = start_rehearsal(project, env, built, tmp_path / "index")
    with process:
        assert port_is_open(int(match.group(1)))
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=60)
    assert process.returncode == EXIT_INTERRUPTED
    assert "Traceback" not in errors
    assert "x" * 100 not in errors


def start_server(
    port: int, packages: Path, password_file: Path, parent: int, **popen: Any
) -> subprocess.Popen[str]:
    """Start scripts/local_index_server.py the way publish.py does."""
    command = [
        sys.executable, str(SERVER), "--parent", str(parent),
        "--password-file", str(password_file), "--port", str(port), "--",
        "run", "--host", "127.0.0.1", "--port", str(port), "--disable-fallback", str(packages),
    ]  # fmt: skip
    return subprocess.Popen(command, text=True, **popen)


def test_the_server_stops_when_its_pipe_from_the_parent_closes(tmp_path: Path) -> None:
    """The portable watchdog alone: the parent (this test) lives on, but closes the pipe."""
    require_scripts()
    port = free_local_port()
    password_file = tmp_path / "htpasswd"
    password_file.write_text("__token__:x\n")
    server = start_server(
        port, tmp_path, password_file, os.getpid(), stdin=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert wait_until(lambda: port_is_open(port) or server.poll() is not None)
        assert server.poll() is None, server.communicate()[1]
        assert server.stdin is not None
        server.stdin.close()
        assert server.wait(timeout=60) == 0
        assert not port_is_open(port)
        assert not password_file.exists()
    finally:
        server.kill()
        server.wait()
        assert server.stderr is not None
        server.stderr.close()


LAUNCHER = """\
import os, subprocess, sys, time
server = subprocess.Popen(
    [sys.executable, sys.argv[2], "--parent", str(os.getpid()), *sys.argv[3:]],
    stdin=int(sys.argv[1]),
)
print(server.pid, flush=True)
time.sleep(600)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_the_server_dies_with_its_parent_even_while_its_pipe_is_open(tmp_path: Path) -> None:
    """The parent-death signal alone: this test holds the pipe open, so only the kernel can tell."""
    require_scripts()
    port = free_local_port()
    password_file = tmp_path / "htpasswd"
    password_file.write_text("__token__:x\n")
    read_end, write_end = os.pipe()
    arguments = ["--password-file", str(password_file), "--port", str(port), "--", "run"]
    arguments += ["--host", "127.0.0.1", "--port", str(port), str(tmp_path)]
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, str(read_end), str(SERVER), *arguments],
        pass_fds=(read_end,),
        stdout=subprocess.PIPE,
        text=True,
    )
    os.close(read_end)
    server_pid = 0
    try:
        assert launcher.stdout is not None
        server_pid = int(launcher.stdout.readline())
        assert wait_until(lambda: port_is_open(port) or not process_is_running(server_pid))
        assert process_is_running(server_pid)
        kill_parent_and_check_the_server_is_gone(launcher, server_pid, port, password_file)
    finally:
        os.close(write_end)
        launcher.kill()
        launcher.wait()
        if server_pid and process_is_running(server_pid):
            os.kill(server_pid, signal.SIGKILL)


# ---------------------------------------------------------------- a port already in use


def free_local_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 that this test holds, listening, until it ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


def test_a_port_in_use_is_refused_in_one_line_before_building(
    project: Path, env: dict[str, str], busy_port: int
) -> None:
    result = publish(project, env, "--index-port", str(busy_port))
    assert result.returncode == EXIT_REFUSED
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: port {busy_port} on 127.0.0.1 is already in use")
    assert "--index-port" in line
    assert "Traceback" not in result.stdout + result.stderr
    assert not (project / "dist").exists()


def test_the_server_refuses_a_port_in_use_in_one_line(tmp_path: Path, busy_port: int) -> None:
    """The race publish.py cannot see: the port is taken between its check and the server."""
    require_scripts()
    password_file = tmp_path / "htpasswd"
    password_file.write_text("__token__:x\n")
    server = start_server(
        busy_port, tmp_path, password_file, os.getpid(),
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    with server:  # stdin stays open until it exits: a closed pipe would stop it first
        assert server.stderr is not None
        errors = server.stderr.read()
        server.wait(timeout=120)
    assert server.returncode == EXIT_PORT_IN_USE
    assert "Traceback" not in errors
    assert errors.splitlines()[-1] == (
        f"port {busy_port} is already in use: {os.strerror(errno.EADDRINUSE)}"
    )
    assert not password_file.exists()


# ---------------------------------------------------------------- exit statuses through nox

NOXFILE = SCRIPTS.parent / "noxfile.py"


def nox_publish_command(project: Path, *args: str) -> list[str]:
    """``nox -s publish`` on the tiny project, in this interpreter (which has the tools)."""
    pytest.importorskip("nox")
    if not NOXFILE.is_file():
        pytest.skip(f"{NOXFILE} is missing: this test needs a checkout or the sdist")
    return [
        sys.executable, "-m", "nox", "--noxfile", str(NOXFILE), "--sessions", "publish",
        "--no-venv", "--no-install", "--",
        "--project", str(project), "--extras", "", *args,
    ]  # fmt: skip


def nox_environment(env: dict[str, str]) -> dict[str, str]:
    """The session runs `python` from PATH: make that this interpreter."""
    return {**env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"}


def run_nox_publish(
    project: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        nox_publish_command(project, *args),
        env=nox_environment(env),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_nox_publish_exits_with_the_scripts_refusal_status(
    project: Path, env: dict[str, str]
) -> None:
    (project / "stray.txt").write_text("not committed")
    result = run_nox_publish(project, env)
    assert result.returncode == EXIT_REFUSED, result.stdout + result.stderr
    assert "refusing to publish a dirty tree" in result.stdout + result.stderr


@pytest.mark.slow
def test_nox_publish_exits_with_status_3_when_the_version_is_there(
    project: Path, env: dict[str, str], built: Path, tmp_path: Path
) -> None:
    args = ("--dist", str(built), "--index-dir", str(tmp_path / "index"))
    first = publish(project, env, *args)
    assert first.returncode == 0, first.stdout + first.stderr
    again = run_nox_publish(project, env, *args)
    assert again.returncode == EXIT_EXISTS, again.stdout + again.stderr
    assert "already has version" in again.stdout + again.stderr


@pytest.mark.skipif(sys.platform != "linux", reason="finds the script through /proc")
def test_nox_publish_exits_with_130_when_the_script_is_interrupted(
    project: Path, env: dict[str, str], built: Path, tmp_path: Path
) -> None:
    command = nox_publish_command(
        project, "--dist", str(built), "--index-dir", str(tmp_path / "index")
    )
    with subprocess.Popen(
        command,
        env=nox_environment(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as nox_process:
        assert nox_process.stdout is not None
        seen = ""
        while (line := nox_process.stdout.readline()) and not INDEX_LINE.search(line):
            seen += line
        assert INDEX_LINE.search(line), f"the index never started:\n{seen}"
        children = Path(f"/proc/{nox_process.pid}/task/{nox_process.pid}/children")
        (script,) = map(int, children.read_text().split())
        os.kill(script, signal.SIGINT)  # the script alone, as `kill -INT` would
        rest = nox_process.stdout.read()
        nox_process.wait(timeout=120)
    assert nox_process.returncode == EXIT_INTERRUPTED, seen + line + rest
    assert "stopped the local index" in rest
    assert_server_gone(line)
