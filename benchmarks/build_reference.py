"""Build the engine's reference class, ``data/reference_changes.csv``, from the calibration corpus.

From every series of ``benchmarks/calibration/cases.csv`` (one per country and WDI indicator,
all its years: the corpus is the training set; the hold-out is never read): the distributions
of h-year changes and of the errors of extending one observed change, on the logit or log
scale (see :mod:`brandstats.reference`).

Usage::

    python benchmarks/build_reference.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench_calibration import corpus_series, default_corpus, load_corpus

from brandstats.config import DATA_DIR
from brandstats.reference import build_changes

# every row's source, short (the table has 6,000 rows); data/README.md says it in full
SOURCE = "WDI series of benchmarks/calibration (build_reference.py)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="folder to write to")
    args = parser.parse_args(argv)
    cases, corpus = load_corpus(default_corpus())
    series = corpus_series(cases, corpus)
    changes = build_changes(series).assign(source=SOURCE)
    args.out.mkdir(parents=True, exist_ok=True)
    changes.to_csv(args.out / "reference_changes.csv", index=False, float_format="%.6g")
    print(f"{len(series)} series; cases by scale, kind and horizon 1:")
    print(changes.loc[changes["horizon"] == 1].groupby(["scale", "kind"])["cases"].first())


if __name__ == "__main__":
    main()
