"""A fork works on the first try: a fresh clone, renamed, follows its own README to a publish.

Run by ``python3 -m nox -s fork`` (and so by .ci/run), never by ``nox -s tests``: it takes
minutes and runs the whole test suite itself. The steps, in the order a new user takes them:

1. ``git clone`` this repository into a temporary folder: a fresh clone of the committed HEAD
   (uncommitted work is not in it).
2. Rename it as the README's "Make it yours" says, ``python3 -m nox -s rename -- NEW --github
   OWNER/NEW`` (the clone's ``origin`` is a local path, so the owner is given), and commit. No
   old name may then survive in any file name or text, except in
   docs/adopting-the-template.md, which explains them.
3. Run every command of the renamed README's Quickstart, package sections and "Building and
   publishing by hand", in order, in one bash process in the clone: shell blocks as written,
   the ``pycon`` block as a doctest, the ``python`` block as a script. The Quickstart makes the
   virtual environment, installs the package from the clone with its extras, and runs
   ``nox -s publish`` (the rehearsal) and ``nox -s tests`` (the whole suite of the renamed copy,
   against its installed wheel). The upload commands of the last section run with a temporary
   HOME whose ``.pypirc`` points ``pypi`` and ``testpypi`` at two pypiserver instances on
   127.0.0.1, so the same ``-r`` flags never reach a real index.
4. What the examples wrote is ignored by git, so the tree is still clean and a second
   ``nox -s publish`` would run: checked with the publish script's own check.

Why one test, in this order: the README's own ``nox -s tests`` and ``nox -s publish`` are the
whole suite and the rehearsal of the renamed copy, so each runs once. Walking through the
unrenamed README and then testing a renamed copy would cost a second whole suite, and CI has
two cores. The nested suite runs with TEMPLATE_FORK_CHECK=nested and skips this test, so it
never recurses.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

import pytest
from test_rename import current_names, old_name_hits
from tiny_project import REPO, SCRIPTS, git, git_environment, require_scripts

require_scripts()
sys.path.insert(0, str(SCRIPTS))
import publish  # a script module, found through the line above

ENV_FLAG = "TEMPLATE_FORK_CHECK"
NEW = "tiny-stats-demo"
NEW_GITHUB = f"fork-owner/{NEW}"
BY_HAND = "Building and publishing by hand"
SHELL = {"bash", "sh", "shell"}  # the code blocks the walk-through runs as shell commands
SECTION = re.compile(r"^## (.+?)[ \t]*$", re.MULTILINE)
BLOCK = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
RUN_DOCTEST = (
    "import doctest, sys; "
    "r = doctest.testfile(sys.argv[1], module_relative=False, "
    "optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE); "
    "print(f'doctest: {r.attempted} examples, {r.failed} failed'); "
    "sys.exit(1 if r.failed or not r.attempted else 0)"
)


def skip_reason() -> str | None:
    """Why this test does not run here, or None when ``nox -s fork`` asked for it."""
    flag = os.environ.get(ENV_FLAG)
    if flag == "nested":
        return "inside the fork check's own nested suite: it never recurses"
    if flag != "1":
        return "minutes long: run by `python3 -m nox -s fork` (and .ci/run)"
    if sys.platform == "win32":
        return "the README's shell blocks are bash"
    return None


def readme_sections(readme: str) -> dict[str, str]:
    """Each ``## `` section of the README by its title, subsections included."""
    parts = SECTION.split(readme)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def walk_through(readme: str, packages: list[str], scratch: Path, home: Path) -> str:
    """One bash script running the README's sections' code blocks in order."""
    sections = readme_sections(readme)
    wanted = ["Quickstart", *(f"`{package}`" for package in packages), BY_HAND]
    missing = [title for title in wanted if title not in sections]
    assert not missing, f"the README has no section {missing}"
    first_block = BLOCK.search(readme)
    assert first_block is not None
    assert "python3 -m venv .venv" in first_block.group(2)
    assert 'pip install ".[' in first_block.group(2), "the first block installs from the clone"
    lines = ["set -xeo pipefail"]
    for title in wanted:
        lines.append(f"echo {shlex.quote(f'== README section {title}, at')} $SECONDS s")
        if title == BY_HAND:
            # twine reads ~/.pypirc: here it sends -r testpypi and the default (pypi) to 127.0.0.1.
            lines.append(
                f"export HOME={shlex.quote(str(home))} TWINE_NON_INTERACTIVE=1 "
                'TWINE_PASSWORD="$FORK_CHECK_PASSWORD"'
            )
        for number, (language, code) in enumerate(BLOCK.findall(sections[title])):
            if title == BY_HAND:
                uploads = [line for line in code.splitlines() if "twine upload" in line]
                assert uploads, "the section uploads with twine"
                assert not any("://" in line or "--repository-url" in line for line in uploads)
            if language in SHELL:
                lines.append(code)
            elif language in {"pycon", "python"}:
                block = scratch / f"{title.strip('`')}-{number}.{language}"
                block.write_text(code, encoding="utf-8")
                run = RUN_DOCTEST if language == "pycon" else None
                lines.append(
                    f"python3 -c {shlex.quote(run)} {shlex.quote(str(block))}"
                    if run
                    else f"python3 {shlex.quote(str(block))}"
                )
            else:
                msg = f"README section {title} has a ```{language} block this test cannot run"
                raise AssertionError(msg)
    lines.append("echo '== README done, at' $SECONDS s")
    return "\n".join(lines) + "\n"


