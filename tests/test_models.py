"""Tests of brandstats.models against statsmodels, scipy and hand computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from numpy.testing import assert_allclose
from scipy import optimize, stats
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from brandstats.errors import BrandstatsError, InsufficientDataError
from brandstats.models import (
    HOLT_REPETITIONS,
    MODELS,
    Censored,
    Mixture,
    Parametric,
    Predictive,
    Sample,
    Transformed,
    Truncated,
    fit_model,
    from_unbounded,
    invert_cdf,
    resolution,
    to_unbounded,
)

# Gapped years on purpose: 2017 and 2020 are missing.
YEARS = np.array([2014, 2015, 2016, 2018, 2019, 2021])
VALUES = np.array([3.0, 4.1, 4.9, 7.2, 7.9, 10.3])
GAPPED = pd.Series(VALUES, index=YEARS)


def annual(values, start=2010) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=range(start, start + len(values)))


def test_models_order_and_minimum_points():
    assert MODELS == {"drift": 3, "linear": 3, "loglinear": 3, "holt": 6}


@pytest.mark.parametrize("alpha", [0.1, 0.5])
def test_linear_intervals_equal_statsmodels_obs_ci(alpha):
    # Raw years as the regressor: the package centres them, predictions must not change.
    result = sm.OLS(VALUES, sm.add_constant(YEARS.astype(float))).fit()
    new = np.array([2022.0, 2023.0, 2030.0])
    frame = result.get_prediction(sm.add_constant(new, has_constant="add")).summary_frame(alpha)
    fit = fit_model(GAPPED, "linear")
    for year, (_, row) in zip(new, frame.iterrows(), strict=True):
        predictive = fit.predictive(int(year))
        lower, upper = predictive.ppf([alpha / 2, 1 - alpha / 2])
        assert_allclose([lower, upper], [row["obs_ci_lower"], row["obs_ci_upper"]], rtol=1e-8)
        assert_allclose(predictive.point, row["mean"], rtol=1e-8)
    assert fit.params["df"] == len(VALUES) - 2


@pytest.mark.parametrize("alpha", [0.1, 0.5])
def test_loglinear_is_exp_of_linear_on_logs(alpha):
    logs = np.log(VALUES)
    result = sm.OLS(logs, sm.add_constant(YEARS.astype(float))).fit()
    new = np.array([2022.0, 2026.0])
    frame = result.get_prediction(sm.add_constant(new, has_constant="add")).summary_frame(alpha)
    fit = fit_model(GAPPED, "loglinear")
    for year, (_, row) in zip(new, frame.iterrows(), strict=True):
        predictive = fit.predictive(int(year))
        bounds = predictive.ppf([alpha / 2, 1 - alpha / 2])
        assert_allclose(bounds, np.exp([row["obs_ci_lower"], row["obs_ci_upper"]]), rtol=1e-8)
        # The point forecast is the median exp(loc), not a mean.
        assert_allclose(predictive.point, np.exp(row["mean"]), rtol=1e-8)
        assert_allclose(predictive.ppf(0.5), predictive.point, rtol=1e-12)
        assert_allclose(predictive.cdf(bounds[1]), 1 - alpha / 2, rtol=1e-10)
        assert predictive.cdf(-1.0) == 0.0
        assert predictive.sf(0.0) == 1.0


def test_drift_regular_series_matches_fpp3_by_hand():
    # Increments 2, 1, 3, 2; drift c = (9 - 1) / 4 = 2; residuals 0, -1, 1, 0;
    # sigma^2 = 2 / (4 - 1) = 2/3; T = 5. FPP3: sigma_h^2 = sigma^2 h (1 + h / (T - 1)).
    fit = fit_model(annual([1, 3, 4, 7, 9], start=2016), "drift")
    assert_allclose(fit.params["drift"], 2.0)
    assert_allclose(fit.params["sigma"], np.sqrt(2 / 3))
    predictive = fit.predictive(2022)  # h = 2: variance 2/3 * 2 * 1.5 = 2
    assert_allclose(predictive.point, 13.0)
    assert_allclose(predictive.ppf([0.05, 0.95]), stats.norm.ppf([0.05, 0.95], 13, np.sqrt(2)))
    for h in range(1, 6):
        sigma_h = np.sqrt(2 / 3) * np.sqrt(h * (1 + h / 4))
        lower, upper = fit.predictive(2020 + h).ppf([0.1, 0.9])
        assert_allclose(upper - lower, 2 * stats.norm.ppf(0.9) * sigma_h, rtol=1e-12)
        assert_allclose((upper + lower) / 2, 9 + 2 * h, rtol=1e-12)


def test_drift_irregular_series_by_hand():
    # Years 2016, 2017, 2019, 2020 (2018 missing); c = 7 / 4 = 1.75; increments 2, 3, 2 over
    # gaps 1, 2, 1; residuals 0.25, -0.5, 0.25; sigma^2 = (0.0625 + 0.25 / 2 + 0.0625) / 2.
    series = pd.Series([1.0, 3.0, 6.0, 8.0], index=[2016, 2017, 2019, 2020])
    fit = fit_model(series, "drift")
    sigma2 = 0.125
    assert_allclose(fit.params["sigma"] ** 2, sigma2)
    for h, mean in [(1, 9.75), (3, 13.25)]:
        predictive = fit.predictive(2020 + h)
        variance = sigma2 * (h + h**2 / 4)
        assert_allclose(predictive.point, mean)
        assert_allclose(predictive.ppf(0.975), stats.norm.ppf(0.975, mean, np.sqrt(variance)))


def test_holt_simulation_matches_statsmodels_forecast():
    rng = np.random.default_rng(7)
    series = annual(50 + np.cumsum(rng.normal(3, 2, 10)))
    fit = fit_model(series, "holt", seed=1)
    unit = series.abs().max()  # the package fits on series / max|value|
    result = ETSModel(
        pd.Series(series.to_numpy() / unit), error="add", trend="add", damped_trend=True
    ).fit(disp=False)
    prediction = result.get_prediction(start=10, end=12)
    for h in (1, 3):
        predictive = fit.predictive(2019 + h)
        assert isinstance(predictive, Sample)
        assert predictive.draws.size == HOLT_REPETITIONS
        sd = np.sqrt(prediction.forecast_variance[h - 1]) * unit
        assert_allclose(
            predictive.point, prediction.predicted_mean.iloc[h - 1] * unit, atol=0.1 * sd
        )
        assert_allclose(predictive.draws.std(), sd, rtol=0.05)
    assert_allclose(fit.params["damping_trend"], result.params.iloc[2])


def test_holt_is_seeded_and_quiet_on_a_flat_series():
    series = annual([5.0] * 7)
    first = fit_model(series, "holt", seed=3).predictive(2019).draws
    again = fit_model(series, "holt", seed=3).predictive(2019).draws
    np.testing.assert_array_equal(first, again)
    wiggly = annual([5.0, 5.4, 4.9, 5.6, 5.2, 5.8, 5.5])
    a = fit_model(wiggly, "holt", seed=3).predictive(2018).draws
    b = fit_model(wiggly, "holt", seed=4).predictive(2018).draws
    assert not np.array_equal(a, b)
    assert "converged" in fit_model(series, "holt").params


# Changed (review item 5): a zero residual spread used to be floored at 1e-9 of the values,
# giving a zero-width interval and P(met) of exactly 0 or 1; it is now floored at the rounding
# error of whole-number figures, 1 / sqrt(12) (Sheppard), checked here by hand.
ROUNDING_SD = 1 / np.sqrt(12)
# x = year - 2015 = -5..0: mean -2.5, Sxx = 17.5; one year ahead (x = 1), n = 6
OLS_LEVERAGE = 1 + 1 / 6 + 3.5**2 / 17.5


@pytest.mark.parametrize(
    ("model", "values", "expected", "half_width"),
    [
        # drift: sigma * sqrt(h + h^2 / span), h = 1, span = 5; normal
        ("drift", np.arange(6) * 2.0 + 1, 13.0, stats.norm.ppf(0.95) * ROUNDING_SD * 1.2**0.5),
        # linear: t with 4 df, scale sigma * sqrt(1 + 1/n + (x - mean)^2 / Sxx)
        ("linear", np.arange(6) * 2.0 + 1, 13.0,
         stats.t.ppf(0.95, 4) * ROUNDING_SD * OLS_LEVERAGE**0.5),
    ],
)  # fmt: skip
def test_exact_trend_gets_the_rounding_spread(model, values, expected, half_width):
    predictive = fit_model(annual(values), model).predictive(2016)
    lower, median, upper = predictive.ppf([0.05, 0.5, 0.95])
    assert_allclose(median, expected, rtol=1e-8)
    assert_allclose([lower, upper], [expected - half_width, expected + half_width], rtol=1e-8)


def test_exact_growth_gets_the_rounding_spread_on_the_log_scale():
    # 1, 2, ..., 32: on the log scale the rounding sd is (1 / sqrt(12)) / 32 at the last value
    predictive = fit_model(annual(2.0 ** np.arange(6)), "loglinear").predictive(2016)
    half = stats.t.ppf(0.95, 4) * ROUNDING_SD / 32 * OLS_LEVERAGE**0.5
    assert_allclose(predictive.ppf([0.05, 0.95]), 64 * np.exp([-half, half]), rtol=1e-8)


def test_flat_series_has_no_certain_probability():
    # review item 5: 50 x5 and a target of 51 (edge 50.5 for counts): P(X > 50.5), by hand
    flat = annual([50.0] * 5)
    for model in ("drift", "linear"):
        predictive = fit_model(flat, model).predictive(2016)
        p = float(predictive.sf(50.5))
        if model == "linear":  # x = -4..0, Sxx = 10, h = 2: leverage 1 + 1/5 + 16/10
            expected = stats.t.sf(0.5 / (ROUNDING_SD * 2.8**0.5), 3)
        else:  # h = 2, span 4: sqrt(2 + 4/4)
            expected = stats.norm.sf(0.5 / (ROUNDING_SD * 3**0.5))
        assert_allclose(p, expected, rtol=1e-8)
        assert 0.1 < p < 0.4


@pytest.mark.parametrize(
    ("values", "step"),
    [
        ([50, 50, 51], 1.0),
        ([0.856, 86.4, 87.5], 0.001),
        ([4.256e7, 3e8], 1.0),
        ([1 / 3], 0.0),
        ([0.0, 0.0], 0.0),
        ([0.0, 2.5], 0.1),
    ],
)
def test_resolution(values, step):
    assert resolution(values) == step


@pytest.mark.parametrize(
    ("series", "model", "message"),
    [
        (annual([1.0, 2.0]), "linear", "linear needs at least 3 observations, got 2"),
        (annual([1.0, 2.0]), "drift", "drift needs at least 3 observations, got 2"),
        (annual([1.0, 2.0, 3.0, 4.0, 5.0]), "holt", "holt needs at least 6 observations, got 5"),
        (annual([1.0, -2.0, 3.0]), "loglinear", "loglinear needs positive values"),
        (annual([1.0, 0.0, 3.0]), "loglinear", "loglinear needs positive values"),
        (
            pd.Series(np.arange(1.0, 8.0), index=[2015, 2016, 2017, 2018, 2019, 2021, 2024]),
            "holt",
            "holt needs consecutive years; missing 2020, 2022, 2023",
        ),
    ],
)
def test_insufficient_data_reasons(series, model, message):
    with pytest.raises(InsufficientDataError, match=f"^{message}$"):
        fit_model(series, model)


def test_bad_inputs_raise_brandstats_errors():
    with pytest.raises(BrandstatsError, match="unknown model 'arima'"):
        fit_model(annual([1.0, 2.0, 3.0]), "arima")
    with pytest.raises(BrandstatsError, match="missing or infinite"):
        fit_model(annual([1.0, np.nan, 3.0, 4.0]), "linear")
    with pytest.raises(BrandstatsError, match="ascending and unique"):
        fit_model(pd.Series([1.0, 2.0, 3.0], index=[2020, 2019, 2021]), "linear")
    with pytest.raises(BrandstatsError, match="int years"):
        fit_model(pd.Series([1.0, 2.0, 3.0], index=["a", "b", "c"]), "linear")
    fit = fit_model(annual([1.0, 2.0, 3.0]), "linear")
    with pytest.raises(BrandstatsError, match="after 2012"):
        fit.predictive(2012)


def components() -> list[Predictive]:
    rng = np.random.default_rng(0)
    return [
        Parametric(stats.norm, 10.0, 2.0),
        Parametric(stats.t, 13.0, 1.5, (4.0,)),
        Parametric(stats.t, np.log(12.0), 0.2, (3.0,), log=True),
        Sample(rng.normal(11.0, 3.0, 4000)),
    ]


def test_predictives_follow_the_protocol():
    for predictive in [*components(), Mixture(tuple(components()), (1, 1, 1, 1))]:
        assert isinstance(predictive, Predictive)
        x = np.array([[8.0, 11.0], [12.0, 15.0]])
        assert np.shape(predictive.cdf(x)) == (2, 2)
        assert_allclose(predictive.sf(x), 1 - predictive.cdf(x))
        assert np.isscalar(predictive.ppf(0.3))
        assert np.all(np.diff(predictive.ppf([0.1, 0.5, 0.9])) > 0)


def test_mixture_cdf_is_weighted_sum_and_ppf_inverts_it():
    parts = components()[:3]
    mixture = Mixture(tuple(parts), (2.0, 1.0, 1.0))
    assert mixture.weights == (0.5, 0.25, 0.25)
    x = np.linspace(5, 20, 7)
    expected = (
        0.5 * stats.norm.cdf(x, 10, 2)
        + 0.25 * stats.t.cdf(x, 4, 13, 1.5)
        + 0.25 * stats.t.cdf(np.log(x), 3, np.log(12), 0.2)
    )
    assert_allclose(mixture.cdf(x), expected, rtol=1e-12)
    q = np.array([0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
    assert_allclose(mixture.cdf(mixture.ppf(q)), q, atol=1e-10)
    assert_allclose(mixture.ppf(mixture.cdf(x)), x, rtol=1e-9)
    assert_allclose(mixture.point, 0.5 * 10 + 0.25 * 13 + 0.25 * 12)


def brent_root(predictive: Predictive, q: float, lower: float, upper: float) -> float:
    """The q-quantile by scipy's Brent search on the cdf at the finest tolerance it allows."""
    return optimize.brentq(lambda x: predictive.cdf(x) - q, lower, upper, xtol=1e-300,
                           rtol=4 * np.finfo(float).eps, maxiter=500)  # fmt: skip


