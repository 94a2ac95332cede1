"""Tests of brandstats.backtest: CRPS, rolling origin, weights, widening and projection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

import brandstats.backtest as backtest_module
from brandstats.backtest import crps, project, run_backtest
from brandstats.errors import BrandstatsError, InsufficientDataError
from brandstats.models import MODELS, Mixture, Parametric, Sample, fit_model


def annual(values, start=2010) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=range(start, start + len(values)))


def random_walk(n=10, seed=3) -> pd.Series:
    rng = np.random.default_rng(seed)
    return annual(100 + np.cumsum(rng.normal(5, 2, n)), start=2012)


# Slow steady growth, then a much steeper trend from 2015.
BREAK = annual([10, 11, 12, 13, 14, 20, 26, 32, 38])


def normal_crps(mu, sigma, y):
    """Closed-form CRPS of N(mu, sigma^2) (Gneiting & Raftery 2007)."""
    z = (y - mu) / sigma
    return sigma * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi))


@pytest.mark.parametrize("y", [-3.0, -1.0, 0.0, 0.4, 2.0, 5.0])
def test_crps_matches_closed_form_normal(y):
    # The K = 99 quantile approximation is about 1% above the exact value for a normal.
    predictive = Parametric(stats.norm, 0.5, 2.0)
    assert_allclose(crps(predictive, y), normal_crps(0.5, 2.0, y), rtol=0.011)


def test_crps_of_a_point_mass_is_absolute_error():
    assert_allclose(crps(Sample(np.full(10, 3.0)), 5.5), 2.5)


def test_backtest_cases_are_common_and_out_of_sample():
    result = run_backtest(random_walk(), horizon=2)
    cases = result.cases
    assert set(cases["model"]) == set(MODELS)
    # holt needs 6 points, so every origin has 6..9 observations (last years 2017..2020).
    assert sorted(cases["origin"].unique()) == [2017, 2018, 2019, 2020]
    assert (cases["year"] > cases["origin"]).all()
    assert cases["horizon"].between(1, 2).all()
    per_model = [set(zip(g["origin"], g["year"], strict=True)) for _, g in cases.groupby("model")]
    assert all(pairs == per_model[0] for pairs in per_model)
    assert len(per_model[0]) == 3 * 2 + 1  # origins 2017-2019 forecast 2 years, 2020 one
    assert (result.table["n_cases"] == 7).all()


def test_backtest_only_sees_data_up_to_each_origin(monkeypatch):
    series = random_walk()
    seen = []

    def recording_fit(data, model, **kwargs):
        seen.append(data.copy())
        return fit_model(data, model, **kwargs)

    monkeypatch.setattr(backtest_module, "fit_model", recording_fit)
    monkeypatch.setattr(backtest_module, "_FITS", type(backtest_module._FITS)())  # none kept
    result = run_backtest(series, horizon=3)
    prefixes = [data for data in seen if len(data) < len(series)]
    assert prefixes
    for data in prefixes:
        pd.testing.assert_series_equal(data, series.loc[: data.index.max()])
    origins = {int(data.index.max()) for data in prefixes}
    assert origins == set(result.cases["origin"])
    # Every forecast is scored against a year its model did not see.
    for _, case in result.cases.iterrows():
        assert case["year"] > case["origin"]


def test_fits_are_kept_by_series_and_reused(monkeypatch):
    """A series fitted before (the prefixes a later vintage fits again) gets the same fit
    back, and a backtest on it is the same; another value is another fit; at most
    FIT_CACHE_SIZE are kept."""
    monkeypatch.setattr(backtest_module, "_FITS", type(backtest_module._FITS)())
    calls = []

    def counting_fit(data, model, **kwargs):
        calls.append((len(data), model))
        return fit_model(data, model, **kwargs)

    monkeypatch.setattr(backtest_module, "fit_model", counting_fit)
    series = random_walk()
    first = run_backtest(series.iloc[:-1], horizon=3)
    fitted = len(calls)
    again = run_backtest(series.iloc[:-1], horizon=3)
    assert len(calls) == fitted  # nothing fitted again
    pd.testing.assert_frame_equal(again.table, first.table)
    pd.testing.assert_frame_equal(again.cases, first.cases)
    longer = run_backtest(series, horizon=3)
    assert {n for n, _ in calls[fitted:]} == {len(series)}  # only the whole longer series
    changed = series.copy()
    changed.iloc[-1] += 1.0
    assert backtest_module._fit(changed, "drift", 0) is not longer.fits["drift"]
    assert backtest_module._fit(series, "drift", 0) is longer.fits["drift"]
    monkeypatch.setattr(backtest_module, "FIT_CACHE_SIZE", 3)
    for k in range(5):
        backtest_module._fit(series + k, "linear", 0)
    assert len(backtest_module._FITS) == 3


def _floor(y: np.ndarray) -> float:
    """The models' documented spread floor: the rounding error 1/sqrt(12) of whole numbers
    (engine, review item 5), else 1e-9 of the largest value (random-walk floats)."""
    return 1 / np.sqrt(12) if np.all(y == np.round(y)) else 1e-9 * np.max(np.abs(y))


def drift_by_hand(prefix: pd.Series, year: int):
    """The random walk with drift's forecast, from FPP3 5.5 written out (consecutive years)."""
    y = prefix.to_numpy()
    t = len(y)
    c = (y[-1] - y[0]) / (t - 1)
    sigma = np.sqrt(np.sum((np.diff(y) - c) ** 2) / (t - 2))
    sigma = max(sigma, _floor(y))
    h = year - int(prefix.index[-1])
    return stats.norm(loc=y[-1] + c * h, scale=sigma * np.sqrt(h * (1 + h / (t - 1))))


