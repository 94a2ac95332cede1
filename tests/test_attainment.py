"""Attainment: P(met), verdict words, the official-style progress measure, vintages."""

from __future__ import annotations

import math
from dataclasses import FrozenInstanceError, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import stats

import brandstats
import brandstats as bs
import brandstats.config
from brandstats import BrandstatsError, InsufficientDataError
from brandstats.attainment import (
    assess,
    assess_all,
    assess_series,
    measure_progress,
    probability_met,
    reconcile,
    required_path,
    verdict_for,
)


@dataclass(frozen=True)
class Frozen:
    """A scipy distribution with the predictive interface used by attainment."""

    dist: object

    def cdf(self, x):
        return self.dist.cdf(x)

    def sf(self, x):
        return self.dist.sf(x)


# --------------------------------------------------------------------------- P(met), verdict


def test_probability_met_reads_the_cdf_with_continuity_for_counts():
    d = Frozen(stats.norm(290, 10))
    assert_allclose(probability_met(d, target=300, comparison=">=", unit="count"),
                    stats.norm(290, 10).sf(299.5), rtol=1e-12)  # fmt: skip
    assert_allclose(probability_met(d, target=300, comparison=">", unit="count"),
                    stats.norm(290, 10).sf(300.5), rtol=1e-12)  # fmt: skip
    assert_allclose(probability_met(d, target=300, comparison=">", unit="yuan"),
                    stats.norm(290, 10).sf(300), rtol=1e-12)  # fmt: skip
    rank = Frozen(stats.norm(11, 2))
    assert_allclose(probability_met(rank, target=10, comparison="<=", unit="rank"),
                    stats.norm(11, 2).cdf(10.5), rtol=1e-12)  # fmt: skip
    assert_allclose(probability_met(rank, target=10, comparison="<", unit="rank"),
                    stats.norm(11, 2).cdf(9.5), rtol=1e-12)  # fmt: skip


@pytest.mark.parametrize(
    ("p", "words"),
    [(0.995, "virtually certain"), (0.99, "virtually certain"), (0.95, "very likely"),
     (0.7, "likely"), (0.5, "about as likely as not"), (0.2, "unlikely"),
     (0.05, "very unlikely"), (0.001, "exceptionally unlikely")],
)  # fmt: skip
def test_verdict_words_follow_the_ipcc_scale(p, words):
    assert verdict_for(p) == words


def test_verdict_refuses_a_non_probability():
    with pytest.raises(BrandstatsError, match="probability"):
        verdict_for(1.2)


# --------------------------------------------------------------------------- progress


def test_progress_by_hand_rising():
    s = pd.Series([100.0, 110.0, 121.0], index=[2018, 2019, 2020])
    got = measure_progress(s, target=200, comparison=">=", target_year=2025)
    observed = (121 / 100) ** (1 / 2) - 1  # 10 % a year
    required = (200 / 100) ** (1 / 7) - 1  # 10.41 % a year
    assert_allclose([got.observed_growth, got.required_growth], [observed, required])
    assert_allclose(got.ratio, observed / required)
    assert got.category == "on track"  # R = 0.961 >= 0.95
    assert_allclose(got.still_required_growth, (200 / 121) ** (1 / 5) - 1)
    slower = pd.Series([100.0, 115.0], index=[2018, 2020])  # 7.2 % a year
    moderate = measure_progress(slower, target=200, comparison=">=", target_year=2025)
    assert_allclose(moderate.ratio, (1.15**0.5 - 1) / required)  # R = 0.696
    assert moderate.category == "moderate progress"


def test_progress_by_hand_falling_rank():
    # rank 24 -> 15 in three years; target: top 10 by 2022 (lower is better)
    s = pd.Series([24.0, 15.0], index=[2016, 2019])
    got = measure_progress(s, target=10, comparison="<=", target_year=2022)
    observed = (15 / 24) ** (1 / 3) - 1
    required = (10 / 24) ** (1 / 6) - 1
    assert observed < 0 and required < 0
    assert_allclose(got.ratio, observed / required)
    assert got.category == "on track"  # R = 1.07
    slow = measure_progress(pd.Series([24.0, 22.0], index=[2016, 2019]), target=10,
                            comparison="<=", target_year=2022)  # fmt: skip
    assert_allclose(slow.ratio, ((22 / 24) ** (1 / 3) - 1) / required)
    assert slow.category == "insufficient progress"  # R = 0.21
    away = measure_progress(pd.Series([24.0, 26.0], index=[2016, 2019]), target=10,
                            comparison="<=", target_year=2022)  # fmt: skip
    assert away.ratio < 0 and away.category == "moving away"