def test_mixture_ppf_equals_brents_root_of_the_cdf():
    """Mixtures as the engine builds them (bounded, censored, of mixtures) against
    scipy.optimize.brentq on cdf - q: every quantile at once."""
    normal, student, log_t, sample = components()
    inner = Mixture((normal, student, log_t), (0.5, 0.3, 0.2))
    cases = [
        Mixture((normal, student, log_t), (2.0, 1.0, 1.0)),
        Mixture((Transformed(inner, 0.0, 100.0), Censored(student, 11.0, np.inf)), (0.8, 0.2)),
        Mixture((Censored(inner, 9.0, np.inf), Parametric(stats.norm, 30.0, 5.0)), (0.6, 0.4)),
        Mixture(
            (Parametric(stats.norm, 1e11, 3e9), Parametric(stats.t, 2e11, 1e10, (2.0,))), (0.5, 0.5)
        ),
        Mixture((normal, sample), (0.7, 0.3)),
    ]
    q = np.array([0.001, 0.05, 0.25, 0.5, 0.75, 0.95, 0.999])
    for mixture in cases:
        got = mixture.ppf(q)
        for qi, x in zip(q, got, strict=True):
            lower = min(float(c.ppf(qi)) for c in mixture.components)
            upper = max(float(c.ppf(qi)) for c in mixture.components)
            if mixture.cdf(lower) >= qi:  # an atom at the lower end
                assert x == lower
                continue
            # 1e-10: the tolerance the engine's Brent search had; in a far tail the cdf's
            # rounding (1e-16) moves the root by more than 1e-12
            assert_allclose(x, brent_root(mixture, qi, lower, upper), rtol=1e-10)