def linear_by_hand(prefix: pd.Series, year: int):
    """The OLS line's Student t forecast, from statsmodels' prediction interval."""
    import statsmodels.api as sm

    x = sm.add_constant(prefix.index.to_numpy(dtype=float))
    fit = sm.OLS(prefix.to_numpy(), x).fit()
    frame = fit.get_prediction(np.array([[1.0, float(year)]])).summary_frame()
    scale = np.sqrt(float(frame["mean_se"].iloc[0]) ** 2 + fit.scale)
    floor = _floor(prefix.to_numpy())
    if fit.scale < floor**2:
        x = prefix.index.to_numpy(dtype=float)
        leverage = 1 / x.size + (year - x.mean()) ** 2 / np.sum((x - x.mean()) ** 2)
        scale = floor * np.sqrt(1 + leverage)
    return stats.t(fit.df_resid, loc=float(frame["mean"].iloc[0]), scale=scale)


BY_HAND = {"drift": drift_by_hand, "linear": linear_by_hand}


def widened_cdf(dist, x: float, factor: float) -> float:
    """The cdf at x of a frozen location-scale distribution with its scale times factor."""
    loc, scale = dist.kwds["loc"], dist.kwds["scale"]
    return float(dist.dist.cdf((x - loc) / (scale * factor), *dist.args))


def crps_by_integral(dist, y: float) -> float:
    """CRPS = integral of (F(x) - 1{x >= y})^2 dx (Gneiting & Raftery 2007, eq. 20)."""
    from scipy import integrate

    below = integrate.quad(lambda x: dist.cdf(x) ** 2, -np.inf, y, limit=200)[0]
    above = integrate.quad(lambda x: dist.sf(x) ** 2, y, np.inf, limit=200)[0]
    return below + above


def hand_cases(series: pd.Series, result) -> pd.DataFrame:
    """Each backtest case's PIT and exact CRPS, from forecasts built by hand."""
    rows = []
    for case in result.cases.itertuples():
        dist = BY_HAND[case.model](series.loc[: case.origin], case.year)
        rows.append(
            {
                "origin": case.origin,
                "year": case.year,
                "model": case.model,
                "pit": dist.cdf(case.actual),
                "crps": crps_by_integral(dist, case.actual),
            }
        )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("df", [3.0, 8.0])
