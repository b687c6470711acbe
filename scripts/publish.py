"""Publish the project, or rehearse publishing it against a package index on 127.0.0.1.

Run it through nox, which installs the tools it needs (build, twine, check-wheel-contents,
pypiserver, passlib) into a fresh environment::

    python -m nox -s publish                  # rehearsal against a local index
    python -m nox -s publish -- testpypi      # the real thing, on TestPyPI
    python -m nox -s publish -- pypi          # the real thing, on PyPI

Every target runs the same steps, each reported on one line with its duration: refuse early
(missing credentials, a dirty git tree, a version that does not match the release tag), build
reproducibly, run the strict checks, upload with twine (``__token__`` and a token passed
through the environment, never on a command line), install the package from that index alone
into a fresh virtual environment, then run ``scripts/smoke_test.py`` with the installed copy.

The local index keeps what it receives in ``.local-index/`` between runs, as a real index
does, so a second rehearsal of the same version is refused just like a second upload to
TestPyPI. Bump the version, or pass ``--fresh-index`` to start the local index empty.

The local index runs under ``scripts/local_index_server.py``, which stops it when this script
exits, however it exits (``kill -9`` included). Its upload password is random, made for each run,
and its password file (mode 0600) is deleted when it stops: no hash of your token is ever written.

Exit status: 0 done, 1 a step failed, 2 refused (before building: credentials, tree, tag,
options; or the local index's port is already in use), 3 the version is already on the
index, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

sys.path.insert(0, str(Path(__file__).resolve().parent))
import local_index_server  # sibling modules, found through the line above
import reproducible_build

EXIT_FAILED = 1
EXIT_REFUSED = 2
EXIT_EXISTS = 3
EXIT_INTERRUPTED = 130

TOKEN_USERNAME = "__token__"
LOCAL_HOST = "127.0.0.1"
LOCAL_INDEX_DIR = ".local-index"
TARGETS = ("local", "testpypi", "pypi")
# Extras the smoke test needs: `gan-music generate` writes MIDI through mido.
DEFAULT_EXTRAS = "midi"
# How long a real index may take to serve a file it has just accepted.
INDEX_PROPAGATION_SECONDS = 180.0


class StepFailed(Exception):
    """A step could not be completed: ``message`` says why and what to do."""

    def __init__(self, message: str, exit_status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_status = exit_status


@dataclass
class Reporter:
    """Prints one line per step and keeps every secret out of what it prints."""

    secrets: list[str] = field(default_factory=list)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "********")
        return text

    def say(self, text: str, *, stream: int = 1) -> None:
        out = sys.stdout if stream == 1 else sys.stderr
        out.write(self.redact(text).rstrip("\n") + "\n")
        out.flush()

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[list[str]]:
        """Time a step; the caller appends what it did to the yielded list."""
        detail: list[str] = []
        start = time.perf_counter()
        try:
            yield detail
        except BaseException as error:
            why = "interrupted" if isinstance(error, KeyboardInterrupt) else "see the error below"
            self.say(f"FAIL  {name:<9} {time.perf_counter() - start:6.1f} s  ({why})")
            raise
        self.say(f"ok    {name:<9} {time.perf_counter() - start:6.1f} s  {' '.join(detail)}")


@dataclass(frozen=True)
class Project:
    """What the upload is about, read from ``pyproject.toml``."""

    root: Path
    name: str
    version: str

    @property
    def file_prefix(self) -> str:
        """The distribution name as it appears in file names (``binomial_gan_music``)."""
        return re.sub(r"[-_.]+", "_", self.name).lower()


def load_project(root: Path) -> Project:
    """Read the name and version from ``root/pyproject.toml``."""
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"{root} has no pyproject.toml: run this from the project's folder"
        raise StepFailed(msg, EXIT_REFUSED) from None
    project = data.get("project", {})
    if "version" not in project:
        msg = "pyproject.toml has no static [project] version: this script reads it from there"
        raise StepFailed(msg, EXIT_REFUSED)
    return Project(root=root, name=project["name"], version=str(project["version"]))


def index_label(target: str) -> str:
    """The name of the index in prose."""
    return {"local": "the local index", "testpypi": "TestPyPI", "pypi": "PyPI"}[target]


def upload_url(target: str) -> str:
    """The upload URL of a real index, read from twine so that it is written nowhere else."""
    import twine.utils

    return twine.utils.TEST_REPOSITORY if target == "testpypi" else twine.utils.DEFAULT_REPOSITORY


# ---------------------------------------------------------------- refusals before building


def credential_source(target: str, environ: Mapping[str, str]) -> str | None:
    """Say where twine will find the token for ``target``, or None if it will find none."""
    if environ.get("TWINE_PASSWORD"):
        return "TWINE_PASSWORD"
    import twine.exceptions
    import twine.utils

    config_file = twine.utils.DEFAULT_CONFIG_FILE
    try:
        config = twine.utils.get_config(config_file)
    except (OSError, twine.exceptions.TwineException):
        config = {}
    if config.get(target, {}).get("password"):
        return config_file
    try:
        import keyring

        if keyring.get_password(upload_url(target), TOKEN_USERNAME):
            return "keyring"
    except Exception:  # noqa: BLE001  (any keyring back-end failure means "no token there")
        return None
    return None


def refuse_without_credentials(target: str, environ: Mapping[str, str]) -> str:
    """Return where the token comes from; refuse with a clear message when there is none."""
    source = credential_source(target, environ)
    if source is None:
        label = index_label(target)
        msg = (
            f"no API token for {label}: create one in your {label} account settings, then "
            f"`export TWINE_PASSWORD=<token>` (TWINE_USERNAME defaults to {TOKEN_USERNAME}), "
            f"or put it under [{target}] in ~/.pypirc, or store it with "
            f"`keyring set {upload_url(target)} {TOKEN_USERNAME}`. Nothing was built or uploaded."
        )
        raise StepFailed(msg, EXIT_REFUSED)
    return source


def git(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run git in ``project`` and return the completed process (never raises on git errors)."""
    return subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, check=False)


