"""The reference class (brandstats.reference), the notes (brandstats.notes) and the bounds on
P(met) that the evidence allows: hand computations on small inputs."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

import brandstats as bs
from brandstats import format as fmt
from brandstats.attainment import probability_bound
from brandstats.engine import make_problem, outlooks
from brandstats.notes import Note
from brandstats.reference import (
    CHANGE_QUANTILES,
    Reference,
    build_changes,
    build_widening,
    load_reference,
)
from brandstats.spec import TargetSpec

EMPTY = Reference(pd.DataFrame(), pd.DataFrame())


def test_build_changes_by_hand():
    # one positive series on [0, inf): log scale; 2020-2023
    values = pd.Series([100.0, 110.0, 99.0, 120.0], index=range(2020, 2024))
    table = build_changes([(values, (0.0, np.inf))])
    z = np.log(values.to_numpy())
    level_1 = [z[1] - z[0], z[2] - z[1], z[3] - z[2]]
    # drift errors at h = 1 from origins 2021 (slope up) and 2022 (slope down)
    drift_1 = [
        +1 * (z[2] - z[1] - (z[1] - z[0])),
        -1 * (z[3] - z[2] - (z[2] - z[1])),
    ]
    got = table.set_index(["kind", "horizon", "quantile"])["value"]
    assert_allclose(
        got.loc[("level", 1)].to_numpy(), np.quantile(level_1, CHANGE_QUANTILES), rtol=1e-12
    )
    assert_allclose(
        got.loc[("drift", 1)].to_numpy(), np.quantile(drift_1, CHANGE_QUANTILES), rtol=1e-12
    )
    assert table.loc[table["kind"] == "level", "horizon"].max() == 3
    # a series through 0 on an unbounded unit: nothing of its kind, nothing learned
    assert build_changes([(pd.Series([-1.0, 1.0, 2.0], index=[1, 2, 3]), (-np.inf, np.inf))]).empty


def test_build_widening_by_hand_and_monotone_in_horizon():
    rng = np.random.default_rng(4)
    pits = rng.uniform(0.02, 0.98, 60)
    cases = pd.DataFrame(
        {"scale": "as is", "points": 3, "horizon": [2] * 30 + [5] * 30, "pit": pits}
    )
    table = build_widening(cases).set_index("horizon")
    z = np.abs(stats.norm.ppf(pits))
    short = np.quantile(z[:30], 0.9) / stats.norm.ppf(0.95)
    long = np.quantile(z[30:], 0.9) / stats.norm.ppf(0.95)
    assert_allclose(table.loc[1, "factor"], short)
    assert_allclose(table.loc[4, "factor"], max(short, long))  # never smaller further ahead
    reference = Reference(table.reset_index(), pd.DataFrame())
    assert reference.factor("as is", 3, 9) == max(1.0, max(short, long))  # up to bucket 4
    assert reference.factor("logit", 3, 2) == 1.0  # no such cell: nothing borrowed


def test_the_engine_stretches_short_series_by_the_reference_factor():
    spec = TargetSpec("x", "", 300.0, ">=", 2026, unit="yuan")
    series = pd.Series([100.0, 130.0, 151.0, 190.0], index=range(2018, 2022))
    problem = {"a": make_problem(spec, series)}
    plain = outlooks(problem, reference=EMPTY)["a"]
    shipped = load_reference()
    factor = shipped.factor("as is", 4, 5)
    assert factor > 1  # the shipped table widens 4-point series 5 years ahead
    stretched = outlooks(problem, reference=shipped)["a"]
    lo, hi = plain.predictive.ppf([0.05, 0.95])
    lo2, hi2 = stretched.predictive.ppf([0.05, 0.95])
    median = plain.predictive.ppf(0.5)
    assert_allclose(stretched.predictive.ppf(0.5), median, rtol=1e-9)
    # away from the support's floor, the interval is stretched about the median by the factor
    assert_allclose([median - lo2, hi2 - median], factor * np.array([median - lo, hi - median]),
                    rtol=1e-6)  # fmt: skip
    assert any(getattr(n, "code", "") == "reference_widened" for n in stretched.notes)


def test_probability_bounds_are_labelled():
    assert probability_bound(0.1, 0.1) == "at_most"
    assert probability_bound(0.9, 0.1) == "at_least"
    assert probability_bound(0.5, 0.1) is None
    assert probability_bound(0.1, 0.0) is None and probability_bound(None, 0.1) is None
    assert fmt.probability(0.1, "en", "at_most") == "at most 10 %"
    assert fmt.probability(0.1, "zh", "at_most") == "不超过10%"
    assert fmt.probability(0.1, "en") == "10 %"
    # a series too short to backtest: P within [0.1, 0.9], shown as a bound with its reason
    res = bs.assess_series(
        pd.Series([2.31, 2.40, 2.48, 2.56, 2.64, 2.72], index=range(2018, 2024)),
        target=3, comparison=">=", target_year=2025, unit="percent",
    )  # fmt: skip
    assert res.probability == 0.1 and res.floor == 0.1
    assert res.probability_bound == "at_most" and res.row()["probability_bound"] == "at_most"
    assert res.to_dict()["probability_floor"] == 0.1
    text = fmt.describe(res, "en")
    assert "at most 10 %" in text and "supports no probability closer to 0" in text
    assert "不超过10%" in fmt.describe(res, "zh")


def test_notes_are_worded_from_their_code_in_each_language():
    inner = Note("too_few_cases", count=1, needed=2, consequence=Note("weight_zero"))
    note = Note("not_backtested", model="holt", reason=inner)
    assert str(note) == "holt not backtested: only 1 common backtest case(s) with it (needs 2); " \
        "weight 0"  # fmt: skip
    zh = fmt.note(note, "zh")
    assert zh.startswith("霍尔特") and "权重为0" in zh
    assert not any("a" <= ch <= "z" for ch in zh)  # no English left in the Chinese sentence
    back = pickle.loads(pickle.dumps(note))
    assert back == note and back.code == "not_backtested" and fmt.note(back, "zh") == zh


def test_a_percent_series_is_never_told_loglinear_needs_positive_values():
    res = bs.assess_series(
        pd.Series([2.31, 2.40, 2.48, 2.56, 2.64, 2.72, 2.80, 2.88], index=range(2016, 2024)),
        target=3, comparison=">=", target_year=2025, unit="percent",
    )  # fmt: skip
    texts = [*map(str, res.notes), *map(str, res.backtest["reason"])]
    assert not any("needs positive values" in t for t in texts)
    assert any("logit scale" in t for t in texts)
    for language in ("en", "zh"):
        for n in res.notes:
            assert "（英文）" not in fmt.note(n, language)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_note_template_has_both_languages(language):
    from brandstats.notes import TEMPLATES

    for code, words in TEMPLATES.items():
        assert words[language], code
