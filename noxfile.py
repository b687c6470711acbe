#!/usr/bin/env python3
# /// script
# dependencies = ["nox>=2025.5.1"]
# ///
"""Development tasks. Run ``python -m nox -l`` to list them, ``python -m nox`` for the defaults.

Each session runs in its own fresh virtual environment, so a task never depends on
what happens to be installed on the machine. Tool versions come from the dependency
groups in pyproject.toml, the one place that pins them.

The main job is ``python -m nox -s publish``: build, check, upload to a package index on
127.0.0.1, install from it and smoke-test (``-- testpypi`` or ``-- pypi`` for the real thing).
"""

from __future__ import annotations

import filecmp
import re
import shutil
import sys
import tempfile
from pathlib import Path

import nox
from nox.command import CommandFailed

nox.needs_version = ">=2025.5.1"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = False

ROOT = Path(__file__).parent.resolve()
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
DIST = ROOT / "dist"
BUILD_SCRIPT = ROOT / "scripts" / "reproducible_build.py"
# The oldest Python the pinned Sphinx (the `docs` group) runs on.
DOCS_PYTHON = (3, 11)


def group(name: str) -> list[str]:
    """The requirements of one dependency group of pyproject.toml."""
    return list(nox.project.dependency_groups(PYPROJECT, name))


def build_dists(session: nox.Session, out_dir: Path) -> tuple[Path, Path]:
    """Build the sdist, then the wheel from that sdist, reproducibly, into ``out_dir``.

    ``scripts/reproducible_build.py`` sets SOURCE_DATE_EPOCH and umask 022, builds with the
    backend pinned in the ``build`` group, and normalises the sdist; building the wheel from
    the sdist proves the sdist is complete.
    """
    session.run("python", str(BUILD_SCRIPT), "--outdir", str(out_dir), str(ROOT))
    (sdist,) = out_dir.glob("*.tar.gz")
    (wheel,) = out_dir.glob("*.whl")
    return sdist, wheel


@nox.session(default=True)
def tests(session: nox.Session) -> None:
    """Build the wheel, install it with the test tools, and run pytest against the installed copy.

    The layout is flat, so pytest run from the repository root would import the source
    folders instead of the wheel. Running from an empty temporary folder means a file
    missing from the wheel makes the tests fail, as it would for a user.
    """
    session.install(*group("test"))
    with tempfile.TemporaryDirectory() as tmp:
        dist = Path(tmp) / "dist"
        _, wheel = build_dists(session, dist)
        session.install(f"{wheel}[all]")
        session.chdir(tmp)
        session.run(
            "python", "-m", "pytest",
            "--rootdir", str(ROOT),
            "-c", str(ROOT / "pyproject.toml"),
            "-p", "no:cacheprovider",
            str(ROOT / "tests"),
            *session.posargs,
            env={"PACKAGING_TEST_DIST_DIR": str(dist)},
        )  # fmt: skip