def test_crps_of_student_t_matches_the_integral(df):
    predictive = Parametric(stats.t, 1.0, 2.0, (df,))
    for y in (-4.0, 0.5, 3.0):
        exact = crps_by_integral(stats.t(df, loc=1.0, scale=2.0), y)
        assert_allclose(crps(predictive, y), exact, rtol=0.02)


def test_crps_of_a_sample_matches_the_energy_form():
    draws = np.random.default_rng(0).normal(3.0, 1.5, 400)
    y = 4.2
    # E|X - y| - E|X - X'| / 2 over the empirical distribution (Gneiting & Raftery 2007, eq. 21)
    energy = np.mean(np.abs(draws - y)) - 0.5 * np.mean(np.abs(draws[:, None] - draws[None, :]))
    assert_allclose(crps(Sample(draws), y), energy, rtol=0.02)


def test_a_wrong_crps_is_caught():
    # the closed form tells a forecast's CRPS from one of a forecast twice as wide
    narrow, wide = Parametric(stats.norm, 0.0, 1.0), Parametric(stats.norm, 0.0, 2.0)
    assert abs(crps(narrow, 0.3) - normal_crps(0.0, 2.0, 0.3)) > 0.1
    assert_allclose(crps(wide, 0.3), normal_crps(0.0, 2.0, 0.3), rtol=0.011)


def test_backtest_pit_and_crps_match_forecasts_built_by_hand():
    series = random_walk(seed=11)
    result = run_backtest(series, models=("drift", "linear"), horizon=2)
    ours = result.cases.set_index(["origin", "year", "model"]).sort_index()
    hand = hand_cases(series, result).set_index(["origin", "year", "model"]).sort_index()
    assert len(ours) == len(hand) == 2 * (6 * 2 + 1)  # origins 2014-2020 (3+ points)
    assert_allclose(ours["pit"], hand["pit"], rtol=1e-9)
    # the K = 99 quantile approximation is 1-2 % above the exact CRPS
    assert_allclose(ours["crps"], hand["crps"], rtol=0.02)
    assert (ours["crps"] >= hand["crps"] * 0.999).all()


def test_weights_are_inverse_mean_crps_of_hand_computed_forecasts():
    series = random_walk(seed=11)
    result = run_backtest(series, models=("drift", "linear"), horizon=2)
    hand = hand_cases(series, result)
    mean_crps = hand.groupby("model")["crps"].mean()
    skill = (1 / mean_crps) / (1 / mean_crps).sum()
    # m = 13 cases of skill against WEIGHT_PRIOR_CASES = 10 cases' worth of equal weights
    m, c = len(hand.drop_duplicates(["origin", "year"])), 10
    assert m == 13 and c == backtest_module.WEIGHT_PRIOR_CASES
    expected = (m * skill + c / 2) / (m + c)
    for model, weight in result.weights.items():
        assert_allclose(weight, expected[model], rtol=0.01)
    assert_allclose(sum(result.weights.values()), 1.0)
    assert_allclose(result.table["weight"].sum(), 1.0)


def test_exactly_linear_series_weights_linear_and_drift():
    result = project(annual(np.arange(9) * 2.0 + 1), target_year=2020)
    weights = result.backtest.set_index("model")["weight"]
    # (engine, review item 5: no longer > 0.99, as exact fits now keep the rounding error
    # 1/sqrt(12) as their spread instead of 1e-9, so they are no longer infinitely sharp)
    assert min(weights["linear"], weights["drift"]) > max(weights["loglinear"], weights["holt"])
    # the skill weights of m cases, shrunk toward equal weights (10 cases' worth)
    run = result.run
    near = run.cases.merge(run.mixture.loc[run.mixture["near"], ["origin", "year"]])
    skill = 1 / near.groupby("model")["crps"].mean()
    skill /= skill.sum()
    m = len(near.drop_duplicates(["origin", "year"]))
    expected = (m * skill + 10 / len(skill)) / (m + 10)
    assert_allclose(weights[expected.index], expected, rtol=1e-9)
    assert weights["linear"] + weights["drift"] > 2 / len(skill)
    assert_allclose(weights.sum(), 1.0)
    # the median stays on the line; loglinear's shrunk-in weight (a few cases cannot rule it
    # out) lengthens the upper tail, so the mean does not
    assert_allclose(result.predictive[2020].ppf(0.5), 21.0, rtol=5e-3)