def is_git_checkout(project: Path) -> bool:
    """True when ``project`` is the top of a git work tree."""
    try:
        result = git(project, "rev-parse", "--show-toplevel")
    except OSError:
        return False
    return result.returncode == 0 and Path(result.stdout.strip()).resolve() == project.resolve()


def check_tree(project: Path, target: str, *, allow_dirty: bool) -> str:
    """Refuse a dirty tree (uncommitted or untracked files) unless rehearsing with allow_dirty."""
    if not is_git_checkout(project):
        if target != "local":
            msg = f"{project} is not a git checkout: publish from a clean clone of the repository"
            raise StepFailed(msg, EXIT_REFUSED)
        return "not a git checkout: nothing to compare with"
    changes = git(project, "status", "--porcelain", "--untracked-files=normal").stdout.splitlines()
    if not changes:
        return "the git tree is clean"
    listed = ", ".join(line[3:] for line in changes[:5]) + (" ..." if len(changes) > 5 else "")
    if allow_dirty and target == "local":
        return f"the git tree is dirty ({listed}): rehearsing anyway (--allow-dirty)"
    fix = "commit or stash them first"
    if target == "local":
        fix += ", or pass --allow-dirty to rehearse the working tree as it is"
    msg = (
        f"refusing to publish a dirty tree: {len(changes)} uncommitted or untracked file(s) "
        f"({listed}); what is uploaded must be exactly a commit: {fix}"
    )
    raise StepFailed(msg, EXIT_REFUSED)