def test_progress_base_year_and_zero_base():
    s = pd.Series([0.0, 2.0, 4.0, 5.0], index=[2018, 2019, 2020, 2021])
    got = measure_progress(s, target=8, comparison=">=", target_year=2022)
    assert got.kind == "absolute"  # no growth rate from zero: change per year instead
    assert_allclose(got.ratio, (5 / 3) / (8 / 4))
    later = measure_progress(s, target=8, comparison=">=", target_year=2022, base_year=2019)
    assert later.kind == "compound" and later.base_year == 2019
    with pytest.raises(BrandstatsError, match="base year 2017 is not observed"):
        measure_progress(s, target=8, comparison=">=", target_year=2022, base_year=2017)
    with pytest.raises(InsufficientDataError, match="two observations"):
        measure_progress(s.iloc[:1], target=8, comparison=">=", target_year=2022)


# --------------------------------------------------------------------------- assess


GROWING = pd.Series([2500.0, 2970, 3197, 3678, 4256, 4492, 5300], index=range(2015, 2022)) * 1e8


def test_assess_series_single_models_match_scipy():
    # continuous, unbounded: the models' own distributions, no transformation or truncation
    res = assess_series(GROWING, target=6e11, comparison=">", target_year=2022,
                        unit="continuous", model="linear")  # fmt: skip
    # OLS by hand: t predictive with n - 2 degrees of freedom
    x = np.arange(2015, 2022) - 2021.0
    X = np.column_stack([np.ones_like(x), x])
    beta, *_ = np.linalg.lstsq(X, GROWING.to_numpy(), rcond=None)
    resid = GROWING.to_numpy() - X @ beta
    s2 = resid @ resid / (len(x) - 2)
    x0 = np.array([1.0, 1.0])
    se = math.sqrt(s2 * (1 + x0 @ np.linalg.inv(X.T @ X) @ x0))
    assert_allclose(res.probability, stats.t(5, loc=x0 @ beta, scale=se).sf(6e11), rtol=1e-9)
    assert res.verdict == verdict_for(res.probability)

    drift = assess_series(GROWING, target=6e11, comparison=">", target_year=2022,
                          unit="continuous", model="drift")  # fmt: skip
    y = GROWING.to_numpy()
    c = (y[-1] - y[0]) / 6
    sigma = np.sqrt(((np.diff(y) - c) ** 2).sum() / 5)
    sd = sigma * math.sqrt(1 * (1 + 1 / 6))  # FPP3 5.5: sigma * sqrt(h (1 + h / (T - 1)))
    assert_allclose(drift.probability, stats.norm(y[-1] + c, sd).sf(6e11), rtol=1e-9)


def test_assess_auto_gives_a_probability_and_forecast_columns():
    res = assess_series(GROWING, target=6e11, comparison=">", target_year=2022, unit="yuan")
    assert 0 < res.probability < 1
    assert {"year", "model", "median", "lower_50", "upper_50", "lower_90", "upper_90"} <= set(
        res.forecast.columns
    )
    point, median, lower, upper = res.interval(0.9)
    assert lower < median < upper
    assert lower < point < upper
    assert res.widening >= 1
    assert set(res.coverage) == {0.5, 0.9}
    assert set(res.backtest["model"]) >= {"drift", "linear", "loglinear", "holt"}
    with pytest.raises(FrozenInstanceError):
        res.probability = 1.0  # type: ignore[misc]


def _reference_share(kind: str, horizon: int, shifted) -> float:
    """Share of the shipped reference quantiles (data/reference_changes.csv, read here with
    pandas) for which ``shifted(value)`` meets the target."""
    table = pd.read_csv(Path(bs.config.DATA_DIR) / "reference_changes.csv")
    rows = table.loc[(table["scale"] == "log") & (table["kind"] == kind)
                     & (table["horizon"] == horizon)]  # fmt: skip
    return float(np.mean([shifted(v) for v in rows["value"]])), int(rows["cases"].iloc[0])


def test_two_points_give_a_probability_from_the_reference_class():
    s = pd.Series([1547.0, 2231.0], index=[2018, 2019])
    res = assess_series(s, target=4400, comparison=">=", target_year=2022)
    # by hand: half the h = 3 level changes, half the extended change plus its errors
    slope = np.log(2231 / 1547)
    edge = np.log(4399.5)  # a count: P(X >= 4400) = P(X > 4399.5)
    level, n1 = _reference_share("level", 3, lambda c: np.log(2231) + c > edge)
    drift, n2 = _reference_share("drift", 3, lambda e: np.log(2231) + 3 * slope + e > edge)
    expected = 0.5 * level + 0.5 * drift
    floor = 1 / (min(n1, n2) + 2)
    assert_allclose(res.probability, np.clip(expected, floor, 1 - floor), atol=1e-12)
    assert res.verdict == verdict_for(res.probability)
    assert res.progress.category in ("on track", "moderate progress")
    assert any(getattr(n, "code", "") == "reference_outlook" for n in res.notes)
    _, median, lower, upper = res.interval(0.9)
    assert lower < median < upper