def test_widening_and_coverage_from_hand_computed_pits():
    result = run_backtest(BREAK, models=("drift", "linear"), horizon=2)
    hand = hand_cases(BREAK, result)
    pits = hand.pivot_table(index=["origin", "year"], columns="model", values="pit")
    # the mixture's cdf at the actual value: the weighted sum of the components' cdfs
    u = result.weights["drift"] * pits["drift"] + result.weights["linear"] * pits["linear"]
    u = u.to_numpy()
    z = stats.norm.ppf(np.clip(u, 1e-6, 1 - 1e-6))
    factor = np.quantile(np.abs(z), 0.9) / stats.norm.ppf(0.95)
    assert len(u) < backtest_module.MIN_CASES_NARROWING  # so the factor is at least 1
    assert_allclose(result.widening, max(1.0, factor), rtol=1e-9)
    assert result.widening > 1  # the break: the trend models missed the steeper years
    for level in (0.5, 0.9):
        inside = np.mean((u >= (1 - level) / 2) & (u <= (1 + level) / 2))
        assert_allclose(result.coverage[level][0], inside)
    # after widening, the 90 % intervals of the hand-built forecasts, widened about their
    # centres by the factor, cover what the result says
    covered = []
    for (origin, year), _ in pits.iterrows():
        prefix = BREAK.loc[:origin]
        dists = {m: BY_HAND[m](prefix, year) for m in BY_HAND}
        cdf = sum(
            result.weights[m] * widened_cdf(d, BREAK.loc[year], result.widening)
            for m, d in dists.items()
        )
        covered.append(abs(cdf - 0.5) <= 0.45)
    assert_allclose(result.coverage[0.9][1], np.mean(covered))


def test_widening_increases_coverage_after_a_structural_break():
    result = project(BREAK, target_year=2020)
    assert result.widening > 1
    before, after = result.coverage[0.9]
    assert after > before
    for level, (low, high) in result.coverage.items():
        assert high >= low, level
    # The components are widened by that factor about their centres.
    fit = fit_model(BREAK, "linear")
    raw = fit.predictive(2020).ppf([0.05, 0.95])
    wide = result.components["linear"][2020].ppf([0.05, 0.95])
    assert_allclose(wide[1] - wide[0], result.widening * (raw[1] - raw[0]), rtol=1e-10)


@pytest.mark.parametrize("seed", range(4))
def test_widening_is_at_least_one(seed):
    assert run_backtest(random_walk(n=8, seed=seed), horizon=2).widening >= 1


def test_widening_needs_three_cases():
    result = run_backtest(annual([1.0, 2.5, 2.9, 4.4, 5.1]), horizon=1)  # origins 3 and 4
    assert result.widening == 1.0
    assert any("widening not estimated: 2 backtest case(s)" in note for note in result.notes)


def test_holt_dropped_when_too_few_common_cases():
    result = project(random_walk(n=7), target_year=2020)
    table = result.backtest.set_index("model")
    assert table.loc["holt", "status"] == "not backtested"
    assert table.loc["holt", "reason"].code == "one_common_case"
    assert "it gets no weight" in table.loc["holt", "reason"]
    assert table.loc["holt", "weight"] == 0
    assert (table.loc[["drift", "linear", "loglinear"], "status"] == "used").all()
    assert "holt" in result.components
    assert len(result.predictive[2019].components) == 3


def test_no_backtest_gives_equal_weights_and_reasons():
    result = project(annual([3.0, 4.0, 5.5, 6.0]), target_year=2016)
    table = result.backtest.set_index("model")
    assert list(table.index) == list(MODELS)
    assert table.loc["holt", "status"] == "skipped"
    assert table.loc["holt", "reason"] == "holt needs at least 6 observations, got 4"
    assert (table.loc[["drift", "linear", "loglinear"], "status"] == "not backtested").all()
    assert_allclose(table.loc[["drift", "linear", "loglinear"], "weight"], 1 / 3)
    assert result.widening == 1.0
    assert np.isnan(result.coverage[0.9][0])
    assert any("no backtest possible" in note for note in result.notes)