def release_tag(project: Path, environ: Mapping[str, str]) -> str | None:
    """The tag being released: GitHub's tag ref, else a tag that points at HEAD, else None."""
    ref = environ.get("GITHUB_REF", "")
    if ref.startswith("refs/tags/"):
        return ref.removeprefix("refs/tags/")
    try:
        result = git(project, "describe", "--tags", "--exact-match", "HEAD")
    except OSError:
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def check_tag(project: Project, target: str, environ: Mapping[str, str]) -> str:
    """Refuse when a release tag does not name the version; PyPI uploads need a tag."""
    from packaging.version import InvalidVersion, Version

    tag = release_tag(project.root, environ)
    if tag is None:
        if target == "pypi":
            msg = (
                f"no release tag on this commit: PyPI releases are made from a tag; "
                f"`git tag v{project.version} && git push origin v{project.version}` first"
            )
            raise StepFailed(msg, EXIT_REFUSED)
        return f"version {project.version}, no release tag on this commit"
    try:
        matches = Version(tag.removeprefix("v")) == Version(project.version)
    except InvalidVersion:
        matches = False
    if not matches:
        msg = (
            f"the tag {tag} being released does not match version {project.version} in "
            f"pyproject.toml: set the version to match the tag (or tag v{project.version}), "
            f"commit, and run again"
        )
        raise StepFailed(msg, EXIT_REFUSED)
    return f"version {project.version} matches the tag {tag}"


# ---------------------------------------------------------------- build and checks


def collect_dists(project: Project, folder: Path) -> list[Path]:
    """The sdist and wheel of this project's version in ``folder``; refuse anything else."""
    prefix = f"{project.file_prefix}-{project.version}"
    sdists = sorted(folder.glob(f"{prefix}.tar.gz"))
    wheels = sorted(folder.glob(f"{prefix}-*.whl"))
    if len(sdists) != 1 or not wheels:
        msg = (
            f"{folder} must hold one sdist ({prefix}.tar.gz) and its wheel(s) for version "
            f"{project.version}; found: {', '.join(p.name for p in folder.iterdir()) or 'nothing'}"
        )
        raise StepFailed(msg, EXIT_REFUSED)
    return [*sdists, *wheels]


def run_tool(args: Sequence[str], reporter: Reporter, **kwargs: object) -> str:
    """Run a tool; return its output, or raise StepFailed showing that output (redacted)."""
    result = subprocess.run(
        list(args),
        capture_output=True,
        text=True,
        check=False,
        **kwargs,  # type: ignore[call-overload]
    )
    output = str(result.stdout) + str(result.stderr)
    if result.returncode != 0:
        reporter.say(output, stream=2)
        msg = f"`{' '.join(Path(a).name if os.sep in a else a for a in args[:4])}` failed"
        raise StepFailed(msg)
    return output


def strict_checks(dists: Sequence[Path], project: Project, reporter: Reporter) -> None:
    """``twine check --strict`` on every file, ``check-wheel-contents`` on every wheel."""
    try:
        run_tool([sys.executable, "-m", "twine", "check", "--strict", *map(str, dists)], reporter)
        wheels = [str(p) for p in dists if p.suffix == ".whl"]
        run_tool(
            [sys.executable, "-m", "check_wheel_contents", *wheels], reporter, cwd=project.root
        )
    except StepFailed as failure:
        msg = f"refusing to upload: {failure} (its report is above); fix the package and rebuild"
        raise StepFailed(msg) from None


# ---------------------------------------------------------------- the local index


def free_port(port: int = 0) -> int:
    """``port`` if nothing on 127.0.0.1 holds it (0: any free port); refuse a port in use."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((LOCAL_HOST, port))
        except OSError:
            raise StepFailed(port_in_use(port), EXIT_REFUSED) from None
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> str:
    """The one line that says the local index cannot have ``port``, and what to do."""
    return (
        f"port {port} on {LOCAL_HOST} is already in use by another program, so the local index "
        f"cannot listen there: stop that program, pass another --index-port, or leave "
        f"--index-port out to take any free port"
    )


def write_htpasswd(path: Path, password: str) -> None:
    """An htpasswd file (apr1 hash), readable by its owner only, for ``__token__``:``password``.

    The file is created afresh with mode 0600 before anything is written to it.
    """
    from passlib.hash import apr_md5_crypt

    line = f"{TOKEN_USERNAME}:{apr_md5_crypt.hash(password)}\n".encode()
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(line)


@dataclass
class LocalIndex:
    """A running pypiserver: where it listens, its process, and where it keeps files."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    packages: Path
    log: Path