def test_one_point_gives_a_probability_only_when_the_gap_settles_it():
    far_beyond = assess_series(pd.Series([950.0], index=[2021]), target=600, comparison=">=",
                               target_year=2022)  # fmt: skip
    # one value: the changes in either direction
    up, cases = _reference_share("level", 1, lambda c: np.log(950) + c > np.log(599.5))
    down, _ = _reference_share("level", 1, lambda c: np.log(950) - c > np.log(599.5))
    share = (up + down) / 2
    assert_allclose(far_beyond.probability, min(share, 1 - 1 / (cases + 2)), atol=1e-12)
    assert far_beyond.probability > 0.9
    close = assess_series(pd.Series([590.0], index=[2021]), target=600, comparison=">=",
                          target_year=2022)  # fmt: skip
    assert close.probability is None and close.verdict == "no probability"
    assert "at least 3" in close.reason


def test_no_reference_for_a_series_of_a_kind_the_corpus_lacks():
    # a continuous unit without bounds that goes through 0: neither a share nor positive
    res = assess_series(pd.Series([-2.0, 1.0], index=[2020, 2021]), target=3, comparison=">=",
                        target_year=2024, unit="continuous")  # fmt: skip
    assert res.probability is None
    assert "at least 3" in res.reason


def test_as_of_hides_later_data_from_every_model(monkeypatch):
    import brandstats.backtest as backtest

    seen_years = []
    original = backtest.project

    def spy(series, **kwargs):
        seen_years.append(int(series.index.max()))
        return original(series, **kwargs)

    monkeypatch.setattr(backtest, "project", spy)
    res = assess_series(GROWING, target=6e11, comparison=">", target_year=2022, as_of=2019)
    assert seen_years == [2019]
    assert res.last_year == 2019 and res.history["year"].max() == 2019


def test_retrospective_on_the_real_high_tech_series(observations, targets):
    """As of 2019 (two points) and 2021 (three): the 2022 outlook, then what happened."""
    early = assess(observations, targets, "high_tech_enterprises", "Jinan", as_of=2019)
    # 1547 -> 2231: one change says nothing of its spread; the reference class does
    assert any(getattr(n, "code", "") == "reference_outlook" for n in early.notes)
    assert early.progress.category == "on track"  # 44 % a year observed, 23 % required
    assert early.met is True  # 2022: "exceeded 5,700" is a lower bound, and >= 4,400
    late = assess(observations, targets, "high_tech_enterprises", "Jinan", as_of=2021)
    assert late.probability > 0.5 and late.pointed_right_way is True
    assert not late.illustrative
    now = assess(observations, targets, "high_tech_enterprises", "Jinan")
    assert (now.verdict, now.last_year, now.actual) == ("met", 2022, 5700.0)


def test_specialised_firms_currently_meet_but_are_a_level(observations, targets):
    # 950 firms (a lower bound) in 2021 against ">= 600" by 2022: titles lapse, so this level
    # is not "already met" (it was, before accumulation existed); one point far beyond the
    # target: the reference class says how likely it holds.
    res = assess(observations, targets, "specialised_enterprises", "Jinan")
    assert res.accumulation == "level"
    assert res.currently_meets is True
    assert res.verdict in ("very likely", "virtually certain") and res.probability > 0.9
    assert "lower-bound" in " ".join(res.notes)


def test_illustrative_inputs_are_flagged(observations, targets):
    res = assess(observations, targets, "product_brand_value")
    assert res.illustrative and res.region == "Jinan"
    assert any("ILLUSTRATIVE" in n for n in res.notes)
    assert res.to_dict()["illustrative"] is True


def test_assess_all_one_row_per_target_with_data(observations, targets):
    table = assess_all(observations, targets)
    with_target = targets.loc[targets["target"].notna(), "indicator"]
    observed = set(observations["indicator"])
    # catalogue order, exactly: one row per target with observations, none for the others
    assert list(table["indicator"]) == [i for i in with_target if i in observed]
    assert table[["indicator", "region"]].duplicated().sum() == 0
    assert (table["region"] == "Jinan").all()  # Shandong rows have no Shandong target


def test_interval_at_a_level_not_computed_is_a_package_error():
    res = assess_series(GROWING, target=6e11, comparison=">", target_year=2022, unit="yuan",
                        model="linear", levels=(0.9,))  # fmt: skip
    assert len(res.interval(0.9)) == 4
    with pytest.raises(BrandstatsError, match=r"no 0\.8 interval.*levels 0\.9"):
        res.interval(0.8)