def test_loglinear_skipped_for_non_positive_series():
    result = project(annual([-2.0, -1.0, 0.5, 1.0, 2.5]), target_year=2016)
    row = result.backtest.set_index("model").loc["loglinear"]
    assert row["status"] == "skipped"
    assert row["reason"] == "loglinear needs positive values"
    assert row["weight"] == 0


def test_project_is_deterministic():
    first = project(random_walk(), target_year=2024, seed=5)
    again = project(random_walk(), target_year=2024, seed=5)
    pd.testing.assert_frame_equal(first.frame(), again.frame())
    pd.testing.assert_frame_equal(first.backtest, again.backtest)
    assert first.widening == again.widening
    assert first.coverage == again.coverage


def test_project_frame_layout():
    result = project(random_walk(), target_year=2023, levels=(0.8, 0.5))
    assert result.years == (2022, 2023)
    frame = result.frame()
    expected = ["year", "model", "point", "median", "lower_50", "upper_50", "lower_80", "upper_80"]
    assert list(frame.columns) == expected
    assert list(frame["model"].unique()) == ["auto", *MODELS]
    assert len(frame) == 2 * 5
    assert (frame["lower_80"] < frame["lower_50"]).all()
    assert (frame["lower_50"] < frame["median"]).all()
    assert (frame["median"] < frame["upper_50"]).all()
    assert (frame["upper_50"] < frame["upper_80"]).all()
    assert list(result.frame(levels=[0.9]).columns[-2:]) == ["lower_90", "upper_90"]
    assert isinstance(result.predictive[2023], Mixture)
    assert {"coverage_50", "coverage_80"} <= set(result.backtest.columns)


def test_single_model_projection_is_that_model_unwidened():
    series = random_walk()
    result = project(series, target_year=2023, model="linear")
    expected = fit_model(series, "linear").predictive(2023)
    q = np.array([0.05, 0.5, 0.95])
    assert_allclose(result.predictive[2023].ppf(q), expected.ppf(q))
    assert result.widening == 1.0
    weights = result.backtest.set_index("model")["weight"]
    assert weights["linear"] == 1.0
    assert weights.drop("linear").eq(0).all()
    assert result.backtest.set_index("model").loc["holt", "n_cases"] > 0
    linear_90 = result.backtest.set_index("model").loc["linear", "coverage_90"]
    assert result.coverage[0.9] == (linear_90, linear_90)
    assert list(result.frame()["model"].unique()) == ["linear", "drift", "loglinear", "holt"]


def test_project_errors():
    with pytest.raises(BrandstatsError, match="target year 2020 is not after the last observed"):
        project(annual([1.0, 2.0, 3.0, 4.0], start=2017), target_year=2020)
    with pytest.raises(InsufficientDataError, match="no model can be fitted: drift needs at least"):
        project(annual([1.0, 2.0]), target_year=2015)
    with pytest.raises(InsufficientDataError, match="holt needs at least 6 observations, got 4"):
        project(annual([1.0, 2.0, 3.0, 4.0]), target_year=2015, model="holt")
    with pytest.raises(BrandstatsError, match="unknown model"):
        project(annual([1.0, 2.0, 3.0, 4.0]), target_year=2015, model="prophet")
    with pytest.raises(BrandstatsError, match="levels must be between 0 and 1"):
        project(annual([1.0, 2.0, 3.0, 4.0]), target_year=2015, levels=(0.5, 90))


def test_near_horizon_keeps_the_nearest_cases_and_ties():
    horizons = np.array([1, 1, 2, 2, 3, 3, 4, 5])
    mask = backtest_module.near_horizon(horizons, 5, count=3)
    assert mask.tolist() == [False] * 4 + [True] * 4  # 5, 4, then both 3s (a tie)
    assert backtest_module.near_horizon(horizons, 2, count=20).all()  # fewer than 20: all


