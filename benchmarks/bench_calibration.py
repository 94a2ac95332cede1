"""Benchmark: how good is P(met) on real official targets whose outcome is known?

Reads a calibration corpus (``cases.csv``: case_id, geography, indicator, unit, year, value,
source; ``targets.csv``: case_id, target, direction, target_year, as_of_year,
actual_in_target_year, met, source; optional columns family, unit_kind, lower, upper,
base_year) and projects every case from its ``as_of_year`` only: later values are never shown
to a forecaster. brandstats sees the data as a user would lay it out, one indicator with many
regions: each (family, as_of_year, target_year) becomes one indicator of an observations
table and a targets table, validated and assessed through the public API
(``validate_targets``, ``validate_observations``, ``assess_all(as_of=...)``).

The anchors are computed here with numpy, scipy and statsmodels, independently of brandstats:

``official``
    The official-style rule (Eurostat SDG, Open SDG): "on track" when the last value already
    meets the target or the observed compound annual growth since the base year is at least
    0.95 of the growth required from the base year to the target (absolute change per year when
    a value is not positive); forecast 1 if on track, else 0.
``official_loo``
    The same rule as a probability: the share of met targets among the *other* cases of the
    corpus with the same rule outcome, (k + 1) / (n + 2) (leave-one-out, Laplace).
``drift``
    Random walk with drift (FPP3 section 5.5): c = (y_T - y_1) / (t_T - t_1), innovations
    variance from the increments, Normal(y_T + c h, sigma^2 (h + h^2 / (t_T - t_1))).
``ols``
    OLS straight line on year (statsmodels), Student t predictive with the prediction
    interval's scale (``obs_ci``).

Scores (Gneiting & Raftery 2007), per family and overall: Brier score mean (p - met)^2; log
score mean -ln p(outcome) with p clipped to [0.001, 0.999] (so a 0/1 forecast that missed costs
6.9); coverage of the actual target-year value by the central 90 % interval; number of 90 %
intervals reaching outside the unit's support (percent [0, 100], continuous (lower, upper) as
the corpus declares, else [0, inf)). The LAST line is ``Brier ratio brandstats / best anchor``.

Usage::

    python benchmarks/bench_calibration.py [--corpus PATH] [--cases-out FILE.csv]
        [--per-family N] [--window N] [--jobs N]

``--per-family N`` keeps every k-th case of each family (at most N) for quick runs;
``--window N`` keeps only the last N observations up to each as_of_year, the short series
(3-10 points) that analysts of regional plans hold.

The corpus defaults to ``benchmarks/calibration/`` when present, else ``../shared/calibration/``.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time
from pathlib import Path

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402 (after the thread settings)
import pandas as pd  # noqa: E402
import statsmodels.api as sm  # noqa: E402
from scipy import stats  # noqa: E402

HERE = Path(__file__).resolve().parent
# benchmarks/calibration/, else the shared corpus beside the repository (or beside the folder
# holding its worktrees)
DEFAULT_CORPORA = (
    HERE / "calibration",
    HERE.parents[1] / "shared" / "calibration",
    HERE.parents[2] / "shared" / "calibration",
)
LEVEL = 0.9
LOG_CLIP = 1e-3
ANCHORS = ("official", "official_loo", "drift", "ols")


# ----------------------------------------------------------------------------- corpus


def default_corpus() -> Path:
    """``benchmarks/calibration/`` if it has a cases.csv, else the shared starting corpus."""
    return next((p for p in DEFAULT_CORPORA if (p / "cases.csv").exists()), DEFAULT_CORPORA[-1])


def _unit_kind(unit: str) -> str:
    text = unit.strip().lower()
    return "percent" if text in ("%", "percent") or text.startswith("%") else "continuous"


def load_corpus(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The corpus' series (case_id, year, value) and cases (one row per target), checked."""
    cases = pd.read_csv(folder / "cases.csv", dtype={"case_id": str})
    targets = pd.read_csv(folder / "targets.csv", dtype={"case_id": str})
    if "family" not in targets:
        targets["family"] = targets["case_id"].str.rsplit("_", n=1).str[0]
    units = cases.groupby("case_id")["unit"].first()
    if "unit_kind" not in targets:
        targets["unit_kind"] = targets["case_id"].map(units).map(_unit_kind)
    for col in ("lower", "upper", "base_year"):
        if col not in targets:
            targets[col] = np.nan
    targets["met"] = (
        targets["met"].map(lambda v: str(v).strip().lower() in ("true", "1", "yes")).astype(bool)
    )
    missing = sorted(set(targets["case_id"]) - set(cases["case_id"]))
    if missing:
        sys.exit(f"{folder / 'targets.csv'}: cases without a series in cases.csv: {missing}")
    cases = cases[["case_id", "geography", "indicator", "year", "value", "unit"]].copy()
    cases["year"] = cases["year"].astype(int)
    return cases.sort_values(["case_id", "year"], ignore_index=True), targets


