"""The plan as a whole (brandstats.tally): the number of targets met, checked against a hand
convolution of the Bernoulli trials, and its place in scorecard.json and the scorecard."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from brandstats import format as fmt
from brandstats import results
from brandstats.tally import targets_met, verdict_counts


def _card() -> pd.DataFrame:
    rows = [
        ("a", 0.9, "very likely", None),
        ("b", 0.5, "about as likely as not", None),
        ("c", 0.2, "unlikely", None),
        ("d", None, "met", None),
        ("e", None, "no probability", None),
        ("f", None, "not met", None),
        ("b", 0.1, "unlikely", 2019),  # an older vintage of b: not counted
    ]
    return pd.DataFrame(
        [
            {
                "indicator": i,
                "region": "X",
                "probability": p,
                "verdict": v,
                "as_of": a,
                "data": "real",
            }
            for i, p, v, a in rows
        ]
    )


def test_the_count_is_the_convolution_of_the_trials():
    got = targets_met(_card(), headline=["a", "b"])
    # by hand: d is met (1 for sure); a, b, c are Bernoulli(0.9), (0.5), (0.2); f is not met
    pmf = np.array([1.0])
    for p in (0.9, 0.5, 0.2):
        pmf = np.convolve(pmf, [1 - p, p])
    expected = np.concatenate([[0.0], pmf, [0.0]])  # one met for sure, one not met for sure
    assert_allclose(got["distribution"], expected, atol=1e-12)
    assert_allclose(got["expected"], 1 + 0.9 + 0.5 + 0.2)  # met + the sum of P(met)
    assert got["met"] == ["d (X)"] and got["not_met"] == ["f (X)"]
    assert got["assessed"] == ["a (X)", "b (X)", "c (X)"] and got["unassessed"] == ["e (X)"]
    cdf = np.cumsum(expected)
    assert got["interval"] == [int(np.argmax(cdf >= 0.1)), int(np.argmax(cdf >= 0.9))]
    assert_allclose(got["both_headline"], 0.9 * 0.5)
    low, high = got["interval_shared"]
    assert low <= got["interval"][0] and high >= got["interval"][1]  # a shared shock widens it
    assert verdict_counts(_card()) == {"met": 1, "likely": 1, "even": 1, "unlikely": 1,
                                       "not_met": 1, "unassessed": 1}  # fmt: skip


def test_a_shared_shock_widens_the_interval_of_many_even_targets():
    card = pd.DataFrame(
        {"indicator": [f"t{i}" for i in range(12)], "region": "", "probability": 0.5,
         "verdict": "about as likely as not", "as_of": None}
    )  # fmt: skip
    got = targets_met(card)
    assert got["interval"] == [4, 8]  # Binomial(12, 0.5): 10 % and 90 % quantiles
    low, high = got["interval_shared"]
    assert high - low > 8 - 4


def test_scorecard_json_and_paragraph(tmp_path):
    card = _card().assign(
        name_en=lambda d: d["indicator"].str.upper(), name_zh="名", group="product",
        run_name=lambda d: d["indicator"] + d.index.astype(str),
    )  # fmt: skip
    for column in results.SCORECARD_COLUMNS:
        if column not in card:
            card[column] = None
    results.write_scorecard(card, tmp_path, run_name="sc", headline=["a", "b"])
    summary = json.loads((tmp_path / "sc.json").read_text(encoding="utf-8"))
    assert_allclose(summary["targets_met"]["expected"], 2.6)
    assert summary["targets_met"]["unassessed"] == ["e (X)"]
    assert summary["verdicts"]["unassessed"] == 1
    text, _ = results.plan_markdown(card, language="en", headline=["a", "b"])
    assert "Expected number met: 2.6 of the 5" in text and "(A, B)" in text
    assert "Poisson-binomial" in text and "45 %" in text
    zh, _ = results.plan_markdown(card, language="zh", headline=["a", "b"])
    assert "泊松二项分布" in zh and "预计达成2.6个" in zh


@pytest.mark.parametrize("language", ["en", "zh"])
def test_illustrative_counts_are_labelled(language):
    card = _card().assign(data="illustrative")
    got = targets_met(card)
    assert len(got["illustrative"]) == 5  # the counted ones: a, b, c, d, f
    text = fmt.plan_summary(got, verdict_counts(card), language)
    assert ("ILLUSTRATIVE" if language == "en" else "示意数据") in text


def test_districts_sub_targets_are_not_targets_of_the_plan():
    """A district's row (with a parent) is in the league table, not in the plan's count."""
    card = _card().assign(parent="")
    district = {"indicator": "a", "region": "历下区", "probability": 0.1, "verdict": "unlikely",
                "as_of": None, "data": "real", "parent": "X"}  # fmt: skip
    with_district = pd.concat([card, pd.DataFrame([district])], ignore_index=True)
    assert targets_met(with_district) == targets_met(card)
    assert verdict_counts(with_district) == verdict_counts(card)


def test_the_chinese_summary_names_each_class_in_the_verdicts_words():
    """很可能 is the verdict "very likely" (90 % or more): the plan's summary and the charts'
    legends must not call the 66 % class by it, nor the 33-66 % class by another word."""
    text = fmt.plan_summary(targets_met(_card()), verdict_counts(_card()), "zh")
    likely, even = fmt.verdict("likely", "zh"), fmt.verdict("about as likely as not", "zh")
    assert f"{likely}达成" in text and f"{even}达成" in text and "很可能达成" not in text
    assert fmt.word("chart:outlook_likely", "zh").startswith(f"{likely}（")
    assert fmt.word("chart:outlook_even", "zh").startswith(f"{even}（")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_summary_says_which_rows_it_leaves_out(language):
    """6 targets counted, 8 rows below: 1 earlier vintage and 1 district's share, said so."""
    card = _card().assign(parent="")
    district = {"indicator": "a", "region": "历下区", "probability": 0.1, "verdict": "unlikely",
                "as_of": None, "data": "real", "parent": "X"}  # fmt: skip
    card = pd.concat([card, pd.DataFrame([district])], ignore_index=True)
    text, counted = results.plan_markdown(card, language=language)
    assert counted["targets"] == 6 and len(card) == 8
    if language == "en":
        assert "also has 1 earlier vintage and 1 row of districts' shares" in text
    else:
        assert "另有1行较早版本和1行区县分解目标" in text
    alone, _ = results.plan_markdown(_card().iloc[:-1], language=language)
    assert "league" not in alone and "排名表" not in alone  # nothing left out: nothing said
