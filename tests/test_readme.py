"""The README's examples run as written (it travels in the sdist beside the tests)."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
PYCON_BLOCK = re.compile(r"^```pycon\n(.*?)^```", re.MULTILINE | re.DOTALL)


@pytest.mark.skipif(not README.is_file(), reason="README.md is not beside the tests")
def test_readme_examples() -> None:
    examples = "\n".join(PYCON_BLOCK.findall(README.read_text(encoding="utf-8")))
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    test = doctest.DocTestParser().get_doctest(examples, {}, "README.md", str(README), 0)
    runner = doctest.DocTestRunner(optionflags=flags)
    runner.run(test)
    assert runner.tries >= 5
    assert runner.failures == 0


def test_the_public_gan_music_names_resolve() -> None:
    import gan_music

    for name in gan_music.__all__:
        assert getattr(gan_music, name) is not None, name
    assert set(gan_music.__all__) <= set(dir(gan_music))