def test_to_dict_is_plain_json(observations, targets):
    import json

    res = assess(observations, targets, "service_brand_value")
    text = json.dumps(res.to_dict(), allow_nan=False)
    assert '"verdict"' in text


def test_bad_options_are_refused(observations, targets):
    with pytest.raises(BrandstatsError, match="model must be"):
        assess(observations, targets, "product_brand_value", model="prophet")
    with pytest.raises(BrandstatsError, match="levels"):
        assess(observations, targets, "product_brand_value", levels=(0.9, 1.5))
    with pytest.raises(BrandstatsError, match="context indicator"):
        assess(observations, targets, "unicorn_firms", "Jinan")
    with pytest.raises(BrandstatsError, match="not in the targets"):
        assess(observations, targets, "nonsense", "Jinan")


# --------------------------------------------------------------------------- properties

fast = settings(max_examples=25, deadline=None)
values = st.lists(st.floats(50, 150), min_size=4, max_size=7)


@fast
@given(values, st.floats(80, 200), st.floats(1, 30))
def test_probability_is_monotone_in_the_target(ys, target, step):
    s = pd.Series(ys, index=range(2015, 2015 + len(ys)))
    kw = {"comparison": ">=", "target_year": 2015 + len(ys) + 1, "unit": "yuan", "model": "linear"}
    lo = assess_series(s, target=target, **kw).probability
    hi = assess_series(s, target=target + step, **kw).probability
    assert hi <= lo + 1e-12


@fast
@given(values, st.floats(80, 200))
def test_mirror_symmetry_between_at_least_and_at_most(ys, target):
    s = pd.Series(ys, index=range(2015, 2015 + len(ys)))
    kw = {"target_year": 2015 + len(ys) + 2, "unit": "continuous", "model": "drift"}
    up = assess_series(s, target=target, comparison=">=", **kw).probability
    down = assess_series(-s + 300, target=300 - target, comparison="<=", **kw).probability
    assert_allclose(up, down, atol=1e-9)
    # a percentage and its complement: the logit scale is symmetric about 50 %
    kw["unit"] = "percent"
    share = assess_series(s / 2, target=target / 2.5, comparison=">=", **kw).probability
    rest = assess_series(100 - s / 2, target=100 - target / 2.5, comparison="<=", **kw)
    assert_allclose(share, rest.probability, atol=1e-9)


@fast
@given(values, st.integers(-30, 30))
def test_shifting_all_years_shifts_nothing_else(ys, shift):
    s = pd.Series(ys, index=range(2015, 2015 + len(ys)))
    kw = {"target": 100.0, "comparison": ">=", "unit": "yuan"}
    a = assess_series(s, target_year=2015 + len(ys) + 1, **kw)
    moved = s.set_axis(s.index + shift)
    b = assess_series(moved, target_year=2015 + len(ys) + 1 + shift, **kw)
    assert_allclose(a.probability, b.probability, rtol=1e-9)
    assert a.verdict == b.verdict


@fast
@given(values, st.integers(2018, 2021))
def test_as_of_equals_truncating_the_data(ys, as_of):
    s = pd.Series(ys, index=range(2015, 2015 + len(ys)))
    kw = {"target": 100.0, "comparison": ">=", "unit": "yuan", "target_year": 2024}
    a = assess_series(s, as_of=as_of, **kw)
    b = assess_series(s.loc[:as_of], **kw)
    assert (a.probability, a.verdict, a.last_year) == (b.probability, b.verdict, b.last_year)
    pd.testing.assert_frame_equal(a.forecast, b.forecast)


def test_public_api_names():
    assert brandstats.assess is assess and brandstats.assess_all is assess_all


# --------------------------------------------------------------------------- support


def test_percent_forecasts_stay_in_0_100_and_p_met_is_the_logit_drift_by_hand():
    s = pd.Series([90.0, 93.0, 95.5, 97.0, 98.2, 99.0], index=range(2016, 2022))
    res = assess_series(s, target=99.5, comparison=">=", target_year=2026, unit="percent",
                        model="drift")  # fmt: skip
    # drift on logit(p / 100), Normal predictive (FPP3 5.5), mapped back
    z = np.log(s / (100 - s)).to_numpy()
    c = (z[-1] - z[0]) / 5
    sigma = np.sqrt(((np.diff(z) - c) ** 2).sum() / 4)
    h = 5
    d = stats.norm(z[-1] + c * h, sigma * math.sqrt(h + h**2 / 5))
    assert_allclose(res.probability, d.sf(np.log(99.5 / 0.5)), rtol=1e-9)
    _, median, lower, upper = res.interval(0.9)
    assert_allclose([lower, upper], 100 / (1 + np.exp(-d.ppf([0.05, 0.95]))), rtol=1e-9)
    assert 0 <= lower < median < upper <= 100
    # the unbounded drift would have put the upper end above 100 %
    free = assess_series(s, target=99.5, comparison=">=", target_year=2026,
                         unit="continuous", model="drift")  # fmt: skip
    assert free.interval(0.9)[3] > 100