def _wait_until_ready(index: LocalIndex, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if index.process.poll() == local_index_server.EXIT_PORT_IN_USE:
            raise StepFailed(port_in_use(index.port), EXIT_REFUSED)
        if index.process.poll() is not None:
            log = index.log.read_text(encoding="utf-8", errors="replace")[-2000:]
            msg = f"the local index stopped at start-up (exit {index.process.returncode}):\n{log}"
            raise StepFailed(msg)
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(index.url + "health", timeout=1) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.1)
    msg = f"the local index did not answer within {timeout:.0f} s; its log is {index.log}"
    raise StepFailed(msg)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Stop a child by its own PID: SIGTERM (TerminateProcess on Windows), then SIGKILL."""
    if process.stdin is not None:
        process.stdin.close()  # the local index's watchdog stops it when this pipe closes
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def local_index(folder: Path, password: str, port: int, reporter: Reporter) -> Iterator[LocalIndex]:
    """Start pypiserver on 127.0.0.1 with password uploads and no fallback; always stop it.

    One ``try`` covers everything from the moment the process exists, so an interruption at
    any point (even between two steps) still stops it; ``local_index_server.py`` stops it
    too if this process dies without running any ``finally``. ``port`` 0 takes a free port.
    """
    packages = folder / "packages"
    packages.mkdir(parents=True, exist_ok=True)
    htpasswd = folder / "htpasswd"
    log = folder / "server.log"
    started: list[subprocess.Popen[bytes]] = []
    try:
        with reporter.step("index") as did:
            write_htpasswd(htpasswd, password)
            port = free_port(port)
            command = [
                sys.executable, local_index_server.__file__, "--parent", str(os.getpid()),
                "--password-file", str(htpasswd), "--port", str(port), "--", "run",
                "--host", LOCAL_HOST, "--port", str(port),
                "--disable-fallback",  # never send pip elsewhere for a name it lacks
                "--authenticate", "update", "--passwords", str(htpasswd),
                str(packages),
            ]  # fmt: skip
            # A session of its own: Ctrl-C reaches this script, which stops the server itself.
            extra: dict[str, object] = (
                {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]
                if sys.platform == "win32"
                else {"start_new_session": True}
            )
            with log.open("wb") as log_file:
                started.append(
                    subprocess.Popen(  # type: ignore[call-overload]
                        command,
                        stdin=subprocess.PIPE,  # its watchdog: closed when this process ends
                        stdout=log_file,
                        stderr=subprocess.STDOUT,
                        **extra,
                    )
                )
            index = LocalIndex(f"http://{LOCAL_HOST}:{port}/", port, started[0], packages, log)
            did.append(f"pypiserver listening on {index.url} (pid {started[0].pid}),")
            did.append(f"files in {packages}")
            _wait_until_ready(index)
        yield index
    finally:
        htpasswd.unlink(missing_ok=True)
        for process in started:
            with reporter.step("stop") as did:
                stop_process(process)
                did.append(
                    f"stopped the local index (pid {process.pid}, exit {process.returncode})"
                )


# ---------------------------------------------------------------- upload


def twine_environment(password: str | None) -> dict[str, str]:
    """The environment for twine: token in TWINE_PASSWORD, username ``__token__`` by default."""
    env = dict(os.environ)
    env.setdefault("TWINE_USERNAME", TOKEN_USERNAME)
    if password is not None:
        env["TWINE_PASSWORD"] = password
    env["NO_COLOR"] = "1"
    return env


def already_exists(output: str) -> bool:
    """True when the index refused the upload because that file is already there."""
    text = output.lower()
    return "already exists" in text or "file already exists" in text


def upload(
    dists: Sequence[Path],
    *,
    repository: Sequence[str],
    env: dict[str, str],
    exists_locally: bool,
    label: str,
    project: Project,
    reporter: Reporter,
) -> None:
    """Upload with twine; turn "this version is already there" into advice to bump it."""
    command = [
        sys.executable, "-m", "twine", "upload", "--non-interactive",
        "--disable-progress-bar", *repository, *map(str, dists),
    ]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    output = result.stdout + result.stderr
    if result.returncode == 0:
        return
    if already_exists(output) or (exists_locally and "400" in output):
        msg = (
            f"{label} already has version {project.version} of {project.name}, and an index "
            f"never accepts the same version twice: bump `version` in pyproject.toml, "
            f"commit, tag, and publish again"
        )
        if label == index_label("local"):
            msg += " (or, for the local rehearsal only, pass --fresh-index to empty it)"
        raise StepFailed(msg, EXIT_EXISTS)
    reporter.say(output, stream=2)
    msg = f"twine could not upload to {label} (its report is above)"
    raise StepFailed(msg)


# ---------------------------------------------------------------- install and smoke test


def venv_python(venv: Path) -> Path:
    """The interpreter of a virtual environment, on any platform."""
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def isolated_pip_environment() -> dict[str, str]:
    """pip with no configuration: no config file, no extra index, no find-links folder."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    return env


