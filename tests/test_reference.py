"""The reference class (brandstats.reference), the notes (brandstats.notes) and the bounds on
P(met) that the evidence allows: hand computations on small inputs."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import brandstats as bs
from brandstats import format as fmt
from brandstats.attainment import probability_bound
from brandstats.engine import make_problem, outlooks
from brandstats.notes import Note
from brandstats.reference import (
    CHANGE_QUANTILES,
    REFERENCE_WEIGHT,
    Reference,
    build_changes,
    reference_predictive,
)
from brandstats.spec import TargetSpec

EMPTY = Reference(pd.DataFrame())


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


def test_model_forecasts_are_mixed_with_the_reference_class():
    spec = TargetSpec("x", "", 300.0, ">=", 2026, unit="yuan")
    series = pd.Series([100.0, 130.0, 151.0, 190.0], index=range(2018, 2022))
    problem = make_problem(spec, series)
    models_only = outlooks({"a": problem}, reference=EMPTY)["a"]
    assert any(getattr(n, "code", "") == "no_reference" for n in models_only.notes)
    mixed = outlooks({"a": problem})["a"]
    assert any(getattr(n, "code", "") == "reference_mixed" for n in mixed.notes)
    ref, cases = reference_predictive(series, (0.0, np.inf), 2026)
    # by hand: 80 % the models (4 points: few backtest cases), 20 % the reference class
    assert REFERENCE_WEIGHT == 0.2
    p_models = models_only.predictive.sf(300.0)
    p_ref = ref.sf(300.0)
    expected = 0.8 * p_models + 0.2 * p_ref
    floor = mixed.floor
    assert_allclose(mixed.probability, np.clip(expected, floor, 1 - floor), rtol=1e-9)
    x = np.array([150.0, 250.0, 400.0])
    assert_allclose(mixed.predictive.cdf(x), 0.8 * models_only.predictive.cdf(x)
                    + 0.2 * ref.cdf(x), rtol=1e-9)  # fmt: skip
    assert cases > 1000


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
    inner = Note("one_common_case", count=1, needed=2, consequence=Note("weight_zero"))
    note = Note("not_backtested", model="holt", reason=inner)
    assert str(note) == "holt not backtested: only 1 backtest case in common with the other " \
        "models (2 needed), so it gets no weight"  # fmt: skip
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