def test_invert_cdf_ends_jumps_and_far_tails():
    normal = Parametric(stats.norm, 0.0, 1.0)
    q = np.array([0.0, 1.0, np.nan, 1.5, 0.3, 0.7])
    got = invert_cdf(normal.cdf, q, np.full(6, -5.0), np.full(6, 5.0))
    assert_allclose(got[:2], [-5.0, 5.0])
    assert np.isnan(got[2:4]).all()
    assert_allclose(got[4:], stats.norm.ppf([0.3, 0.7]), rtol=1e-12)
    # a jump: 40 % of the mass on 2.0 (a censored floor); quantiles below it are the floor
    censored = Censored(normal, 2.0 - stats.norm.ppf(0.6) + 2.0, np.inf)
    floor = censored.lower
    mixture = Mixture((censored, Parametric(stats.norm, 10.0, 1.0)), (0.5, 0.5))
    assert mixture.ppf(0.2) == floor
    assert_allclose(mixture.ppf(0.9), brent_root(mixture, 0.9, floor, 20.0), rtol=1e-12)
    # a log-t with one degree of freedom: the bracket reaches 1e300 and beyond
    wild = Mixture((Parametric(stats.t, 0.0, 30.0, (1.0,), log=True),
                    Parametric(stats.norm, 5.0, 1.0)), (0.5, 0.5))  # fmt: skip
    top = wild.ppf(0.99)
    assert_allclose(np.log(top), 30 * stats.t.ppf(0.98, 1), rtol=1e-12)
    assert wild.ppf(0.999) == np.finfo(float).max  # beyond the largest float: its bracket's end