def test_count_touching_zero_is_censored_at_zero_by_hand():
    s = pd.Series([9.0, 6.0, 4.0, 0.0], index=range(2018, 2022))  # reaches the bound
    res = assess_series(s, target=2, comparison="<=", target_year=2023, unit="count",
                        model="drift")  # fmt: skip
    y = s.to_numpy()
    c = (y[-1] - y[0]) / 3
    sigma = np.sqrt(((np.diff(y) - c) ** 2).sum() / 2)
    h = 2
    d = stats.norm(y[-1] + c * h, sigma * math.sqrt(h + h**2 / 3))
    # the mass below 0 sits on 0, which meets "<= 2" (whole counts: below 2.5)
    assert_allclose(res.probability, d.cdf(2.5), rtol=1e-9)
    _, median, lower, upper = res.interval(0.9)
    assert_allclose([median, lower, upper], np.clip(d.ppf([0.5, 0.05, 0.95]), 0, None), atol=1e-9)
    assert lower == 0


def test_auto_forecasts_never_leave_the_support(observations, targets):
    table = assess_all(observations, targets)
    ranks = table["unit"] == "rank"
    percent = table["unit"] == "percent"
    for col in ("forecast_lower", "forecast_median", "forecast_upper"):
        v = table[col]
        assert (v.dropna() >= 0).all()
        assert (v[percent].dropna() <= 100).all() and (v[ranks].dropna() >= 1).all()


def test_impossible_targets_are_refused_by_assess_series():
    s = pd.Series([40.0, 50.0, 60.0], index=[2019, 2020, 2021])
    with pytest.raises(BrandstatsError, match="impossible"):
        assess_series(s, target=100, comparison=">", target_year=2025, unit="percent")
    with pytest.raises(BrandstatsError, match="impossible"):
        assess_series(s, target=1, comparison="<", target_year=2025, unit="rank")
    with pytest.raises(BrandstatsError, match=r"values must lie in \[0, 50\]"):
        assess_series(s, target=45, comparison=">", target_year=2025, unit="percent", upper=50)


# --------------------------------------------------------------------------- accumulation


FALLING = pd.Series([100.0, 90, 80, 70, 60, 50], index=range(2016, 2022))


def test_a_falling_level_that_meets_its_target_now_is_not_already_met():
    res = assess_series(FALLING, target=50, comparison=">=", target_year=2022, unit="count")
    assert res.verdict != "already met" and res.verdict == verdict_for(res.probability)
    assert res.currently_meets is True and res.accumulation == "level"
    # falling by 10 a year; 0.1 is the tail floor of so short a backtest (backtest.tail_floor)
    assert res.probability <= 0.1
    # Changed (review item 4): this used to be "on track" (R = 1.4) with reason
    # "currently_meets"; falling faster than the target allows is moving away, which agrees
    # with P(met), so there is nothing to reconcile
    assert res.progress.category == "moving away"
    assert res.reconciliation is None


# Review item 4: the four sign cases of the required growth, by hand. A ">=" target above the
# base and a "<=" cap below it need progress (Eurostat ratio); a ">=" target below the base and
# a "<=" cap above it are allowances: on track while the observed pace stays within them.
@pytest.mark.parametrize(
    ("values", "target", "comparison", "observed", "required", "ratio", "category"),
    [
        # >=, must rise: 100 -> 121 in 2 years (10 %/yr) against 200 in 7 (10.41 %/yr)
        ([100, 110, 121], 200, ">=", 0.1, 2 ** (1 / 7) - 1, 0.1 / (2 ** (1 / 7) - 1),
         "on track"),
        ([100, 101, 102.01], 200, ">=", 0.01, 2 ** (1 / 7) - 1, 0.01 / (2 ** (1 / 7) - 1),
         "insufficient progress"),
        # >=, may fall: 60 -> 58 in 2 years against 50 in 7 ((50/60)^(1/7) - 1 = -2.57 %/yr)
        ([60, 59, 58], 50, ">=", (58 / 60) ** 0.5 - 1, (50 / 60) ** (1 / 7) - 1, None,
         "on track"),
        ([60, 57, 54], 50, ">=", (54 / 60) ** 0.5 - 1, (50 / 60) ** (1 / 7) - 1, None,
         "moving away"),
        # <=, must fall: 100 -> 80 (-10.56 %/yr) against 50 in 7 (-9.43 %/yr)
        ([100, 90, 80], 50, "<=", 0.8**0.5 - 1, 0.5 ** (1 / 7) - 1,
         (0.8**0.5 - 1) / (0.5 ** (1 / 7) - 1), "on track"),
        ([100, 99, 98], 50, "<=", 0.98**0.5 - 1, 0.5 ** (1 / 7) - 1,
         (0.98**0.5 - 1) / (0.5 ** (1 / 7) - 1), "insufficient progress"),
        # <=, may rise: 80 -> 84 (2.47 %/yr) against a cap of 100 in 7 (3.24 %/yr)
        ([80, 82, 84], 100, "<=", (84 / 80) ** 0.5 - 1, 1.25 ** (1 / 7) - 1, None, "on track"),
        ([80, 88, 96], 100, "<=", (96 / 80) ** 0.5 - 1, 1.25 ** (1 / 7) - 1, None,
         "moving away"),
    ],
)  # fmt: skip
def test_progress_category_for_every_sign_of_the_required_growth(
    values, target, comparison, observed, required, ratio, category
):
    series = pd.Series(values, index=[2018, 2019, 2020], dtype=float)
    got = measure_progress(series, target=target, comparison=comparison, target_year=2025)
    assert_allclose([got.observed_growth, got.required_growth], [observed, required], rtol=1e-12)
    if ratio is None:
        assert math.isnan(got.ratio)
    else:
        assert_allclose(got.ratio, ratio, rtol=1e-12)
    assert got.category == category


