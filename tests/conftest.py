"""Shared fixtures. Fixtures shared by the tests."""

from __future__ import annotations

from pathlib import Path

import pytest

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