def test_mixture_ppf_on_a_staircase_is_brents_point():
    """Where the cdf equals q over a stretch (two samples half and half: the median is any
    point between them), the quantile is the one Brent's method finds from the bracket of the
    components' quantiles, as it always was."""
    low, high = Sample([1.0, 2.0, 3.0]), Sample([10.0, 11.0, 12.0])
    mixture = Mixture((low, high), (0.5, 0.5))
    assert mixture.cdf(3.0) == mixture.cdf(9.99) == 0.5
    expected = optimize.brentq(lambda x: float(mixture.cdf(x)) - 0.5, 2.0, 11.0, rtol=1e-10)
    assert mixture.ppf(0.5) == expected
    assert 3.0 <= expected < 10.0
    # the cdf passes 0.1 at the lower end of the bracket already: that end
    assert mixture.ppf(0.1) == low.ppf(0.1) == 1.2


def test_mixture_of_one_is_that_distribution():
    single = Parametric(stats.t, 3.0, 0.5, (5.0,))
    mixture = Mixture((single,), (1.0,))
    q = np.array([0.02, 0.4, 0.9])
    assert_allclose(mixture.ppf(q), stats.t.ppf(q, 5, 3, 0.5), rtol=1e-10)


def test_mixture_rejects_bad_weights():
    with pytest.raises(BrandstatsError, match="one weight per component"):
        Mixture((Parametric(stats.norm, 0.0, 1.0),), (0.5, 0.5))
    with pytest.raises(BrandstatsError, match="positive sum"):
        Mixture((Parametric(stats.norm, 0.0, 1.0),), (0.0,))