def test_review_item_4_falling_series_is_not_on_track():
    series = pd.Series([100.0, 90, 80, 70, 60, 50], index=range(2015, 2021))
    res = assess_series(series, target=50, comparison=">=", target_year=2022, unit="count")
    # observed (50/100)^(1/5) - 1 = -12.9 %/yr, allowed (50/100)^(1/7) - 1 = -9.4 %/yr
    assert res.progress.observed_growth < res.progress.required_growth < 0
    assert res.progress.category == "moving away"


# Review item 6: a bound in the unfavourable direction is not a point for progress or a path
@pytest.mark.parametrize(
    ("qualifier", "comparison", "target", "assessed"),
    [
        ("lower_bound", "<=", 10, False),  # rank 11 or lower, top-10 target: unknown how far
        ("upper_bound", "<=", 10, True),  # rank 11 or better: the true rank is no worse
        ("upper_bound", ">=", 30, False),  # at most 25 for an "at least 30" target
        ("lower_bound", ">=", 30, True),
    ],
)
def test_unfavourable_bound_gives_no_progress_or_path(qualifier, comparison, target, assessed):
    unit = "rank" if target == 10 else "count"
    values = [18.0, 15, 11] if unit == "rank" else [15.0, 20, 25]
    series = pd.Series(values, index=[2018, 2019, 2020])
    qualifiers = pd.Series(["reported", "reported", qualifier], index=series.index)
    res = assess_series(series, target=target, comparison=comparison, target_year=2025,
                        unit=unit, qualifiers=qualifiers)  # fmt: skip
    assert (res.progress is not None) == assessed
    assert (res.progress_reason is None) == assessed
    assert bool(res.required_path) == assessed
    if not assessed:
        assert res.progress_reason == "bound_only"
        assert res.row()["progress_category"] is None
        assert res.to_dict()["progress_reason"] == "bound_only"


def test_shipped_rank_bound_is_not_assessed(observations, targets):
    res = assess(observations, targets, "public_service_rank")
    assert res.history["qualifier"].iloc[-1] == "lower_bound"
    assert res.progress is None and res.progress_reason == "bound_only"
    assert res.required_path == {}


def test_a_growing_cap_met_today_is_judged_on_the_target_year():
    s = pd.Series([80.0, 85, 90, 95], index=range(2018, 2022))
    res = assess_series(s, target=100, comparison="<=", target_year=2025, unit="count",
                        accumulation="cumulative")  # fmt: skip
    assert res.currently_meets is True and res.verdict != "already met"


def test_a_cumulative_total_that_meets_its_target_is_already_met_with_p_one():
    s = pd.Series([10.0, 14, 21, 26], index=range(2018, 2022))
    res = assess_series(s, target=25, comparison=">=", target_year=2023, unit="count",
                        accumulation="cumulative")  # fmt: skip
    assert res.verdict == "already met" and res.probability == 1.0
    assert res.interval(0.9)[2] >= 26  # a running total does not fall
    level = assess_series(s, target=25, comparison=">=", target_year=2023, unit="count")
    assert level.verdict != "already met" and level.probability < 1


def test_shipped_targets_say_how_they_accumulate(observations, targets):
    by = targets.set_index("indicator")["accumulation"]
    assert by["high_tech_enterprises"] == "level"  # valid certificates lapse
    assert by["product_brand_count"] == "cumulative"
    rank = assess(observations, targets, "public_service_rank")  # a level: "top 10 by 2022"
    assert rank.accumulation == "level" and rank.verdict != "already met"
    assert rank.currently_meets is (rank.last_value <= 10)