def pypirc(indexes: dict[str, publish.LocalIndex]) -> str:
    """A .pypirc that names the local indexes ``pypi`` and ``testpypi``."""
    sections = "".join(
        f"\n[{name}]\nrepository = {index.url}\nusername = {publish.TOKEN_USERNAME}\n"
        for name, index in indexes.items()
    )
    servers = "".join(f"\n    {name}" for name in indexes)
    return f"[distutils]\nindex-servers ={servers}\n{sections}"


def nested_environment(password: str) -> dict[str, str]:
    """The user's environment, outside this session's virtual environment and twine settings."""
    dropped = {"VIRTUAL_ENV", "PYTHONPATH", "TWINE_REPOSITORY", "TWINE_REPOSITORY_URL"}
    env = {key: value for key, value in git_environment().items() if key not in dropped}
    env.pop("TWINE_USERNAME", None)
    env.pop("TWINE_PASSWORD", None)
    return {**env, ENV_FLAG: "nested", "FORK_CHECK_PASSWORD": password}


def run_to_the_end(
    command: list[str], *, cwd: Path, env: dict[str, str], output: IO[str], timeout: float = 5400
) -> int:
    """Run ``command`` in a process group of its own; on a timeout, stop the whole group.

    SIGTERM first: the nested ``nox -s publish`` stops its own local index on it.
    """
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        return process.wait(timeout=timeout)
    except BaseException:
        for sig, grace in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=grace)
                break
        raise


def what_failed(log: str, tail: int = 6000) -> str:
    """The nested suite's FAILED and ERROR lines, then the log's tail.

    The lines come first because what pytest prints after its summary (a warning raised at
    exit, a long traceback) can push them out of any tail.
    """
    failed = [line for line in log.splitlines() if line.startswith(("FAILED ", "ERROR "))]
    return "\n".join([*failed, "[...]", log[-tail:]])


def test_what_failed_puts_the_failed_tests_before_the_tail() -> None:
    log = "FAILED tests/test_a.py::test_b - boom\n" + "x" * 10_000
    lines = what_failed(log, tail=100).splitlines()
    assert lines[0] == "FAILED tests/test_a.py::test_b - boom"
    assert lines[-1] == "x" * 100