def test_widen_one_is_identity():
    q = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
    for predictive in [*components(), Mixture(tuple(components()), (1, 2, 3, 4))]:
        widened = predictive.widen(1.0)
        assert type(widened) is type(predictive)
        assert_allclose(widened.ppf(q), predictive.ppf(q), rtol=1e-12)
        assert_allclose(widened.point, predictive.point, rtol=1e-12)


@pytest.mark.parametrize("factor", [1.5, 3.0])
def test_widen_scales_intervals_about_the_centre(factor):
    normal, student, log_t, sample = components()
    for predictive in (normal, student):
        lower, median, upper = predictive.ppf([0.05, 0.5, 0.95])
        wide = predictive.widen(factor).ppf([0.05, 0.5, 0.95])
        assert_allclose(wide[2] - wide[0], factor * (upper - lower), rtol=1e-12)
        assert_allclose(wide[1], median, rtol=1e-12)
    logs = np.log(log_t.ppf([0.05, 0.5, 0.95]))
    wide_logs = np.log(log_t.widen(factor).ppf([0.05, 0.5, 0.95]))
    assert_allclose(wide_logs - wide_logs[1], factor * (logs - logs[1]), rtol=1e-10)
    q = np.array([0.05, 0.5, 0.95])
    median = np.median(sample.draws)
    assert_allclose(
        sample.widen(factor).ppf(q) - median, factor * (sample.ppf(q) - median), atol=1e-9
    )