@nox.session(default=True)
def lint(session: nox.Session) -> None:
    """The pre-commit hooks' tools, at the versions .pre-commit-config.yaml pins.

    pre-commit itself fetches its hooks from git hosts; this session installs the same
    tools from the package index instead, so it also runs where only the index is reachable.
    """
    session.install(*group("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
    session.run("codespell")
    session.run("mdformat", "--check", *markdown_files())
    session.run("validate-pyproject", "pyproject.toml")


def markdown_files() -> list[str]:
    """Every Markdown file of the project, outside build output and environments."""
    skip = {".git", ".nox", ".venv", "venv", "build", "dist", ".local-index", "node_modules"}
    skip |= {".pytest_cache", ".mypy_cache", ".ruff_cache"}  # tools' caches write a README.md
    return sorted(
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.md")
        if not skip & set(path.relative_to(ROOT).parts)
    )


def precommit_pins() -> dict[str, str]:
    """Map each hook repository's short name to the version .pre-commit-config.yaml pins."""
    text = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    pairs = re.findall(r"repo:\s*\S+/([\w.-]+?)(?:\.git)?\s+rev:\s*[\"']?v?([\w.]+)", text)
    return dict(pairs)


def check_pins_match(session: nox.Session) -> None:
    """Fail when a tool's version in the lint group differs from its pre-commit hook's rev."""
    hook_repo_of = {
        "ruff": "ruff-pre-commit",
        "mypy": "mirrors-mypy",
        "codespell": "codespell",
        "mdformat": "mdformat",
        "validate-pyproject": "validate-pyproject",
    }
    pins = precommit_pins()
    lint_pins = dict(
        re.findall(r"^([\w-]+)(?:\[[\w,]+\])?==([\w.]+)$", "\n".join(group("lint")), re.MULTILINE)
    )
    mismatches = [
        f"{tool}: lint group {lint_pins.get(tool)} vs pre-commit {pins.get(repo)}"
        for tool, repo in hook_repo_of.items()
        if lint_pins.get(tool) != pins.get(repo)
    ]
    if mismatches:
        session.error("pre-commit and the lint group disagree: " + "; ".join(mismatches))
    matched = ", ".join(f"{tool}=={lint_pins[tool]}" for tool in hook_repo_of)
    session.log(f"pre-commit hooks and the lint group pin the same versions: {matched}")


@nox.session(default=True, requires=["lint"])
def quality(session: nox.Session) -> None:
    """The quality gate: repo-review, validate-pyproject, pyroma 10/10, hooks in sync.

    ``lint`` (the pre-commit hooks' tools) runs first, as a requirement of this session.
    Checks that do not apply are ignored in ``[tool.repo-review]`` with a written reason.
    """
    session.install(*group("quality"))
    check_pins_match(session)
    session.run("sp-repo-review", "--show", "errskip", str(ROOT))
    session.run("validate-pyproject", "pyproject.toml")
    session.run("pyroma", "--min", "10", str(ROOT))


@nox.session(default=True)
def workflows(session: nox.Session) -> None:
    """Security lint (zizmor, offline) and schema checks of the GitHub workflows."""
    session.install(*group("workflows"))
    github = ROOT / ".github"
    files = sorted(str(p) for p in (github / "workflows").glob("*.yml"))
    session.run("zizmor", "--offline", "--persona", "pedantic", str(github))
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *files)
    session.run(
        "check-jsonschema", "--builtin-schema", "vendor.dependabot", str(github / "dependabot.yml")
    )


@nox.session(default=True)
def check(session: nox.Session) -> None:
    """Strict metadata and content checks on freshly built distributions."""
    session.install(*group("check"))
    session.run("validate-pyproject", "pyproject.toml")
    with tempfile.TemporaryDirectory() as tmp:
        sdist, wheel = build_dists(session, Path(tmp))
        session.run("twine", "check", "--strict", str(sdist), str(wheel))
        session.run("check-wheel-contents", str(wheel))
    # The README is the index page's long description: a relative link or image is dead there.
    session.run(
        "python", str(ROOT / "scripts" / "check_long_description.py"), str(ROOT / "README.md")
    )


@nox.session(default=True)
def docs(session: nox.Session) -> None:
    """The documentation site, from docs/ and the docstrings, into build/docs/html/.

    Sphinx with MyST-Parser and autodoc, every warning an error, then every docstring
    example run against the same installed copy (tests/test_doctests.py). Both run from an
    empty folder, so they see the installed package, not the source folders. Read the Docs
    builds the same configuration (.readthedocs.yaml). See docs/documentation.md.
    """
    if sys.version_info < DOCS_PYTHON:
        session.error("the docs need Python 3.11 or newer (Sphinx 9): run nox with a newer Python")
    schema_check = [req for req in group("workflows") if req.startswith("check-jsonschema")]
    session.install(f"{ROOT}[all]", *group("docs"), *schema_check)
    readthedocs = str(ROOT / ".readthedocs.yaml")
    session.run("check-jsonschema", "--builtin-schema", "vendor.readthedocs", readthedocs)
    out = ROOT / "build" / "docs"
    shutil.rmtree(out, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        session.chdir(tmp)
        session.run(
            "python", "-m", "sphinx", "--fail-on-warning", "--keep-going", "--builder", "html",
            "--doctree-dir", str(out / "doctrees"), str(ROOT / "docs"), str(out / "html"),
        )  # fmt: skip
        session.run(
            "python", "-m", "pytest", "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"),
            "-p", "no:cacheprovider", str(ROOT / "tests" / "test_doctests.py"),
        )  # fmt: skip
    session.log(f"the site: {out / 'html' / 'index.html'}")


@nox.session(default=False)
def build(session: nox.Session) -> None:
    """Build the sdist and the wheel into dist/, reproducibly."""
    session.install(*group("build"))
    shutil.rmtree(DIST, ignore_errors=True)
    sdist, wheel = build_dists(session, DIST)
    session.log(f"built {sdist.name} and {wheel.name}")


@nox.session(default=True)
def repro(session: nox.Session) -> None:
    """Build twice and require byte-identical sdists and wheels."""
    session.install(*group("build"))
    with tempfile.TemporaryDirectory() as tmp:
        first, second = Path(tmp) / "first", Path(tmp) / "second"
        built = [build_dists(session, first), build_dists(session, second)]
        for one, two in zip(*built, strict=True):
            if one.name != two.name or not filecmp.cmp(one, two, shallow=False):
                session.error(
                    f"{one.name} differs between two builds: the build is not reproducible"
                )
            session.log(f"identical: {one.name}")


@nox.session(default=False)
def publish(session: nox.Session) -> None:
    """Build, check, upload, install from the index and smoke-test (the repository's main job).

    ``nox -s publish`` rehearses against a package index on 127.0.0.1;
    ``nox -s publish -- testpypi`` and ``-- pypi`` upload for real (token in TWINE_PASSWORD,
    ~/.pypirc or keyring). ``-- --allow-dirty`` rehearses uncommitted work, ``-- --fresh-index``
    empties the local index first. See docs/publishing.md.
    """
    session.install(*group("publish"))
    try:
        session.run(
            "python", str(ROOT / "scripts" / "publish.py"), "--project", str(ROOT),
            *session.posargs,
            interrupt_timeout=60,  # on Ctrl-C, time for the script to stop its local index
        )  # fmt: skip
    except CommandFailed as failure:
        status = publish_status(failure)
        if status is None:
            raise
        session.log(f"scripts/publish.py exited with status {status}: nox exits with it too")
        raise SystemExit(status) from None


# The exit statuses of scripts/publish.py that tell a caller what happened (2 refused, 3 the
# version is already on the index, 130 interrupted). nox ends with 1 whatever a command
# returned, so the publish session re-raises these as SystemExit, which nox lets through:
# `nox -s publish` then exits with the script's status (and runs no session after it).
PUBLISH_STATUSES = frozenset({2, 3, 130})


def publish_status(failure: CommandFailed) -> int | None:
    """The script's exit status if it is one of PUBLISH_STATUSES, else None."""
    status = getattr(failure, "return_code", None)  # set by newer nox
    if status is None:  # older nox only says "Returned code N"
        found = re.fullmatch(r"Returned code (-?\d+)", str(failure.reason or ""))
        status = int(found.group(1)) if found else None
    return status if status in PUBLISH_STATUSES else None


@nox.session(default=False)
def rename(session: nox.Session) -> None:
    """Adopt the template: ``nox -s rename -- my-package`` renames the distribution and packages.

    Then ruff re-formats the lines that longer names pushed past the line length.
    See docs/adopting-the-template.md for the naming scheme and options.
    """
    if not session.posargs:
        session.error("give the new distribution name: nox -s rename -- my-package")
    ruff = [req for req in group("lint") if req.startswith("ruff")]
    session.install(*ruff, "tomli>=2; python_version < '3.11'")
    session.run("python", str(ROOT / "scripts" / "rename.py"), *session.posargs)
    session.run("ruff", "format", "--quiet", str(ROOT))


@nox.session(default=False)
def fork(session: nox.Session) -> None:
    """Adopt the template as a new user would, end to end (minutes; .ci/run runs it).

    tests/test_fork.py clones the repository's committed HEAD, renames and commits the clone,
    then runs every command of its README in order: the Quickstart's virtual environment,
    install, ``nox -s publish`` and ``nox -s tests`` (the renamed copy's whole suite against its
    wheel), the examples, and the upload commands against two indexes on 127.0.0.1.
    """
    session.install(*group("fork"))
    session.run(
        "python", "-m", "pytest",
        "--rootdir", str(ROOT),
        "-c", str(ROOT / "pyproject.toml"),
        "-p", "no:cacheprovider",
        "-s",  # the section timings of the walk-through, as they happen
        str(ROOT / "tests" / "test_fork.py"),
        *session.posargs,
        env={"TEMPLATE_FORK_CHECK": "1"},
    )  # fmt: skip


if __name__ == "__main__":
    # `python noxfile.py -s tests` works too: nox reads this file's PEP 723 header.
    nox.main()


@nox.session(default=False, venv_backend="virtualenv")
def bench(session: nox.Session) -> None:
    """Benchmarks: the built wheel against PyTorch and scipy; writes docs/benchmarks.md.

    ``-- --quick`` skips the full training run (minutes) and writes nothing unless given
    ``--out FILE``. PyTorch is pinned to the CPU build that pip finds on this machine's disk:
    an unpinned ``torch`` pulls a GPU build of several GB. The session uses pip (virtualenv),
    not uv, which does not look there. See benchmarks/README.md.

    The benchmarks run as on a user's machine: without ``OPENBLAS_CORETYPE`` and
    ``OPENBLAS_L2_SIZE``, which force OpenBLAS's kernels and cache size (only this session
    removes them, never the tests). Their values go along in
    ``BENCH_CALLER_OPENBLAS_VARIABLES`` so the page can compare the two.
    """
    import json  # here, not at the top: only this session needs them
    import os

    forced = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    caller = {name: os.environ[name] for name in forced if name in os.environ}
    env: dict[str, str | None] = dict.fromkeys(forced)  # None: nox removes the variable
    env["BENCH_CALLER_OPENBLAS_VARIABLES"] = json.dumps(caller)
    session.install(*group("build"))
    with tempfile.TemporaryDirectory() as tmp:
        _, wheel = build_dists(session, Path(tmp) / "dist")
        session.install(f"{wheel}[all]", *group("bench"))
        session.chdir(tmp)  # an empty folder: the wheel is imported, never the source tree
        session.run(
            "python", str(ROOT / "benchmarks" / "run.py"), "--wheel", str(wheel), *session.posargs,
            env=env,
        )  # fmt: skip
