"""Shared fixtures. Plots use the Agg backend; no test may leave a figure open."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

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
