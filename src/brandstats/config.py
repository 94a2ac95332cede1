"""One home for the facts the modules share: project paths, comparisons, model names, year range,
what a name may hold.

Every other module imports these; defining one of them a second time is a bug waiting to diverge.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

__all__ = [
    "ACCUMULATIONS",
    "COMPARISONS",
    "DATA_DIR",
    "FILE_STEM_BYTES",
    "MODELS",
    "MODEL_CHOICES",
    "NOTEBOOKS_DIR",
    "PROJECT_ROOT",
    "VINTAGE_BASES",
    "YEARS_TEXT",
    "YEAR_RANGE",
    "is_name_character",
]


def _project_root() -> Path:
    """The folder holding ``data/`` and ``notebooks/``.

    An installed wheel carries them inside the package (``brandstats/data``,
    ``brandstats/notebooks``: ``force-include`` in pyproject.toml); a source tree, and so an
    editable install, has them at its top, two levels above this file.
    """
    package = Path(__file__).resolve().parent
    return package if (package / "data").is_dir() else package.parents[1]


PROJECT_ROOT = _project_root()
"""The folder holding ``data/`` and ``notebooks/``: the source tree's top in a development
(editable) install, the installed package's folder otherwise."""

DATA_DIR = PROJECT_ROOT / "data"
"""The shipped data folder."""

NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
"""The shipped notebooks."""

COMPARISONS = (">", ">=", "<", "<=")
"""How a target compares the target-year value with the target figure."""

ACCUMULATIONS = ("level", "cumulative")
"""How an indicator accumulates: a ``level`` (the default) can rise and fall; a ``cumulative``
total only grows, so a target it meets stays met ("already met")."""

YEAR_RANGE = (1949, 2100)
"""The years an observation, a target year or a vintage may name (inclusive)."""

YEARS_TEXT = f"a year between {YEAR_RANGE[0]} and {YEAR_RANGE[1]}"
"""How messages state :data:`YEAR_RANGE`."""

MODELS: dict[str, int] = {"drift": 3, "linear": 3, "loglinear": 3, "holt": 6}
"""The trend models, simplest first, with the fewest observations each needs."""

MODEL_CHOICES = ("auto", *MODELS)
"""What a user may ask for: ``auto`` (the backtest-weighted mixture) or one model."""

FILE_STEM_BYTES = 200
"""The longest name of a run (the stem of its ``.ipynb``, ``.html`` and ``.json`` files), in
UTF-8 bytes: with a suffix and a temporary file's tail it stays within the 255 bytes a file
name may have (a Chinese character takes 3 bytes)."""


def is_name_character(char: str) -> bool:
    """Whether ``char`` may stand in an indicator id, a run's name or a report's file name.

    A letter, combining mark or digit of any script (``a``, ``创``, ``é``, ``٣``) or ``_``:
    characters every file system, URL and notebook parameter takes as they are. Spaces,
    control characters and punctuation (``/ \\ : * ? " < > | # %``) are not.

    Examples
    --------
    >>> [is_name_character(c) for c in "a创_ /"]
    [True, True, True, False, False]
    """
    return char == "_" or unicodedata.category(char)[0] in "LMN"


VINTAGE_BASES = ("latest", "published")
"""What ``as_of`` reads (``vintage_basis``): ``"latest"``, today's figures up to that year
(later revisions included; the default), or ``"published"``, the figures as published by the
end of that year (:func:`brandstats.published_by`)."""