# --------------------------------------------------------------------------- bounded


def test_parametric_log_cdf_and_sf_are_a_log_t_by_hand():
    d = Parametric(stats.t, 1.0, 0.5, (4.0,), log=True)
    x = np.array([-1.0, 0.0, 0.5, 2.7, 10.0])
    by_hand = np.where(x > 0, stats.t(4, 1.0, 0.5).cdf(np.log(np.where(x > 0, x, 1))), 0.0)
    assert_allclose(d.cdf(x), by_hand, rtol=1e-12)
    assert_allclose(d.sf(x), 1 - by_hand, rtol=1e-12)


def test_truncated_normal_equals_scipy_truncnorm():
    base = Parametric(stats.norm, 2.0, 3.0)
    got = Truncated(base, 0.0, 5.0)
    ref = stats.truncnorm((0 - 2) / 3, (5 - 2) / 3, loc=2, scale=3)
    x = np.array([-1.0, 0.0, 1.0, 2.5, 4.9, 5.0, 7.0])
    assert_allclose(got.cdf(x), ref.cdf(x), atol=1e-12)
    assert_allclose(got.sf(x), ref.sf(x), atol=1e-12)
    q = np.array([0.0, 0.05, 0.5, 0.95, 1.0])
    assert_allclose(got.ppf(q), ref.ppf(q), rtol=1e-9)
    assert_allclose(got.point, ref.median(), rtol=1e-9)
    # one-sided: [0, inf) only
    half = Truncated(base, 0.0)
    ref = stats.truncnorm(-2 / 3, np.inf, loc=2, scale=3)
    assert_allclose(half.ppf([0.05, 0.95]), ref.ppf([0.05, 0.95]), rtol=1e-9)
    assert_allclose(half.widen(2).cdf(1.0), stats.truncnorm(-1 / 3, np.inf, 2, 6).cdf(1.0))


def test_censored_normal_by_hand():
    # Y = clip(X, 0, 10), X ~ N(1, 2): P(Y = 0) = Phi(-0.5), P(Y = 10) = 1 - Phi(4.5)
    got = Censored(Parametric(stats.norm, 1.0, 2.0), 0.0, 10.0)
    ref = stats.norm(1, 2)
    x = np.array([-0.1, 0.0, 1.0, 9.9, 10.0, 11.0])
    by_hand = np.array([0.0, ref.cdf(0), ref.cdf(1), ref.cdf(9.9), 1.0, 1.0])
    assert_allclose(got.cdf(x), by_hand, atol=1e-12)
    assert_allclose(got.sf(x), 1 - by_hand, atol=1e-12)
    q = np.array([0.05, 0.2, 0.5, 0.95])
    assert_allclose(got.ppf(q), np.clip(ref.ppf(q), 0, 10), atol=1e-12)
    assert got.ppf(0.2) == 0.0 and got.point == 1.0
    assert_allclose(got.widen(3).cdf(0.0), stats.norm(1, 6).cdf(0))
    assert Censored(Parametric(stats.norm, -5.0, 1.0), 0.0).point == 0.0


def test_truncated_without_mass_inside_is_a_point_mass_at_the_near_bound():
    far = Truncated(Parametric(stats.norm, -100.0, 1.0), 0.0, 100.0)
    assert_allclose(far.ppf([0.05, 0.5, 0.95]), [0.0, 0.0, 0.0])
    assert far.cdf(0.0) == 1.0 and far.cdf(-0.1) == 0.0 and far.sf(1.0) == 0.0
    with pytest.raises(BrandstatsError, match="empty support"):
        Truncated(Parametric(stats.norm, 0.0, 1.0), 1.0, 1.0)