def test_weights_and_widening_use_the_cases_near_the_target_horizon():
    series = random_walk(n=30, seed=2)
    result = run_backtest(series, models=("drift", "linear"), horizon=8)
    near = result.mixture.loc[result.mixture["near"]]
    assert len(near) >= backtest_module.NEAR_HORIZON_CASES
    assert near["horizon"].min() > 5 and result.mixture["horizon"].min() == 1
    scored = result.cases.merge(near[["origin", "year"]])
    mean_crps = scored.groupby("model")["crps"].mean()
    skill = (1 / mean_crps / (1 / mean_crps).sum())["drift"]
    m, c = len(near), backtest_module.WEIGHT_PRIOR_CASES
    assert_allclose(result.weights["drift"], (m * skill + c / 2) / (m + c))


def test_few_cases_cannot_swing_the_weights():
    """Two backtest cases that favour one model put at most (2 + 10/K) / 12 on it."""
    series = pd.Series([2.31, 2.40, 2.48, 2.56, 2.64, 2.72, 2.80], index=range(2016, 2023))
    result = run_backtest(series, horizon=3)
    m = result.n_cases
    scored = [w for name, w in result.weights.items() if name in set(result.cases["model"])]
    assert max(scored) <= (m + 10 / len(scored)) / (m + 10) + 1e-12


def test_intervals_narrow_only_on_enough_cases():
    # forecasts far too wide: every PIT near 1/2
    pits = np.full(30, 0.5) + np.linspace(-0.05, 0.05, 30)
    factor, _ = backtest_module.widening_factor(pits, 0.9)
    z90 = np.quantile(np.abs(stats.norm.ppf(pits)), 0.9)
    assert_allclose(factor, z90 / stats.norm.ppf(0.95))
    assert factor < 0.2
    assert backtest_module.widening_factor(pits[:10], 0.9)[0] == 1.0  # 10 cases: no narrowing


@pytest.mark.parametrize(("n", "floor"), [(0, 0.1), (8, 0.1), (18, 0.05), (98, 0.01), (998, 0.001)])
def test_tail_floor_is_laplace_capped(n, floor):
    assert_allclose(backtest_module.tail_floor(n), floor)


def test_projection_keeps_p_within_the_tail_floor():
    series = annual(np.arange(8) * 10.0 + np.array([0, 1, -1, 0, 1, 0, -1, 0]))
    result = project(series, target_year=2019)
    n = result.backtest["n_cases"].max()
    assert result.tail == backtest_module.tail_floor(len(run_backtest(series, horizon=2).mixture))
    assert n > 0
    # a target far below the trend: the mixture says "certain", the floor says 1 - tail
    p = float(result.predictive[2019].sf(0.0))
    assert p > 1 - 1e-6
    assert result.probability(p) == 1 - result.tail
    assert project(series, target_year=2019, model="linear").tail == 0.0


def test_horizon_growth_extrapolates_how_errors_grow():
    # |z| grows like sqrt(h) at horizons 1-4: the slope of log median |z| on log h is 1/2
    q = np.linspace(0.1, 2.0, 10)
    horizons = np.repeat([1, 2, 3, 4], 10)
    z = np.sqrt(horizons) * np.tile(q, 4)
    pit = stats.norm.cdf(z)
    near = horizons >= 3
    expected = (10 / horizons[near].mean()) ** 0.5
    assert_allclose(backtest_module.horizon_growth(pit, horizons, 10, near), expected)
    # no growth beyond the models' own spread: factor 1; nor when the target is within reach
    flat = stats.norm.cdf(np.tile(q, 4))
    assert_allclose(backtest_module.horizon_growth(flat, horizons, 10, near), 1.0)
    assert backtest_module.horizon_growth(pit, horizons, 3, near) == 1.0
    # too few cases to tell
    assert backtest_module.horizon_growth(pit[::3], horizons[::3], 10) == 1.0