def simple_index(target: str, local_url: str | None) -> str | None:
    """The simple index to install from: local, TestPyPI's, or None for pip's default index."""
    if target == "local":
        return f"{local_url}simple/"
    if target == "testpypi":
        parts = urllib.parse.urlsplit(upload_url("testpypi"))
        return f"{parts.scheme}://{parts.netloc}/simple/"
    return None


def install_from_index(
    python: Path, project: Project, index: str | None, *, patience: float, reporter: Reporter
) -> str:
    """``pip install --no-deps`` the exact version from ``index`` alone; return where it came from.

    pip's report names the URL each file was downloaded from, which proves the source.
    """
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        command = [
            str(python), "-m", "pip", "install", "--no-deps", "--no-cache-dir",
            "--report", str(report), f"{project.name}=={project.version}",
        ]  # fmt: skip
        if index is not None:
            command[4:4] = ["--index-url", index]
        deadline = time.monotonic() + patience
        while True:
            result = subprocess.run(
                command, env=isolated_pip_environment(), capture_output=True, text=True, check=False
            )
            if result.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(10)  # a real index can take a minute to serve a new file
        if result.returncode != 0:
            reporter.say(result.stdout + result.stderr, stream=2)
            msg = f"pip could not install {project.name}=={project.version} from the index"
            raise StepFailed(msg)
        items = json.loads(report.read_text(encoding="utf-8"))["install"]
    url = str(items[0]["download_info"]["url"])
    if index is not None and not url.startswith(index.rsplit("/simple/", 1)[0]):
        msg = f"pip installed {project.name} from {url}, not from {index}"
        raise StepFailed(msg)
    return url


def install_dependencies(python: Path, project: Project, extras: str, reporter: Reporter) -> None:
    """Install the dependencies (and extras) from the normal index, with the user's pip setup."""
    requirement = f"{project.name}[{extras}]" if extras else project.name
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    run_tool(
        [str(python), "-m", "pip", "install", f"{requirement}=={project.version}"],
        reporter,
        env=env,
    )


