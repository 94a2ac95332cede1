"""Fixtures shared by the tests, and the Hypothesis profile of CI runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# CI explores the same examples on every run (a failure there is reproducible, never a fluke
# of the draw); a developer's runs draw new ones and keep failures in .hypothesis/.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def root() -> Path:
    """The project folder."""
    return ROOT


@pytest.fixture(scope="session")
def targets():
    """The shipped targets catalogue."""
    from brandstats import load_targets

    return load_targets()


@pytest.fixture(scope="session")
def observations(targets):
    """The shipped observations."""
    from brandstats import load_observations

    return load_observations(targets=targets)
