"""Batch: run one parameterised notebook per job with papermill, locally or on Dask.

The batch knows notebooks only by path and parameters; parameters reach them as data
(papermill writes them as literals). One module per concept:

- :mod:`.jobs`: a :class:`Job`, YAML batch configs, parameter checks against the notebook;
- :mod:`.plan`: ``brandstats run``'s jobs (the catalogue's targets x parameter sets) and the
  scorecard after them;
- :mod:`.local`: :func:`run_batch`, on this machine's cores; :mod:`.cluster`: on Dask;
- :mod:`.outputs`: the output folder (lock, staging, atomic commit, resume checks);
- :mod:`.runners` (the batch's side) and :mod:`.runner` (the process): papermill in
  long-lived runner processes;
- :mod:`.kernels` and :mod:`.template`: new kernels forked from warm templates, through a
  jupyter_client kernel provisioner;
- :mod:`.report`: :class:`BatchReport`, the summary and ``batch.json``.
"""

from __future__ import annotations

from .jobs import RESERVED_PARAMETERS, Job, declared_parameters, load_batch_config
from .local import run_batch
from .plan import RunOutcome, plan_jobs, plan_runs, run_report
from .report import BatchInterrupted, BatchReport, JobResult

__all__ = [
    "RESERVED_PARAMETERS",
    "BatchInterrupted",
    "BatchReport",
    "Job",
    "JobResult",
    "RunOutcome",
    "declared_parameters",
    "load_batch_config",
    "plan_jobs",
    "plan_runs",
    "run_batch",
    "run_report",
]
