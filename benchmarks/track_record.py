"""brandstats' track record on real official targets: the table the reports quote and the
README's reliability figure.

Reads the ``--cases-out`` files of two ``bench_calibration.py --windows 2,3,4,6,0`` runs (the
corpus scored left-one-indicator-out, ``--reference lofo``, and the hold-out with the shipped
reference) and writes

``data/track_record.csv``
    per corpus and series length: cases, 90 % interval coverage, Brier score, and the best
    anchor's Brier score; the reports quote the coverage for their own series' length.
``benchmarks/reliability.png``
    the reliability diagram: stated P(met), in bins of 10 %, against the share of those
    targets that were met, by series length, corpus and hold-out side by side.

Usage::

    python benchmarks/track_record.py --corpus /tmp/corpus.csv --holdout /tmp/holdout.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from brandstats.config import DATA_DIR

HERE = Path(__file__).resolve().parent
ANCHORS = ("official", "official_loo", "drift", "ols")
SOURCE = (
    "benchmarks/bench_calibration.py --windows 2,3,4,6,0 on benchmarks/calibration "
    "(left-one-indicator-out reference) and benchmarks/calibration_holdout; real official "
    "targets with known outcomes"
)


def _scores(long: pd.DataFrame) -> dict[str, float]:
    ours = long.loc[long["method"] == "brandstats"]
    has = ours["lower"].notna() & ours["upper"].notna()
    inside = (ours["lower"] <= ours["actual"]) & (ours["actual"] <= ours["upper"])

    def brier(rows: pd.DataFrame) -> float:
        return float(np.mean((rows["p"].fillna(0.5) - rows["met"].astype(float)) ** 2))

    best = min(brier(long.loc[long["method"] == a]) for a in ANCHORS)
    return {
        "cases": len(ours),
        "with_p": int(ours["p"].notna().sum()),
        "cov90": float(inside[has].mean()) if has.any() else np.nan,
        "brier": brier(ours),
        "brier_best_anchor": best,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--holdout", type=Path, required=True)
    args = parser.parse_args(argv)
    frames = {"corpus": pd.read_csv(args.corpus), "hold-out": pd.read_csv(args.holdout)}
    rows, points = [], []
    for name, long in frames.items():
        long["window"] = long["window"].astype(str)
        for window, group in long.groupby("window", sort=False):
            rows.append({"corpus": name, "points": window, **_scores(group)})
            ours = group.loc[(group["method"] == "brandstats") & group["p"].notna()]
            points.append(ours.assign(corpus=name, points=window))
    table = pd.DataFrame(rows).assign(source=SOURCE)
    table.to_csv(DATA_DIR / "track_record.csv", index=False, float_format="%.3f")
    print(table.drop(columns="source").to_string(index=False, float_format=lambda v: f"{v:.3f}"))

    forecasts = pd.concat(points, ignore_index=True)
    forecasts["bin"] = np.minimum((forecasts["p"] * 10).astype(int), 9)
    binned = (
        forecasts.groupby(["corpus", "points", "bin"])
        .agg(stated=("p", "mean"), met=("met", "mean"), n=("p", "size"))
        .reset_index()
    )
    binned = binned.loc[binned["n"] >= 5]
    order = [p for p in ("2", "3", "4", "6", "full") if p in set(binned["points"])]
    palette = dict(zip(order, sns.color_palette("viridis", len(order)), strict=True))
    figure, axes = plt.subplots(1, 2, figsize=(9, 4), sharey=True)
    for ax, (name, group) in zip(axes, binned.groupby("corpus", sort=False), strict=True):
        ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", zorder=0, label="perfect")
        for points in order:
            rows = group.loc[group["points"] == points]
            ax.plot(rows["stated"], rows["met"], marker="o", ms=4, lw=1.4,
                    color=palette[points], label=f"{points} points" if points != "full"
                    else "full series")  # fmt: skip
        cases = frames[name].query("method == 'brandstats'")["case_id"].nunique()
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="stated P(met), bins of 10 %",
               title=f"{name} ({cases} targets)")  # fmt: skip
    axes[0].set_ylabel("share of those targets met")
    axes[1].legend(loc="lower right", fontsize=8, frameon=False)
    figure.suptitle(
        "brandstats on real official targets with known outcomes: stated P(met) against how "
        "often they were met\n(corpus scored left-one-indicator-out; bins of 5 targets or more)",
        fontsize=9,
    )
    figure.tight_layout()
    figure.savefig(HERE / "reliability.png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    print(f"wrote {DATA_DIR / 'track_record.csv'} and {HERE / 'reliability.png'}")


if __name__ == "__main__":
    main()
