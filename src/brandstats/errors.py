"""The package's own exceptions.

Every problem brandstats detects in its inputs is raised as a :class:`BrandstatsError`
(a :class:`ValueError`), so callers can catch one type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["BrandstatsError", "DataError", "InsufficientDataError", "Problem"]


class BrandstatsError(ValueError):
    """Base class of every error brandstats raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as a spreadsheet user would find it.

    Parameters
    ----------
    file : str
        The file name (or ``"<DataFrame>"`` for an in-memory table).
    row : int or None
        The row number as a spreadsheet shows it (header = row 1), or None for the whole file.
    column : str or None
        The column name, or None when the problem is not about one column.
    value : str or None
        The offending value as read, or None.
    expected : str
        What was expected instead.
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    expected: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        got = f"got {self.value!r}; " if self.value is not None else ""
        return f"{', '.join(where)}: {got}expected {self.expected}"


class DataError(BrandstatsError):
    """An input file or table is invalid; lists every problem found.

    Attributes
    ----------
    problems : tuple of Problem
        Each problem, with its file, row, column, value and what was expected.
    """

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        lines = [str(p) for p in self.problems[:50]]
        if len(self.problems) > 50:
            more = len(self.problems) - 50
            lines.append(f"... and {more} more problem{'s' * (more != 1)}")
        head = "1 problem" if len(self.problems) == 1 else f"{len(self.problems)} problems"
        super().__init__(f"{head} in the input:\n  " + "\n  ".join(lines))

    @classmethod
    def one(
        cls,
        file: str,
        expected: str,
        *,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
    ) -> DataError:
        """Build the error for a single problem."""
        return cls([Problem(file, row, column, None if value is None else str(value), expected)])


class InsufficientDataError(BrandstatsError):
    """Too few observations for the requested model or measure."""