@pytest.mark.parametrize(
    ("comparison", "bound", "met", "verdict"),
    [("<=", 8.0, True, "met"), ("<=", 12.0, None, "unknown"),
     (">=", 8.0, False, "not met"), (">=", 12.0, None, "unknown")],
)  # fmt: skip
def test_upper_bound_outcomes(comparison, bound, met, verdict):
    # "at most `bound`" against target 10: settles "<= 10" only when the bound meets it,
    # and ">= 10" only when the bound misses it
    s = pd.Series([5.0, 6.0, 7.0, bound], index=range(2019, 2023))
    q = pd.Series(["reported"] * 3 + ["upper_bound"], index=s.index)
    res = assess_series(s, target=10, comparison=comparison, target_year=2022, qualifiers=q)
    assert res.met is met and res.verdict == verdict and res.actual_qualifier == "upper_bound"


# --------------------------------------------------------------------------- path, reasons


def test_required_path_by_hand():
    path = required_path(2021, 100.0, target=121.0, target_year=2023, unit="count")
    assert_allclose(list(path.values()), [100.0, 110.0, 121.0])  # 10 % a year
    assert list(path) == [2021, 2022, 2023]
    rank = required_path(2021, 16.0, target=10.0, target_year=2024, unit="rank")
    assert_allclose(list(rank.values()), [16, 14, 12, 10])  # two places a year
    zero = required_path(2020, 0.0, target=8.0, target_year=2024, unit="count")
    assert_allclose(list(zero.values()), [0, 2, 4, 6, 8])  # no growth rate from 0
    assert required_path(2022, 5.0, target=8.0, target_year=2022, unit="count") == {}
    res = assess_series(GROWING, target=6e11, comparison=">", target_year=2023, unit="yuan")
    assert_allclose(res.to_dict()["required_path"]["2022"], 5.3e11 * (6 / 5.3) ** 0.5)


def test_reconciliation_slowed_by_hand():
    s = pd.Series([100.0, 140, 180, 181, 182, 183, 184, 185], index=range(2014, 2022))
    res = assess_series(s, target=230, comparison=">=", target_year=2024, unit="continuous")
    assert res.progress.category == "on track"  # (185/100)^(1/7) vs (230/100)^(1/10): R 1.06
    assert res.probability < 0.5
    got = res.reconciliation
    assert got["reason"] == "slowed" and got["since"] == 2018
    assert_allclose(got["recent_growth"], (185 / 182) ** (1 / 3) - 1)
    assert_allclose(got["required_growth"], (230 / 185) ** (1 / 3) - 1)
    assert res.to_dict()["reconciliation"]["reason"] == "slowed"


def test_reconciliation_accelerated_and_agreement():
    s = pd.Series([100.0, 100, 100, 100, 120, 145], index=range(2016, 2022))
    progress = measure_progress(s, target=200, comparison=">=", target_year=2024)
    assert progress.category == "moderate progress"  # 7.7 % a year against 9.1 % required
    got = reconcile(progress, 0.7, s, target=200, currently_meets=False, median=205.0)
    assert got["reason"] == "accelerated" and got["since"] == 2018
    assert_allclose(got["recent_growth"], (145 / 100) ** (1 / 3) - 1)  # 13.2 % since 2018
    assert_allclose(got["required_growth"], (200 / 145) ** (1 / 3) - 1)  # 11.3 % still needed
    assert reconcile(progress, 0.3, s, target=200, currently_meets=False, median=180.0) is None
    assert reconcile(None, 0.7, s, target=200, currently_meets=False, median=1.0) is None


@pytest.mark.parametrize(
    ("values", "unit", "target", "year"),
    [
        ([10.0, 12, 13, 15, 16], "count", 40, 2035),  # review item 3: straight line ~44 in 2035
        ([1520.0, 1650, 1710, 1850, 1930], "yuan", 2000, 2022),
    ],
)
def test_linear_is_the_ols_line_with_t_intervals_on_the_original_scale(values, unit, target, year):
    # review item 3: far from the bound 0, model="linear" is statsmodels' OLS prediction
    # (t with n - 2 df), median a straight line, and P(met) its t tail, censoring aside
    series = pd.Series(values, index=range(2016, 2021))
    res = assess_series(series, target=target, comparison=">=", target_year=year, unit=unit,
                        model="linear", levels=(0.9,))  # fmt: skip
    x = sm.add_constant(np.arange(-4.0, 1.0))
    ols = sm.OLS(np.asarray(values), x).fit()
    frame = ols.get_prediction(np.array([[1.0, year - 2020.0]])).summary_frame(alpha=0.1)
    _, median, lower, upper = res.interval(0.9)
    assert_allclose(
        [median, lower, upper],
        frame[["mean", "obs_ci_lower", "obs_ci_upper"]].to_numpy()[0],
        rtol=1e-9,
    )
    scale = (frame["obs_ci_upper"].iloc[0] - frame["mean"].iloc[0]) / stats.t.ppf(0.95, 3)
    edge = target - 0.5 if unit == "count" else target
    expected = stats.t.sf((edge - frame["mean"].iloc[0]) / scale, 3)
    assert_allclose(res.probability, expected, rtol=1e-8)