def smoke_test(python: Path, script: Path, reporter: Reporter) -> str:
    """Run the smoke-test script with the installed copy, from an empty folder."""
    # The venv's own folder of commands (bin/ or Scripts/) first, so `gan-music` is the new one.
    env = {**os.environ, "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("PYTHONPATH", None)
    with tempfile.TemporaryDirectory() as tmp:
        output = run_tool([str(python), str(script), tmp], reporter, cwd=tmp, env=env)
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "smoke test passed"


# ---------------------------------------------------------------- the whole path


@dataclass
class Options:
    """Parsed command-line options."""

    target: str
    project: Path
    dist: Path | None
    index_dir: Path | None
    index_port: int
    fresh_index: bool
    allow_dirty: bool
    extras: str
    smoke: Path | None


def build_or_collect(options: Options, project: Project, reporter: Reporter) -> list[Path]:
    """Build reproducibly into dist/, or take the files of ``--dist``."""
    with reporter.step("build") as did:
        if options.dist is not None:
            dists = collect_dists(project, options.dist)
            did.append(f"using {', '.join(p.name for p in dists)} from {options.dist}")
            return dists
        epoch = reproducible_build.source_date_epoch(project.root)
        try:
            built = reproducible_build.build(project.root, project.root / "dist")
        except RuntimeError as error:
            msg = f"{error} (its output is above)"
            raise StepFailed(msg) from None
        did.append(f"{built.sdist.name} and {built.wheel.name}, SOURCE_DATE_EPOCH={epoch}")
        return list(built)


def install_and_smoke(
    options: Options, project: Project, index: str | None, reporter: Reporter
) -> None:
    """Fresh venv, package from the index alone, dependencies normally, then the smoke test."""
    patience = 0.0 if options.target == "local" else INDEX_PROPAGATION_SECONDS
    with tempfile.TemporaryDirectory(prefix="publish-venv-") as tmp:
        venv = Path(tmp) / "venv"
        with reporter.step("venv") as did:
            run_tool([sys.executable, "-m", "venv", str(venv)], reporter)
            did.append(f"fresh virtual environment in {venv}")
        python = venv_python(venv)
        with reporter.step("install") as did:
            url = install_from_index(python, project, index, patience=patience, reporter=reporter)
            did.append(f"{project.name}=={project.version} with --no-deps, from {url}")
        with reporter.step("deps") as did:
            install_dependencies(python, project, options.extras, reporter)
            did.append(f"dependencies{f' and [{options.extras}]' if options.extras else ''}")
            did.append("from the normal index")
        smoke = options.smoke or project.root / "scripts" / "smoke_test.py"
        with reporter.step("smoke") as did:
            did.append(smoke_test(python, smoke, reporter))


def publish(options: Options, reporter: Reporter) -> None:
    """Every step, in order; raises StepFailed at the first one that fails."""
    project = load_project(options.project)
    label = index_label(options.target)
    real = options.target != "local"
    with reporter.step("preflight") as did:
        if real:
            source = refuse_without_credentials(options.target, os.environ)
            did.append(f"token for {label} found in {source};")
        did.append(check_tree(project.root, options.target, allow_dirty=options.allow_dirty) + ";")
        did.append(check_tag(project, options.target, os.environ))
        if options.index_port:
            free_port(options.index_port)
    dists = build_or_collect(options, project, reporter)
    with reporter.step("check") as did:
        strict_checks(dists, project, reporter)
        did.append("twine check --strict and check-wheel-contents passed")
    if real:
        with reporter.step("upload") as did:
            env = twine_environment(None)
            upload(
                dists, repository=["--repository", options.target], env=env,
                exists_locally=False, label=label, project=project, reporter=reporter,
            )  # fmt: skip
            did.append(f"uploaded {len(dists)} files to {label} as {env['TWINE_USERNAME']}")
        install_and_smoke(options, project, simple_index(options.target, None), reporter)
        return
    folder = options.index_dir or project.root / LOCAL_INDEX_DIR
    if options.fresh_index:
        shutil.rmtree(folder / "packages", ignore_errors=True)
    # A password made for this run alone, never the user's token: no hash of a real token is
    # ever written, and any TWINE_PASSWORD, however long, plays no part here.
    password = secrets.token_urlsafe(32)
    reporter.secrets.append(password)
    with local_index(folder, password, options.index_port, reporter) as index:
        with reporter.step("upload") as did:
            exists = any((index.packages / p.name).exists() for p in dists)
            upload(
                dists, repository=["--repository-url", index.url],
                env=twine_environment(password), exists_locally=exists, label=label,
                project=project, reporter=reporter,
            )  # fmt: skip
            did.append(f"uploaded {len(dists)} files to {index.url} as {TOKEN_USERNAME}")
        install_and_smoke(options, project, simple_index("local", index.url), reporter)


def parse_args(argv: Sequence[str]) -> Options:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        description="Build, check, upload, install and smoke-test: locally, or for real."
    )
    parser.add_argument(
        "target", nargs="?", default="local", choices=TARGETS,
        help="local (default: a pypiserver on 127.0.0.1), testpypi or pypi",
    )  # fmt: skip
    parser.add_argument("--project", type=Path, default=Path.cwd(), help="project folder")
    parser.add_argument(
        "--dist", type=Path, help="upload the sdist and wheel in this folder instead of building"
    )
    parser.add_argument(
        "--index-dir", type=Path, help=f"local index folder (default: {LOCAL_INDEX_DIR}/)"
    )
    parser.add_argument(
        "--index-port", type=int, default=0, metavar="PORT",
        help="the local index's port on 127.0.0.1 (default: any free port)",
    )  # fmt: skip
    parser.add_argument(
        "--fresh-index", action="store_true", help="empty the local index before uploading"
    )
    parser.add_argument(
        "--allow-dirty", action="store_true",
        help="rehearse uncommitted changes (local target only; real uploads always refuse)",
    )  # fmt: skip
    parser.add_argument(
        "--extras", default=DEFAULT_EXTRAS, help="extras the smoke test needs (default: midi)"
    )
    parser.add_argument("--smoke", type=Path, help="smoke-test script (scripts/smoke_test.py)")
    parser.add_argument(
        "--print-upload-url", choices=("testpypi", "pypi"),
        help="print `upload-url=<twine's URL for that index>` and exit (for GitHub Actions)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.print_upload_url:
        print(f"upload-url={upload_url(args.print_upload_url)}")
        raise SystemExit(0)
    if args.target != "local" and (args.fresh_index or args.index_dir or args.index_port):
        parser.error("--fresh-index, --index-dir and --index-port apply to the local target only")
    if not 0 <= args.index_port <= 65535:
        parser.error(f"--index-port must be a TCP port from 1 to 65535, not {args.index_port}")
    return Options(
        target=args.target,
        project=args.project.resolve(),
        dist=args.dist.resolve() if args.dist else None,
        index_dir=args.index_dir.resolve() if args.index_dir else None,
        index_port=args.index_port,
        fresh_index=args.fresh_index,
        allow_dirty=args.allow_dirty,
        extras=args.extras,
        smoke=args.smoke.resolve() if args.smoke else None,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the whole path; print one line per step and a clear reason on failure."""
    options = parse_args(sys.argv[1:] if argv is None else argv)
    reporter = Reporter()
    if os.environ.get("TWINE_PASSWORD"):
        reporter.secrets.append(os.environ["TWINE_PASSWORD"])
    # SIGTERM (from CI, or `kill`) unwinds like Ctrl-C, so the local index is stopped too.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    start = time.perf_counter()
    try:
        publish(options, reporter)
    except StepFailed as failure:
        reporter.say(f"error: {failure}", stream=2)
        return failure.exit_status
    except KeyboardInterrupt:
        reporter.say("interrupted: nothing more was done, and the local index is stopped", stream=2)
        return EXIT_INTERRUPTED
    where = index_label(options.target)
    reporter.say(f"done in {time.perf_counter() - start:.1f} s: published to {where} and verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
