"""The report of a batch: how each job went, as objects, a short summary and ``batch.json``."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from ..format import count

__all__ = ["BatchInterrupted", "BatchReport", "JobResult"]

Status = Literal["ok", "failed", "skipped"]
STATUSES: tuple[Status, ...] = ("ok", "failed", "skipped")


@dataclass(frozen=True)
class JobResult:
    """How one job went.

    Attributes
    ----------
    name : str
        The job name.
    status : {"ok", "failed", "skipped"}
        ``"skipped"``: done by an earlier run and ``resume=True``.
    seconds : float
        Wall time of the run (0 when skipped).
    cell_index : int or None
        For a failure inside a cell: the cell's index in the executed notebook as papermill
        numbers it (0-based, counting the injected-parameters cell; ``<name>.failed.ipynb``
        also has papermill's two error-marker cells, at the top and before the failed cell).
    error : str or None
        For a failure: one line, e.g. ``"ValueError: negative draws"``.
    retries : tuple of str
        Why the notebook was run again, once per retry (a kernel that died before running any
        cell, or in a cell without an error); empty when the first run counted.
    """

    name: str
    status: Status
    seconds: float
    cell_index: int | None = None
    error: str | None = None
    retries: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "retries", tuple(self.retries))  # a list from JSON


@dataclass(frozen=True)
class BatchReport:
    """The outcome of :func:`~brandstats.batch.run_batch`, in job order; also ``batch.json``.

    Attributes
    ----------
    results : tuple of JobResult
        One per job (after an interruption, only the jobs that finished or were skipped).
    output_dir : Path
        Where the outputs are.
    seconds : float
        Wall time of the batch.
    interrupted : bool
        True if the batch stopped early (Ctrl-C, SIGTERM, a full disk).
    error : str or None
        Why the batch itself stopped, when not interrupted by the user (e.g. a full disk).
    """

    results: tuple[JobResult, ...]
    output_dir: Path
    seconds: float
    interrupted: bool = False
    error: str | None = None

    @property
    def ok(self) -> tuple[JobResult, ...]:
        """The jobs that ran successfully."""
        return tuple(r for r in self.results if r.status == "ok")

    @property
    def failed(self) -> tuple[JobResult, ...]:
        """The jobs that failed."""
        return tuple(r for r in self.results if r.status == "failed")

    @property
    def skipped(self) -> tuple[JobResult, ...]:
        """The jobs skipped as already done (``resume=True``)."""
        return tuple(r for r in self.results if r.status == "skipped")

    def summary(self) -> str:
        """A few lines of text: the counts, one line per failed job, one per job run again."""
        head = (
            f"{count(len(self.results), 'job')} in {self.seconds:.1f} s: {len(self.ok)} ok, "
            f"{len(self.failed)} failed, {len(self.skipped)} skipped"
            + (" (interrupted)" if self.interrupted else "")
        )
        lines = [head]
        for r in self.failed:
            cell = f" (cell {r.cell_index})" if r.cell_index is not None else ""
            lines.append(f"  FAILED {r.name}{cell}: {r.error}")
        for r in self.results:
            if r.retries:
                then = "then ok" if r.status == "ok" else "then failed"
                why = "; ".join(dict.fromkeys(r.retries))
                lines.append(f"  retried {r.name} {count(len(r.retries), 'time')} ({why}), {then}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON types (the content of ``batch.json``)."""
        return {
            "output_dir": str(self.output_dir),
            "seconds": round(self.seconds, 3),
            "interrupted": self.interrupted,
            "error": self.error,
            "counts": {s: sum(r.status == s for r in self.results) for s in STATUSES},
            "jobs": [{**asdict(r), "retries": list(r.retries)} for r in self.results],
        }


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped a batch; ``report`` says what had finished.

    A :class:`KeyboardInterrupt`, so that a caller who does not handle it stops as usual.
    """

    def __init__(self, report: BatchReport) -> None:
        super().__init__(report.summary())
        self.report = report