def test_transformed_logit_normal_quantiles_by_hand():
    # Y = 100 * expit(X), X ~ N(1.5, 0.8): a logit-normal on [0, 100]
    got = Transformed(Parametric(stats.norm, 1.5, 0.8), 0.0, 100.0)
    q = np.array([0.05, 0.5, 0.95])
    z = 1.5 + 0.8 * stats.norm.ppf(q)
    assert_allclose(got.ppf(q), 100 / (1 + np.exp(-z)), rtol=1e-12)
    y = np.array([-5.0, 0.0, 60.0, 80.0, 100.0, 120.0])
    inside = np.clip(y, 1e-9, 100 - 1e-9) / 100
    by_hand = stats.norm(1.5, 0.8).cdf(np.log(inside / (1 - inside)))
    by_hand = np.where(y <= 0, 0.0, np.where(y >= 100, 1.0, by_hand))
    assert_allclose(got.cdf(y), by_hand, atol=1e-12)
    assert_allclose(got.sf(y), 1 - by_hand, atol=1e-12)
    assert_allclose(got.point, 100 / (1 + np.exp(-1.5)))
    assert_allclose(got.widen(2).ppf(0.95), 100 / (1 + np.exp(-(1.5 + 1.6 * stats.norm.ppf(0.95)))))


def test_transformed_with_a_lower_bound_is_a_shifted_lognormal():
    got = Transformed(Parametric(stats.norm, 0.3, 0.6), 1.0, np.inf)  # a rank >= 1
    ref = stats.lognorm(0.6, loc=1.0, scale=np.exp(0.3))
    x = np.array([0.5, 1.0, 1.5, 3.0, 9.0])
    assert_allclose(got.cdf(x), ref.cdf(x), atol=1e-12)
    assert_allclose(got.ppf([0.05, 0.95]), ref.ppf([0.05, 0.95]), rtol=1e-10)


def test_scale_maps_invert_each_other():
    z = np.array([-30.0, -2.0, 0.0, 3.0, 30.0])
    for lo, hi in ((0.0, 100.0), (0.0, np.inf), (-np.inf, 5.0), (-np.inf, np.inf)):
        x = from_unbounded(z, lo, hi)
        assert np.all((x >= lo) & (x <= hi))
        inner = np.abs(z) < 20
        assert_allclose(to_unbounded(x[inner], lo, hi), z[inner], rtol=1e-9)
    assert_allclose(to_unbounded(25.0, 0.0, 100.0), np.log(25 / 75))
    assert_allclose(to_unbounded(5.0, -np.inf, 7.0), -np.log(2.0))


@pytest.mark.parametrize(
    ("dist", "shapes"),
    [(stats.norm, ()), (stats.t, (1.0,)), (stats.t, (3.5,)), (stats.t, (250.0,))],
)
@pytest.mark.parametrize("log", [False, True])
def test_parametric_gives_scipys_floats_bit_for_bit(dist, shapes, log):
    """cdf, sf and ppf read from scipy's special functions equal the frozen distribution's."""
    rng = np.random.default_rng(7)
    edges = [np.inf, -np.inf, np.nan, 0.0, 1e300, -1e300, 5e-324]
    x = np.concatenate([rng.normal(0, 30, 500), rng.lognormal(0, 3, 500), edges])
    q = np.concatenate([rng.uniform(0, 1, 500), [0.0, 1.0, np.nan, -0.1, 1.1, 1e-300, 0.5]])
    for loc, scale in [(0.0, 1.0), (3.7, 0.25), (-1e5, 3e4), (12.3, 1e-7)]:
        predictive = Parametric(dist, loc, scale, shapes, log)
        frozen = dist(*shapes, loc=loc, scale=scale)
        positive = x > 0
        at = np.log(np.where(positive, x, 1.0)) if log else x
        cdf, sf = frozen.cdf(at), frozen.sf(at)
        if log:
            cdf, sf = np.where(positive, cdf, 0.0), np.where(positive, sf, 1.0)
        with np.errstate(over="ignore"):
            ppf = np.exp(frozen.ppf(q)) if log else frozen.ppf(q)
        np.testing.assert_array_equal(predictive.cdf(x), cdf)
        np.testing.assert_array_equal(predictive.sf(x), sf)
        np.testing.assert_array_equal(predictive.ppf(q), ppf)
        assert predictive.cdf(float(x[0])) == cdf[0] and np.isscalar(predictive.ppf(0.3))
