"""Build the engine's reference class (``data/reference_*.csv``) from the calibration corpus.

Two tables (see :mod:`brandstats.reference`):

``data/reference_changes.csv``
    From every series of ``benchmarks/calibration/cases.csv`` (all years: the corpus is the
    training set; the hold-out is never read): the distributions of h-year changes and of the
    errors of extending one observed change, on the logit or log scale.
``data/reference_widening.csv``
    From a ``bench_calibration.py --reference none --cases-out FILE`` run on the same corpus
    (every window, e.g. ``--windows 3,4,6,0``): the widening factor by scale, number of points
    and horizon.

Usage::

    python benchmarks/bench_calibration.py --windows 2,3,4,6,0 --reference none \\
        --jobs 2 --cases-out /tmp/pits.csv
    python benchmarks/build_reference.py --pits /tmp/pits.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from bench_calibration import corpus_series, default_corpus, load_corpus

from brandstats.config import DATA_DIR
from brandstats.reference import build_changes, build_widening

SOURCE = (
    "learned by benchmarks/build_reference.py from the calibration corpus "
    "(benchmarks/calibration/: real official series, World Bank WDI; see its README)"
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pits", type=Path, required=True, help="bench_calibration cases-out")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="folder to write to")
    args = parser.parse_args(argv)
    cases, corpus = load_corpus(default_corpus())
    series = corpus_series(cases, corpus)
    changes = build_changes(series).assign(source=SOURCE)
    pits = pd.read_csv(args.pits)
    pits = pits.loc[(pits["method"] == "brandstats") & pits["pit"].notna()]
    widening = build_widening(pits).assign(source=SOURCE)
    args.out.mkdir(parents=True, exist_ok=True)
    changes.to_csv(args.out / "reference_changes.csv", index=False, float_format="%.6g")
    widening.to_csv(args.out / "reference_widening.csv", index=False, float_format="%.4g")
    print(f"{len(series)} series; changes: {changes.groupby(['scale', 'kind']).size().to_dict()}")
    print(widening.to_string(index=False))


if __name__ == "__main__":
    main()
