"""Keeps the course commands working: ``python setup.py sdist`` and ``python3 setup.py sdist bdist_wheel``.

All metadata is in pyproject.toml. The modern, equivalent command is ``python -m build``,
which builds the sdist and the wheel in an isolated environment.
"""

from setuptools import setup

setup()