def test_rate_per_1000_forecasts_stay_non_negative():
    # review item 9: a mortality rate falling fast; its unit alone gives the support [0, inf)
    targets = brandstats.validate_targets(pd.DataFrame([{
        "indicator": "u5mr", "unit": "deaths per 1,000 live births", "comparison": "<=",
        "target": "20", "target_year": "2030", "region": "A"}]))  # fmt: skip
    obs = brandstats.validate_observations(pd.DataFrame({
        "indicator": "u5mr", "region": "A", "year": [str(y) for y in range(2014, 2021)],
        "value": ["120", "100", "85", "66", "50", "42", "30"],
        "unit": "deaths per 1,000 live births"}), targets)  # fmt: skip
    res = assess(obs, targets, "u5mr", model="linear")
    assert res.support == (0.0, math.inf)
    assert (res.forecast.filter(like="lower_") >= 0).all().all()
    assert res.forecast.filter(like="lower_").min().min() == 0  # the straight line reaches 0


# --------------------------------------------------------------------------- every boundary


@pytest.mark.parametrize(
    ("p", "words"),
    [(0.99, "virtually certain"), (0.9899, "very likely"), (0.9, "very likely"),
     (0.8999, "likely"), (0.66, "likely"), (0.6599, "about as likely as not"),
     (0.33, "about as likely as not"), (0.3299, "unlikely"), (0.1, "unlikely"),
     (0.0999, "very unlikely"), (0.01, "very unlikely"), (0.0099, "exceptionally unlikely")],
)  # fmt: skip
def test_every_verdict_edge(p, words):
    assert verdict_for(p) == words


def _progress_with_ratio(ratio: float):
    """A rising series whose observed growth is ``ratio`` times the required (10 % a year)."""
    required = 0.10
    observed = ratio * required
    s = pd.Series([100.0, 100 * (1 + observed) ** 2], index=[2020, 2022])
    target = 100 * (1 + required) ** 5  # by 2025
    return measure_progress(s, target=target, comparison=">=", target_year=2025)


@pytest.mark.parametrize(
    ("ratio", "category"),
    [(0.9501, "on track"), (0.9499, "moderate progress"), (0.93, "moderate progress"),
     (0.6001, "moderate progress"),
     (0.5999, "insufficient progress"), (0.0001, "insufficient progress"),
     (-0.0001, "moving away")],
)  # fmt: skip
def test_every_progress_category_edge(ratio, category):
    got = _progress_with_ratio(ratio)
    assert_allclose(got.ratio, ratio, atol=1e-9)
    assert got.category == category


def test_every_reconciliation_reason_by_code():
    # currently_meets: on track because the latest value meets the target, P(met) < 0.5
    s = pd.Series([100.0, 120.0], index=[2020, 2021])
    on = measure_progress(s, target=110, comparison=">=", target_year=2025)
    got = reconcile(on, 0.3, s, target=110, currently_meets=True, median=105.0)
    assert got == {"reason": "currently_meets", "last_value": 120.0, "target": 110,
                   "forecast_median": 105.0}  # fmt: skip
    # tolerance: on track only through the 5 % tolerance (R in [0.95, 1))
    two = pd.Series([100.0, 100 * 1.097**2], index=[2020, 2022])
    tol = measure_progress(two, target=100 * 1.1**5, comparison=">=", target_year=2025)
    assert 0.95 <= tol.ratio < 1 and tol.category == "on track"
    got = reconcile(tol, 0.4, two, target=100 * 1.1**5, currently_meets=False, median=150.0)
    assert got["reason"] == "tolerance"
    assert_allclose(got["ratio"], tol.ratio)
    # forecast: the growth rates agree with the category, the median does not
    steady = pd.Series([100.0, 110, 121, 133.1], index=range(2019, 2023))
    fine = measure_progress(steady, target=150, comparison=">=", target_year=2025)
    assert fine.category == "on track" and fine.ratio > 1
    got = reconcile(fine, 0.2, steady, target=150, currently_meets=False, median=140.0)
    assert got["reason"] == "forecast" and got["forecast_median"] == 140.0
    # slowed and accelerated: tests above, by hand; agreement gives None
    assert reconcile(fine, 0.8, steady, target=150, currently_meets=False, median=160.0) is None
