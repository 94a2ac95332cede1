"""Smoke test of benchmarks/bench_calibration.py on a tiny corpus with hand-computed scores."""

from __future__ import annotations

import importlib.util
import math

import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from brandstats.config import PROJECT_ROOT


@pytest.fixture(scope="module")
def bench():
    path = PROJECT_ROOT / "benchmarks" / "bench_calibration.py"
    spec = importlib.util.spec_from_file_location("bench_calibration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def corpus(tmp_path):
    series = {
        # case, geography, unit, first year, values
        "FAM_A_AA": ("Aland", "count per 1,000", 2011, [10, 12, 13, 16, 18]),
        "FAM_A_BB": ("Bland", "count per 1,000", 2011, [50, 48, 47, 45, 44]),
        "FAM_B_CC": ("Cland", "%", 2011, [80, 82, 85, 86, 88]),
    }
    rows = [
        {"case_id": c, "geography": g, "indicator": "x", "unit": u, "year": y0 + i,
         "value": v, "source": "made up for a test"}
        for c, (g, u, y0, values) in series.items()
        for i, v in enumerate(values)
    ]  # fmt: skip
    pd.DataFrame(rows).to_csv(tmp_path / "cases.csv", index=False)
    targets = pd.DataFrame(
        {
            "case_id": list(series),
            "target": [25, 30, 90],
            "direction": [">=", "<=", ">="],
            "target_year": [2018, 2020, 2017],
            "as_of_year": [2015, 2015, 2015],
            "actual_in_target_year": [24, 40, 91],
            "met": [False, False, True],
            "source": "made up for a test",
        }
    )
    targets.to_csv(tmp_path / "targets.csv", index=False)
    return tmp_path


def test_official_rule_brier_by_hand(bench, corpus):
    cases, targets = bench.load_corpus(corpus)
    long = bench.forecasts(cases, targets)
    official = long.loc[long["method"] == "official"].set_index("case_id")["p"]
    # A: growth (18/10)^(1/4) - 1 = 15.8 % against (25/10)^(1/7) - 1 = 14.0 % needed: on track.
    # B: (44/50)^(1/4) - 1 = -3.1 % against (30/50)^(1/9) - 1 = -5.5 %: ratio 0.57, not.
    # C: (88/80)^(1/4) - 1 = 2.4 % against (90/80)^(1/6) - 1 = 2.0 %: on track.
    assert official.to_dict() == {"FAM_A_AA": 1.0, "FAM_A_BB": 0.0, "FAM_B_CC": 1.0}
    table = bench.scores(long)
    # misses: A (on track, not met); B and C right
    assert_allclose(table.loc["official", "brier"], 1 / 3)
    assert_allclose(table.loc["official", "log"], -math.log(1e-3) / 3 - 2 * math.log(1 - 1e-3) / 3)


def test_drift_anchor_by_hand(bench, corpus):
    cases, targets = bench.load_corpus(corpus)
    series = cases.loc[cases["case_id"] == "FAM_A_AA"].set_index("year")["value"]
    p, lower, upper = bench.anchor_drift(series.astype(float), 25.0, ">=", 2018)
    # A: drift (18 - 10) / 4 = 2; increments 2, 1, 3, 2 -> residuals 0, -1, 1, 0,
    # sigma^2 = 2/3; h = 3: mean 18 + 6 = 24, variance 2/3 * (3 + 9/4) = 3.5
    p_a = stats.norm.sf((25 - 24) / math.sqrt(3.5))
    assert_allclose(p, p_a)
    half = 1.6448536 * math.sqrt(3.5)
    assert_allclose([lower, upper], [24 - half, 24 + half], rtol=1e-6)
    # B: drift -6 / 4 = -1.5; residuals -0.5, 0.5, -0.5, 0.5 -> sigma^2 = 1/3; h = 5:
    # mean 44 - 7.5 = 36.5, variance 1/3 * (5 + 25/4) = 3.75; P(Y <= 30)
    p_b = stats.norm.cdf((30 - 36.5) / math.sqrt(3.75))
    # C: drift 2; residuals 0, 1, -1, 0 -> sigma^2 = 2/3; h = 2: mean 92, variance 2; P(Y >= 90)
    p_c = stats.norm.sf((90 - 92) / math.sqrt(2))
    long = bench.forecasts(cases, targets)
    table = bench.scores(long)
    # outcomes: A not met, B not met, C met
    assert_allclose(table.loc["drift", "brier"], (p_a**2 + p_b**2 + (1 - p_c) ** 2) / 3)
    # the 90 % intervals: A's actual 24 inside, B's 40 outside (36.5 + 3.19), C's 91 inside
    assert_allclose(table.loc["drift", "cov90"], 2 / 3)


def test_brandstats_row_and_last_line(bench, corpus, capsys):
    ratio = bench.main(["--corpus", str(corpus)])
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == f"Brier ratio brandstats / best anchor = {ratio:.3f}"
    assert "3 cases, 2 families, 1 met" in out[0]
    cases, targets = bench.load_corpus(corpus)
    ours = bench.run_brandstats(cases, targets).set_index("case_id")
    assert sorted(ours.index) == ["FAM_A_AA", "FAM_A_BB", "FAM_B_CC"]
    assert ours["p"].between(0, 1).all()
    assert (ours["lower"] < ours["upper"]).all()