def test_the_walk_through_runs_every_block_of_those_sections(tmp_path: Path) -> None:
    """Cheap, in every ``nox -s tests``: a README change the walk-through cannot follow fails here."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    _, packages, _ = current_names(REPO)
    script = walk_through(readme, packages, tmp_path, tmp_path / "home")
    sections = readme_sections(readme)
    for title in ["Quickstart", *(f"`{package}`" for package in packages), BY_HAND]:
        for language, code in BLOCK.findall(sections[title]):
            if language == "bash":
                assert code in script
    written = sorted(path.suffix for path in tmp_path.iterdir() if path.is_file())
    assert written == [".pycon", ".python"]
    assert script.index("python3 -m venv .venv") < script.index("nox -s tests")
    assert (
        script.index("nox -s tests") < script.index("export HOME=") < script.index("twine upload")
    )


@pytest.mark.slow
@pytest.mark.skipif(skip_reason() is not None, reason=f"{skip_reason()}")
# passlib, which writes the local indexes' password files, imports the standard crypt module.
@pytest.mark.filterwarnings("ignore:'crypt' is deprecated:DeprecationWarning")
def test_a_renamed_fresh_clone_follows_its_readme_to_a_publish(tmp_path: Path) -> None:
    clone = tmp_path / "fork"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, capture_output=True)
    old_dist, old_packages, old_commands = current_names(clone)

    # Make it yours: rename, review, commit.
    renamed = subprocess.run(
        [sys.executable, "-m", "nox", "-s", "rename", "--", NEW, "--github", NEW_GITHUB],
        cwd=clone, capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip
    assert renamed.returncode == 0, renamed.stdout + renamed.stderr
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", f"Rename to {NEW}")
    old = [old_dist, old_dist.replace("-", "_"), *old_packages, *old_commands]
    assert old_name_hits(clone, old) == []
    dist, packages, _ = current_names(clone)
    assert dist == NEW

    # The renamed README, followed literally.
    scratch, home = tmp_path / "scratch", tmp_path / "home"
    scratch.mkdir()
    home.mkdir()
    readme = (clone / "README.md").read_text(encoding="utf-8")
    script = scratch / "readme.sh"
    script.write_text(walk_through(readme, packages, scratch, home), encoding="utf-8")
    password = secrets.token_urlsafe(24)
    log = tmp_path / "readme.log"
    with contextlib.ExitStack() as stack:
        reporter = publish.Reporter(secrets=[password])
        indexes = {
            name: stack.enter_context(publish.local_index(tmp_path / name, password, 0, reporter))
            for name in ("pypi", "testpypi")
        }
        (home / ".pypirc").write_text(pypirc(indexes), encoding="utf-8")
        with log.open("w", encoding="utf-8") as output:
            returncode = run_to_the_end(
                ["bash", str(script)], cwd=clone, env=nested_environment(password), output=output
            )
        uploaded = {
            name: sorted(p.name for p in index.packages.iterdir())
            for name, index in indexes.items()
        }
    text = log.read_text(encoding="utf-8", errors="replace")
    print("\n".join(line for line in text.splitlines() if line.startswith("== README")))
    assert returncode == 0, what_failed(text)

    # Quickstart: the rehearsal and the whole suite of the renamed copy, which skipped this test.
    assert "published to the local index and verified" in text
    summary = re.findall(r"^=+ (.*\d+ passed.*) =+$", text, re.MULTILINE)
    assert summary, what_failed(text)
    assert not re.search(r"\d+ (failed|error)", summary[-1]), summary[-1]
    assert "inside the fork check's own nested suite" in text
    # The binomial section's session, as a doctest.
    assert re.search(r"^doctest: ([5-9]|\d\d+) examples, 0 failed$", text, re.MULTILINE)
    # The music section's commands wrote what they say (its shell blocks, not its prose).
    music = readme_sections(readme)[f"`{packages[1]}`"]
    commands = "\n".join(body for lang, body in BLOCK.findall(music) if lang in SHELL)
    outputs = re.findall(r"--(?:out|plot) (\S+)", commands)
    assert outputs, commands
    for written in outputs:
        assert (clone / written).exists(), written
    # By hand: both uploads reached their local index, and only that.
    prefix = dist.replace("-", "_")
    for name, files in uploaded.items():
        assert any(f.startswith(prefix) and f.endswith(".whl") for f in files), (name, files)
        assert any(f.startswith(prefix) and f.endswith(".tar.gz") for f in files), (name, files)

    # Everything the README wrote is ignored by git: `nox -s publish` would run again.
    assert publish.check_tree(clone, "local", allow_dirty=False) == "the git tree is clean"