def support(kind: str, lower: float = math.nan, upper: float = math.nan) -> tuple[float, float]:
    """The values a unit can take (the issue's definition, independent of brandstats)."""
    lo, hi = {"percent": (0.0, 100.0), "rank": (1.0, math.inf)}.get(kind, (0.0, math.inf))
    if kind == "continuous":
        lo = -math.inf if pd.isna(lower) else float(lower)
        hi = math.inf if pd.isna(upper) else float(upper)
        if pd.isna(lower) and pd.isna(upper):
            lo = 0.0  # the corpus' continuous units are rates per 1,000 and the like
    return lo, hi


# ----------------------------------------------------------------------------- anchors


def _meets(value: float, target: float, comparison: str) -> bool:
    return {
        ">": value > target,
        ">=": value >= target,
        "<": value < target,
        "<=": value <= target,
    }[comparison]


def _p_from(dist: stats.rv_continuous, target: float, comparison: str) -> float:
    return float(dist.sf(target) if comparison in (">", ">=") else dist.cdf(target))


def anchor_official(
    series: pd.Series, target: float, comparison: str, target_year: int, base_year: float
) -> float:
    """1.0 if the official-style rule says "on track" (ratio >= 0.95 or already met), else 0."""
    last_year, last = int(series.index[-1]), float(series.iloc[-1])
    if _meets(last, target, comparison):
        return 1.0
    # the plan's base year when it is observed (a --window may cut it off), else the first year
    observed = not pd.isna(base_year) and int(base_year) in series.index
    base_year = int(base_year) if observed else int(series.index[0])
    base = float(series.loc[base_year])
    if last_year == base_year:
        return 0.0
    if min(base, last, target) > 0:
        observed = (last / base) ** (1 / (last_year - base_year)) - 1
        required = (target / base) ** (1 / (target_year - base_year)) - 1
    else:
        observed = (last - base) / (last_year - base_year)
        required = (target - base) / (target_year - base_year)
    if required == 0:
        return 0.0
    return float(observed / required >= 0.95)


