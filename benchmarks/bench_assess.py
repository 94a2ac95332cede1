"""Benchmark: the assessment engine against the cost of starting one bare kernel.

Times ``brandstats.assess_all(load_observations(), load_targets())`` on the shipped data (every
target, each with its rolling-origin backtest) and prints the time per target next to the
time of starting one bare Jupyter kernel (jupyter_client ``KernelManager``: start,
``wait_for_ready``, shutdown), and, as its LAST line, their ratio. A ratio well below 1 means
that the engine is not what makes a batch of notebooks slow: starting kernels is.

Usage::

    python benchmarks/bench_assess.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")


def time_assess(repeat: int) -> tuple[float, float, int]:
    """Best wall and best CPU (process) time of assess_all over ``repeat`` runs, after a first,
    warming run, and the number of targets. CPU time is the figure to compare on a busy
    machine: other processes inflate the wall time, not the process time."""
    from brandstats import assess_all, load_observations, load_targets

    targets = load_targets()
    observations = load_observations(targets=targets)
    table = assess_all(observations, targets)  # warm: imports, first-call caches
    times, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        assess_all(observations, targets)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(times), min(cpu), len(table)


def time_bare_kernel(repeat: int) -> float:
    """Median seconds to start a bare kernel until it is ready, then shut it down."""
    from jupyter_client import KernelManager

    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        km = KernelManager(kernel_name="python3")
        km.start_kernel()
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        kc.stop_channels()
        km.shutdown_kernel()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each (default 5)")
    args = parser.parse_args()

    seconds, cpu, n = time_assess(args.repeat)
    per_target = seconds / n
    kernel = time_bare_kernel(args.repeat)
    print(f"assess_all: {n} targets in {seconds:.2f} s = {per_target * 1000:.0f} ms per target")
    print(f"assess_all CPU time: {cpu / n * 1000:.0f} ms per target")
    print(f"bare kernel start + ready + shutdown: {kernel:.2f} s (median of {args.repeat})")
    print(f"per target / bare kernel = {per_target / kernel:.3f}")


if __name__ == "__main__":
    main()
