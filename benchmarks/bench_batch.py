"""Benchmark: ``brandstats run`` against loops of ``papermill`` CLI calls.

A  the loop an analyst would write: for each target, one after another,
   ``papermill notebooks/project_target.ipynb OUT -p indicator X [-p region R] -p language en
   -p output_dir D -p run_name N --cwd notebooks``;
C  the same calls, two at a time (``xargs -P 2``, one per core): what an experienced analyst
   would write;
B  ``brandstats run --output D2`` on the same targets (their notebooks, then the scorecard);
M  the monitoring run: ``brandstats run --config monitoring.yaml``, every target as of every
   year with an observation of it (the vintages its report shows; the latest first), then the
   scorecard: the wall time per notebook beyond B's;
D  the ILLUSTRATIVE district example (data/examples): its 7 regions as of their latest data,
   then as of 3 vintages (21 notebooks, ``districts.yaml``): the wall time per extra notebook.

All get ``OPENBLAS_NUM_THREADS=1`` (and OMP/MKL) unless set. The script checks that A and B
give the same JSON result for every target (and compares the notebooks' cell outputs), times
one notebook the physical way (a bare kernel started with jupyter_client, the notebook's cells
sent to it one by one), and with ``--grid N`` times B on N notebooks (regions x vintages, on
illustrative copies of the shipped series in more regions) to give the wall time per extra
notebook. Its LAST lines are the ratios A/B and C/B (after M's wall time per extra notebook).

Usage::

    python benchmarks/bench_batch.py            # every target of the shipped catalogue
    python benchmarks/bench_batch.py --quick    # 4 targets
    python benchmarks/bench_batch.py --grid 200 # also a batch of 200 notebooks
    python benchmarks/bench_batch.py --workers 3
    python benchmarks/bench_batch.py --repeat 3  # best of 3 for each side (noisy machines)
    python benchmarks/bench_batch.py --skip-monitoring  # no M
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NOTEBOOK = NOTEBOOKS / "project_target.ipynb"
BIN = Path(sys.executable).parent
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}"


def plan(quick: bool) -> list:
    """The jobs `brandstats run` makes (with --indicator for the quick run)."""
    from brandstats import load_observations, load_targets
    from brandstats.batch import plan_runs

    targets = load_targets()
    observations = load_observations(targets=targets)
    jobs = plan_runs(observations, targets, parameters={"language": "en"})
    if quick:
        indicators = list(dict.fromkeys(job.parameters["indicator"] for job in jobs))[:4]
        jobs = [job for job in jobs if job.parameters["indicator"] in indicators]
    return jobs


def run_a(jobs: list, out: Path) -> float:
    """The papermill CLI loop."""
    out.mkdir(parents=True)
    start = time.perf_counter()
    for job in jobs:
        subprocess.run(papermill_call(job, out), check=True, capture_output=True)
    return time.perf_counter() - start


def papermill_call(job, out: Path) -> list[str]:
    """The papermill CLI call for ``job`` (as A and C make it)."""
    params = [a for k, v in job.parameters.items() if v != "" for a in ("-p", k, str(v))]
    fixed = ["-p", "output_dir", str(out), "-p", "run_name", job.name, "--cwd", str(NOTEBOOKS)]
    return [str(BIN / "papermill"), str(NOTEBOOK), str(out / f"{job.name}.ipynb"), *params, *fixed]


def run_c(jobs: list, out: Path, parallel: int) -> float:
    """The papermill CLI calls through ``xargs -P``: one shell command per line."""
    out.mkdir(parents=True)
    lines = "".join(shlex.join(papermill_call(job, out)) + "\n" for job in jobs)
    start = time.perf_counter()
    subprocess.run(
        ["xargs", "-P", str(parallel), "-d", "\n", "-I", "CMD", "sh", "-c", "CMD >/dev/null 2>&1"],
        input=lines, text=True, check=True,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    missing = [job.name for job in jobs if not (out / f"{job.name}.json").exists()]
    if missing:
        sys.exit(f"the xargs loop did not finish: {missing}")
    return seconds


def grid(count: int, folder: Path) -> tuple[Path, Path, Path]:
    """A config of ``count`` runs (targets x regions x vintages) and the observations and
    targets files it reads: the shipped series and targets copied into more regions, the
    series marked illustrative."""
    import pandas as pd

    from brandstats import load_targets

    shipped = pd.read_csv(ROOT / "data" / "observations.csv", dtype=str)
    targets = load_targets()
    indicators = targets.loc[targets["target"].notna(), "indicator"].tolist()
    regions = [f"Region{i:02d}" for i in range(1, 21)]
    copies = []
    for region in regions:
        copy = shipped[shipped["indicator"].isin(indicators) & (shipped["region"] == "Jinan")]
        copies.append(copy.assign(region=region, qualifier="illustrative",
                                  source="benchmark: a copy of Jinan's series"))  # fmt: skip
    data = folder / "grid-observations.csv"
    pd.concat([shipped, *copies]).to_csv(data, index=False)
    catalogue = pd.read_csv(ROOT / "data" / "targets.csv", dtype=str)
    own = catalogue[catalogue["indicator"].isin(indicators)]
    targets_file = folder / "grid-targets.csv"
    pd.concat([catalogue, *(own.assign(region=r) for r in regions)]).to_csv(
        targets_file, index=False
    )
    sets, vintages = [], [0, 2021, 2020]
    for region in regions:
        for as_of in vintages:
            for indicator in indicators:
                sets.append({"run_name": f"{indicator}_{region}_{as_of}", "indicator": indicator,
                             "region": region, "as_of": as_of})  # fmt: skip
    config = folder / "grid.yaml"
    config.write_text(json.dumps({"parameter_sets": sets[:count]}), encoding="utf-8")
    return config, data, targets_file


def monitoring(jobs: list, folder: Path) -> tuple[Path, int]:
    """A config of the monitoring run: each of ``jobs``' targets as of each year that has an
    observation of it (the vintages its report shows), and the number of runs."""
    from brandstats import load_observations, load_targets

    observations = load_observations(targets=load_targets())
    sets = []
    for job in jobs:
        indicator, region = job.parameters["indicator"], job.parameters["region"]
        rows = observations.loc[
            (observations["indicator"] == indicator) & (observations["region"] == region)
        ]
        for year in sorted({int(y) for y in rows["year"]}):
            sets.append({"run_name": f"{indicator}-{year}", "indicator": indicator,
                         "region": region, "as_of": year})  # fmt: skip
    # the latest vintages first: each target's first run works out its vintages for the runs
    # after it (shared_dir), and runs at once are of different targets
    sets.sort(key=lambda entry: -entry["as_of"])
    config = folder / "monitoring.yaml"
    config.write_text(json.dumps({"parameter_sets": sets}), encoding="utf-8")
    return config, len(sets)


def run_monitoring(jobs: list, folder: Path, workers: int | None, out: Path) -> tuple[float, int]:
    """`brandstats run --config monitoring.yaml`: every target at every vintage."""
    config, count = monitoring(jobs, folder)
    options = ["--workers", str(workers)] if workers else []
    start = time.perf_counter()
    done = subprocess.run(
        [BIN / "brandstats", "run", "--config", config, "--output", out, *options],
        capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    counts = json.loads((out / "batch.json").read_text(encoding="utf-8"))["counts"]
    if done.returncode != 0 or counts["ok"] != count:
        sys.exit(f"the monitoring run failed ({counts}):\n{done.stdout}\n{done.stderr}")
    return seconds, count


def run_districts(out: Path, workers: int | None, *, vintages: bool) -> tuple[float, int]:
    """The ILLUSTRATIVE district example (data/examples): every region as of its latest data,
    or (``vintages``) as of every year of ``districts.yaml``; its wall time and notebooks."""
    examples = ROOT / "data" / "examples"
    options = ["--workers", str(workers)] if workers else []
    config = ["--config", examples / "districts.yaml"] if vintages else ["--language", "zh"]
    start = time.perf_counter()
    done = subprocess.run(
        [BIN / "brandstats", "run", *config, "--targets", examples / "districts_targets.csv",
         "--data", examples / "districts_observations.csv", "--output", out, *options],
        capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    counts = json.loads((out / "batch.json").read_text(encoding="utf-8"))["counts"]
    if done.returncode != 0:
        sys.exit(f"the district batch failed ({counts}):\n{done.stdout}\n{done.stderr}")
    return seconds, counts["ok"]


def run_grid(count: int, folder: Path, workers: int | None) -> tuple[float, dict]:
    """`brandstats run --config grid.yaml --data ...` on ``count`` notebooks."""
    config, data, targets = grid(count, folder)
    options = ["--workers", str(workers)] if workers else []
    out = folder / "grid-out"
    start = time.perf_counter()
    done = subprocess.run(
        [BIN / "brandstats", "run", "--config", config, "--data", data, "--targets", targets,
         "--output", out, *options],
        capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    counts = json.loads((out / "batch.json").read_text(encoding="utf-8"))["counts"]
    if counts["ok"] + counts["failed"] != count:
        sys.exit(f"the grid batch did not finish:\n{done.stdout}\n{done.stderr}")
    return seconds, counts


def run_b(jobs: list, out: Path, workers: int | None, quick: bool) -> float:
    """`brandstats run` (the targets' notebooks and the scorecard)."""
    options = ["--workers", str(workers)] if workers else []
    if quick:
        options += ["--indicator", *dict.fromkeys(j.parameters["indicator"] for j in jobs)]
    start = time.perf_counter()
    done = subprocess.run(
        [BIN / "brandstats", "run", "--output", out, *options], capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"brandstats run failed:\n{done.stdout}\n{done.stderr}")
    return seconds


def compare_results(jobs: list, a: Path, b: Path) -> list[str]:
    """Targets whose JSON results differ (and how)."""
    differ = []
    for job in jobs:
        ra = json.loads((a / f"{job.name}.json").read_text(encoding="utf-8"))
        rb = json.loads((b / f"{job.name}.json").read_text(encoding="utf-8"))
        keys = sorted(k for k in ra.keys() | rb.keys() if ra.get(k) != rb.get(k))
        if keys:
            differ.append(f"{job.name}: {', '.join(keys)}")
    return differ


def same_outputs(jobs: list, a: Path, b: Path) -> int:
    """Notebooks whose cells have identical outputs (text, tables, PNG bytes) in A and B,
    once each run's output folder is written the same way."""

    def outputs(path: Path, folder: Path) -> str:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = [c["outputs"] for c in nb["cells"] if c["cell_type"] == "code"]
        return json.dumps(cells, sort_keys=True).replace(str(folder), "OUT")

    return sum(
        outputs(a / f"{job.name}.ipynb", a) == outputs(b / f"{job.name}.ipynb", b) for job in jobs
    )


def bare_kernel(job, out: Path) -> tuple[float, float]:
    """Seconds to start a bare kernel (until ready) and to run the notebook's cells in it.

    The cells go one by one with jupyter_client, after the parameters the batch would inject;
    the kernel is shut down after (its shutdown is counted in the first figure).
    """
    from jupyter_client import KernelManager

    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    injected = {**job.parameters, "output_dir": str(out), "run_name": job.name}
    cells.insert(1, "\n".join(f"{k} = {v!r}" for k, v in injected.items()))
    start = time.perf_counter()
    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(NOTEBOOKS), stderr=subprocess.DEVNULL)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    ready = time.perf_counter()
    for code in cells:
        reply = kc.execute_interactive(code, timeout=300, output_hook=lambda msg: None)
        if reply["content"]["status"] != "ok":
            sys.exit(f"bare kernel: a cell failed: {reply['content'].get('evalue')}")
    executed = time.perf_counter()
    kc.stop_channels()
    km.shutdown_kernel()
    stopped = time.perf_counter()
    return (ready - start) + (stopped - executed), executed - ready


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only 4 targets")
    parser.add_argument("--workers", type=int, help="workers for B (default: brandstats')")
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs of A and of B")
    parser.add_argument("--skip-a", action="store_true", help="time B only (no ratios)")
    parser.add_argument("--grid", type=int, metavar="N", help="also time B on N notebooks")
    parser.add_argument(
        "--skip-districts", action="store_true", help="no district example (D: regions x vintages)"
    )
    parser.add_argument(
        "--skip-monitoring", action="store_true", help="no monitoring run (M: every vintage)"
    )
    args = parser.parse_args()

    print(machine())
    jobs = plan(args.quick)
    subprocess.run(  # warm the disk cache for both sides
        [sys.executable, "-c", "import papermill, nbconvert, brandstats.plots, statsmodels.api"],
        check=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        a, b, bare = Path(tmp, "a"), Path(tmp, "b"), Path(tmp, "bare")
        bare.mkdir()
        seconds_b = min(
            run_b(jobs, b / str(i), args.workers, args.quick) for i in range(args.repeat)
        )
        b = b / "0"
        job_seconds = [j["seconds"] for j in json.loads((b / "batch.json").read_text())["jobs"]]
        job = statistics.median(job_seconds)
        print(f"B  brandstats run, {len(jobs)} notebooks + scorecard: {seconds_b:.1f} s")
        print(
            f"   per notebook: {seconds_b / len(jobs):.2f} s of wall time; each job took"
            f" {job:.2f} s (median, {min(job_seconds):.2f}-{max(job_seconds):.2f}) on its worker"
        )
        samples = [bare_kernel(j, bare) for j in jobs[:3]]
        kernel = statistics.median(s[0] for s in samples)
        cells = statistics.median(s[1] for s in samples)
        print(
            f"   bare kernel start+stop {kernel:.2f} s + the notebook's cells {cells:.2f} s"
            f" = {kernel + cells:.2f} s (median of {len(samples)}, one at a time)"
        )
        print(f"   median job / (bare kernel + cells) = {job / (kernel + cells):.2f}")
        if not args.skip_monitoring:
            monitor = [
                run_monitoring(jobs, Path(tmp), args.workers, Path(tmp, "m", str(i)))
                for i in range(args.repeat)
            ]
            seconds_m, count = min(monitor)
            extra = (seconds_m - seconds_b) / (count - len(jobs))
            print(f"M  brandstats run, monitoring: every target at every vintage, {count}"
                  f" notebooks + scorecard: {seconds_m:.1f} s; per extra notebook over B:"
                  f" {extra:.2f} s of wall time")  # fmt: skip
        if not args.skip_districts:
            one, n_one = run_districts(Path(tmp, "d1"), args.workers, vintages=False)
            every, n_every = run_districts(Path(tmp, "d"), args.workers, vintages=True)
            print(f"D  brandstats run, the district example: {n_one} regions, {one:.1f} s; at"
                  f" 3 vintages, {n_every} notebooks, {every:.1f} s; per extra notebook:"
                  f" {(every - one) / (n_every - n_one):.2f} s of wall time")  # fmt: skip
        if args.grid:
            seconds_g, counts = run_grid(args.grid, Path(tmp), args.workers)
            extra = (seconds_g - seconds_b) / (args.grid - len(jobs))
            print(f"G  brandstats run, {args.grid} notebooks (regions x vintages) + scorecard:"
                  f" {seconds_g:.1f} s ({counts['ok']} ok, {counts['failed']} failed);"
                  f" per extra notebook over B: {extra:.2f} s of wall time")  # fmt: skip
        if args.skip_a:
            print(f"{seconds_b:.2f}")
            return
        parallel = args.workers or os.cpu_count() or 2
        seconds_c = min(run_c(jobs, Path(tmp, "c", str(i)), parallel) for i in range(args.repeat))
        print(f"C  papermill CLI calls, xargs -P {parallel}, {len(jobs)} notebooks:"
              f" {seconds_c:.1f} s")  # fmt: skip
        seconds_a = min(run_a(jobs, a / str(i)) for i in range(args.repeat))
        a = a / "0"
        print(f"A  papermill CLI loop, {len(jobs)} notebooks: {seconds_a:.1f} s"
              f" ({seconds_a / len(jobs):.2f} s each)")  # fmt: skip
        differ = compare_results(jobs, a, b)
        if differ:
            sys.exit("results differ:\n  " + "\n  ".join(differ))
        same = same_outputs(jobs, a, b)
        print(f"   results identical for all {len(jobs)} targets;"
              f" cell outputs identical in {same}/{len(jobs)} notebooks")  # fmt: skip
        print(f"A/B = {seconds_a / seconds_b:.2f}")
        print(f"C/B = {seconds_c / seconds_b:.2f}")


if __name__ == "__main__":
    main()