def anchor_drift(
    series: pd.Series, target: float, comparison: str, target_year: int
) -> tuple[float, float, float]:
    """P(met) and the 90 % interval of a random walk with drift (FPP3 5.5, gaps allowed)."""
    t = series.index.to_numpy(dtype=float)
    y = series.to_numpy(dtype=float)
    span = t[-1] - t[0]
    drift = (y[-1] - y[0]) / span
    gaps = np.diff(t)
    residuals = np.diff(y) - drift * gaps
    sigma = math.sqrt(np.sum(residuals**2 / gaps) / (gaps.size - 1))
    h = target_year - t[-1]
    dist = stats.norm(y[-1] + drift * h, max(sigma, 1e-12) * math.sqrt(h + h**2 / span))
    lo, hi = dist.ppf([(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return _p_from(dist, target, comparison), float(lo), float(hi)


def anchor_ols(
    series: pd.Series, target: float, comparison: str, target_year: int
) -> tuple[float, float, float]:
    """P(met) and the 90 % prediction interval of an OLS line on year (statsmodels)."""
    x = sm.add_constant(series.index.to_numpy(dtype=float))
    fit = sm.OLS(series.to_numpy(dtype=float), x).fit()
    frame = fit.get_prediction(np.array([[1.0, float(target_year)]])).summary_frame(alpha=1 - LEVEL)
    mean, se_mean = float(frame["mean"].iloc[0]), float(frame["mean_se"].iloc[0])
    scale = math.sqrt(se_mean**2 + fit.scale) or 1e-12
    dist = stats.t(fit.df_resid, loc=mean, scale=scale)
    lo, hi = float(frame["obs_ci_lower"].iloc[0]), float(frame["obs_ci_upper"].iloc[0])
    return _p_from(dist, target, comparison), lo, hi


def official_loo(rule: pd.Series, met: pd.Series) -> pd.Series:
    """Leave-one-out share met among the other cases with the same rule outcome, Laplace."""
    out = pd.Series(np.nan, index=rule.index)
    for value in rule.unique():
        same = rule == value
        k, n = met[same].sum(), same.sum()
        out[same] = (k - met[same] + 1) / (n - 1 + 2)
    return out


# ----------------------------------------------------------------------------- brandstats


def _indicator_id(family: str, as_of: int, target_year: int, many: bool) -> str:
    base = re.sub(r"[^a-z0-9_]+", "_", family.lower()).strip("_")
    base = base if re.match(r"[a-z]", base) else f"f_{base}"
    return f"{base}_{as_of}_{target_year}" if many else base


def _unit_text(kind: str) -> str:
    """How the tables name the unit; 'continuous' once brandstats has it, else yuan (>= 0)."""
    from brandstats.units import parse_unit

    if kind == "percent":
        return "%"
    if kind in ("count", "rank", "yuan"):
        return kind
    return "continuous" if parse_unit("continuous") else "yuan"


def user_tables(cases: pd.DataFrame, corpus: pd.DataFrame) -> list[dict]:
    """One (observations, targets, as_of, case ids by region) bundle per indicator."""
    from brandstats.units import parse_unit

    bundles = []
    keys = ["family", "as_of_year", "target_year", "unit_kind"]
    many = corpus.groupby("family")[keys[1:]].nunique().max(axis=1) > 1
    for (family, as_of, target_year, kind), group in corpus.groupby(keys, sort=False):
        indicator = _indicator_id(family, int(as_of), int(target_year), bool(many[family]))
        geography = cases.drop_duplicates("case_id").set_index("case_id")["geography"]
        regions = group["case_id"].map(geography).astype(str)
        if regions.duplicated().any():
            regions = group["case_id"]
        unit = _unit_text(kind)
        spelt = str(cases.loc[cases["case_id"] == group["case_id"].iloc[0], "unit"].iloc[0])
        if unit == "continuous" and getattr(parse_unit(spelt), "canonical", "") == unit:
            unit = spelt  # as users write it: a rate per 1,000 gets brandstats' floor of 0
        targets = pd.DataFrame(
            {
                "indicator": indicator,
                "name_en": family,
                "group": "quality",
                "unit": unit,
                "comparison": group["direction"].to_numpy(),
                "target": group["target"].map(repr).to_numpy(),
                "target_year": group["target_year"].astype(int).astype(str).to_numpy(),
                "region": regions.to_numpy(),
                "lower": group["lower"].to_numpy(),
                "upper": group["upper"].to_numpy(),
                "source": group["source"].to_numpy(),
            }
        )
        region_of = dict(zip(group["case_id"], regions, strict=True))
        seen = cases.loc[cases["case_id"].isin(region_of) & (cases["year"] <= as_of)]
        observations = pd.DataFrame(
            {
                "indicator": indicator,
                "region": seen["case_id"].map(region_of).to_numpy(),
                "year": seen["year"].astype(str).to_numpy(),
                "value": seen["value"].map(repr).to_numpy(),
                "unit": unit,
                "source": "calibration corpus",
            }
        )
        bundles.append(
            {
                "indicator": indicator,
                "family": family,
                "actual": dict(zip(group["case_id"], group["actual_in_target_year"], strict=True)),
                "as_of": int(as_of),
                "targets": targets,
                "observations": observations,
                "case_of": {r: c for c, r in region_of.items()},
            }
        )
    return bundles


def _assess_bundle(bundle: dict) -> list[dict]:
    import brandstats as bs
    from brandstats.attainment import assess_group

    targets = bs.validate_targets(bundle["targets"].astype(str).replace("nan", ""))
    observations = bs.validate_observations(bundle["observations"], targets)
    regions = list(bundle["case_of"])
    found = assess_group(
        observations, targets, bundle["indicator"], regions, as_of=bundle["as_of"],
        levels=(0.5, LEVEL), reference=REFERENCES.get(bundle["family"]),
    )  # fmt: skip
    rows = []
    for region, a in found.items():
        case = bundle["case_of"][region]
        row = {"case_id": case, "p": np.nan, "lower": np.nan, "upper": np.nan, "pit": np.nan}
        if not isinstance(a, Exception):
            _, _, lower, upper = a.interval(LEVEL)
            actual = bundle["actual"][case]
            pit = float(a.predictive.cdf(actual)) if a.predictive is not None else np.nan
            row |= {
                "p": np.nan if a.probability is None else float(a.probability),
                "lower": lower, "upper": upper, "verdict": a.verdict, "pit": pit,
                "points": len(a.history), "horizon": a.target_year - a.last_year,
                "floor": a.floor,
            }  # fmt: skip
        rows.append(row)
    return rows


#: family -> brandstats.reference.Reference to use instead of the shipped one (--reference)
REFERENCES: dict = {}


def _init_worker(references: dict) -> None:
    REFERENCES.update(references)


def run_brandstats(cases: pd.DataFrame, corpus: pd.DataFrame, *, jobs: int = 1) -> pd.DataFrame:
    """brandstats' P(met) and 90 % interval for every case, through the public API.

    ``jobs`` > 1 assesses the indicators in that many processes (one indicator each).
    """
    bundles = user_tables(cases, corpus)
    if jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(REFERENCES,)) as pool:
            results = list(pool.map(_assess_bundle, bundles))
    else:
        results = [_assess_bundle(b) for b in bundles]
    return pd.DataFrame([row for rows in results for row in rows])


# ----------------------------------------------------------------------------- scoring


def forecasts(cases: pd.DataFrame, corpus: pd.DataFrame, *, jobs: int = 1) -> pd.DataFrame:
    """Long table: case_id, family, method, p, lower, upper, actual, met, support."""
    series_of = {k: g.set_index("year")["value"] for k, g in cases.groupby("case_id")}
    rows = []
    for t in corpus.itertuples():
        seen = series_of[t.case_id].loc[: t.as_of_year].astype(float)
        args = (float(t.target), t.direction, int(t.target_year))
        official = anchor_official(seen, *args, t.base_year)
        rows.append({"case_id": t.case_id, "method": "official", "p": official})
        for name, fn in (("drift", anchor_drift), ("ols", anchor_ols)):
            p, lo, hi = fn(seen, *args)
            rows.append({"case_id": t.case_id, "method": name, "p": p, "lower": lo, "upper": hi})
    long = pd.DataFrame(rows)
    info = corpus.set_index("case_id")
    rule = long.loc[long["method"] == "official"].set_index("case_id")["p"]
    loo = official_loo(rule, info.loc[rule.index, "met"])
    long = pd.concat(
        [long, pd.DataFrame({"case_id": loo.index, "method": "official_loo", "p": loo.to_numpy()})]
    )
    ours = run_brandstats(cases, corpus, jobs=jobs).assign(method="brandstats")
    long = pd.concat([ours, long], ignore_index=True)
    bounds = {c: support(r.unit_kind, r.lower, r.upper) for c, r in info.iterrows()}
    return long.assign(
        family=long["case_id"].map(info["family"]),
        actual=long["case_id"].map(info["actual_in_target_year"]).astype(float),
        met=long["case_id"].map(info["met"]).astype(bool),
        support_lo=long["case_id"].map(lambda c: bounds[c][0]),
        support_hi=long["case_id"].map(lambda c: bounds[c][1]),
    )


def scores(long: pd.DataFrame) -> pd.DataFrame:
    """Brier, log score, 90 % coverage and intervals outside the support, per method."""

    def one(g: pd.DataFrame) -> pd.Series:
        p = g["p"].fillna(0.5)  # no probability: counted as a coin toss
        met = g["met"].astype(float)
        p_outcome = np.clip(np.where(met == 1, p, 1 - p), LOG_CLIP, 1 - LOG_CLIP)
        has = g["lower"].notna() & g["upper"].notna() if "lower" in g else pd.Series(False)
        inside = (g["lower"] <= g["actual"]) & (g["actual"] <= g["upper"])
        outside = (g["lower"] < g["support_lo"] - 1e-9) | (g["upper"] > g["support_hi"] + 1e-9)
        return pd.Series(
            {
                "n": len(g),
                "no_p": int(g["p"].isna().sum()),
                "brier": float(np.mean((p - met) ** 2)),
                "log": float(np.mean(-np.log(p_outcome))),
                "cov90": float(inside[has].mean()) if has.any() else np.nan,
                "outside": int(outside[has].sum()) if has.any() else np.nan,
                "tails": int(((p < 0.01) | (p > 0.99)).sum()),
            }
        )

    order = ["brandstats", *ANCHORS]
    out = long.groupby("method").apply(one, include_groups=False)
    out = out.reindex([m for m in order if m in out.index])
    return out.astype({c: "Int64" for c in ("n", "no_p", "outside", "tails")})


def subset(
    cases: pd.DataFrame, corpus: pd.DataFrame, *, per_family: int | None, window: int | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every k-th case of each family (at most ``per_family``, in case_id order) and, with
    ``window``, only the last ``window`` observations up to each case's as_of_year."""
    if per_family:
        parts = []
        for _, group in corpus.sort_values("case_id").groupby("family", sort=False):
            step = max(1, len(group) // per_family)
            parts.append(group.iloc[::step].head(per_family))
        corpus = pd.concat(parts, ignore_index=True)
    cases = cases.loc[cases["case_id"].isin(corpus["case_id"])]
    if window:
        as_of = cases["case_id"].map(corpus.set_index("case_id")["as_of_year"])
        seen = cases.loc[cases["year"] <= as_of]
        cases = seen.groupby("case_id", group_keys=False).tail(window)
    return cases.reset_index(drop=True), corpus.reset_index(drop=True)


def corpus_series(
    cases: pd.DataFrame, corpus: pd.DataFrame, *, without: set[str] = frozenset()
) -> list[tuple[pd.Series, tuple[float, float]]]:
    """One (series, support) per (geography, WDI indicator): the longest case holding it;
    series of the indicators in ``without`` left out."""
    first = cases.drop_duplicates("case_id").set_index("case_id")
    info = cases.groupby("case_id")["year"].size().rename("size").to_frame().join(
        first[["geography", "indicator"]]
    )  # fmt: skip
    info = info.loc[~info["indicator"].isin(without)]
    keep = info.sort_values("size").groupby(["geography", "indicator"]).tail(1).index
    kinds = corpus.set_index("case_id")
    return [
        (g.set_index("year")["value"],
         support(kinds.loc[c, "unit_kind"], kinds.loc[c, "lower"], kinds.loc[c, "upper"]))
        for c, g in cases.loc[cases["case_id"].isin(keep)].groupby("case_id")
    ]  # fmt: skip


def references(corpus: pd.DataFrame, cases: pd.DataFrame, how: str) -> dict:
    """family -> Reference for ``--reference none`` (borrow nothing) or ``lofo`` (learned on
    the training corpus without the series of the scored family's WDI indicators: a family is
    never scored with a reference that saw its own series)."""
    from brandstats.reference import Reference, build_changes

    if how == "none":
        return dict.fromkeys(corpus["family"].unique(), Reference(pd.DataFrame()))
    scored = cases.drop_duplicates("case_id").set_index("case_id")["indicator"]
    train_cases, train = load_corpus(default_corpus())
    out = {}
    for family in corpus["family"].unique():
        own = set(scored[corpus.loc[corpus["family"] == family, "case_id"]])
        out[family] = Reference(build_changes(corpus_series(train_cases, train, without=own)))
    return out


def by_length(long: pd.DataFrame) -> pd.DataFrame:
    """One row per window: brandstats' Brier against each anchor, coverage, tails, no P."""
    rows = []
    for window, g in long.groupby("window", sort=False):
        s = scores(g)
        best = s.loc[list(ANCHORS), "brier"].idxmin()
        rows.append(
            {"points": window, "cases": int(s.loc["brandstats", "n"]),
             "no_p": int(s.loc["brandstats", "no_p"]), "brier": s.loc["brandstats", "brier"],
             **{f"brier_{a}": s.loc[a, "brier"] for a in ANCHORS},
             "ratio_best": s.loc["brandstats", "brier"] / s.loc[best, "brier"],
             "log": s.loc["brandstats", "log"], "cov90": s.loc["brandstats", "cov90"],
             "tails": int(s.loc["brandstats", "tails"])}
        )  # fmt: skip
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None, help="corpus folder")
    parser.add_argument("--cases-out", type=Path, help="write every forecast to this CSV")
    parser.add_argument("--per-family", type=int, help="at most N cases per family (quick runs)")
    parser.add_argument(
        "--window", type=int, help="keep only the last N observations up to as_of (short series)"
    )
    parser.add_argument(
        "--windows", help="comma-separated windows to score one after another, 0 = full series "
        "(e.g. 2,3,4,6,0); the by-length table is printed at the end"
    )  # fmt: skip
    parser.add_argument(
        "--reference", choices=("shipped", "none", "lofo"), default="shipped",
        help="the engine's reference class: the shipped one, none, or learned without the "
        "scored family's indicator (lofo: the honest score on the corpus it is learned from)",
    )  # fmt: skip
    parser.add_argument("--jobs", type=int, default=1, help="processes for brandstats (default 1)")
    args = parser.parse_args(argv)
    folder = args.corpus or default_corpus()
    windows = [int(w) for w in args.windows.split(",")] if args.windows else [args.window or 0]
    full_cases, full_corpus = load_corpus(folder)
    if args.reference != "shipped":
        REFERENCES.update(references(full_corpus, full_cases, args.reference))
    parts = []
    for window in windows:
        cases, corpus = subset(full_cases, full_corpus, per_family=args.per_family,
                               window=window or None)  # fmt: skip
        start = time.perf_counter()
        long = forecasts(cases, corpus, jobs=args.jobs).assign(window=window or "full")
        elapsed = time.perf_counter() - start
        parts.append(long)
        options = "".join(
            f", {name} {value}"
            for name, value in (("per family", args.per_family), ("window", window),
                                ("reference", args.reference))
            if value
        )  # fmt: skip
        print(
            f"corpus {folder}{options}: {len(corpus)} cases, {corpus['family'].nunique()} "
            f"families, {int(corpus['met'].sum())} met; {elapsed:.1f} s"
        )
        pd.set_option("display.width", 160)
        if len(windows) == 1:
            for family, group in long.groupby("family"):
                print(f"\n{family} ({group['case_id'].nunique()} cases)")
                print(scores(group).to_string(float_format=lambda v: f"{v:.3f}"))
        print(scores(long).to_string(float_format=lambda v: f"{v:.3f}"))
    long = pd.concat(parts, ignore_index=True)
    if args.cases_out:
        long.to_csv(args.cases_out, index=False)
    if len(windows) > 1:
        print("\nby length (points up to the as-of year; full = the whole series)")
        print(by_length(long).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    overall = scores(long.loc[long["window"] == long["window"].iloc[0]])
    print("\noverall" + (f" ({windows[0] or 'full'})" if len(windows) > 1 else ""))
    print(overall.to_string(float_format=lambda v: f"{v:.3f}"))
    best = overall.loc[list(ANCHORS), "brier"].idxmin()
    ratio = overall.loc["brandstats", "brier"] / overall.loc[best, "brier"]
    print(f"\nbest anchor: {best}")
    print(f"Brier ratio brandstats / best anchor = {ratio:.3f}")
    return float(ratio)


if __name__ == "__main__":
    main()
