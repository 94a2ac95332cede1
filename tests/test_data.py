"""Shipped data: every figure carries its source, real and illustrative rows never share a
series, and the published figures judged to measure a plan indicator are all there."""

from __future__ import annotations

import importlib.util

import pandas as pd
import pytest


@pytest.fixture
def make_observations(root):
    spec = importlib.util.spec_from_file_location("mk", root / "data" / "make_observations.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def raw(root) -> pd.DataFrame:
    """observations.csv as written (no parsing beyond CSV)."""
    return pd.read_csv(root / "data" / "observations.csv", dtype={"value": str})


def test_observations_csv_is_exactly_what_the_script_builds(root, make_observations):
    assert (root / "data" / "observations.csv").read_text(encoding="utf-8") == (
        make_observations.build()
    )


def test_every_row_has_a_source_and_illustrative_rows_say_so(raw):
    assert raw["source"].notna().all() and (raw["source"].str.strip() != "").all()
    fake = raw["qualifier"] == "illustrative"
    assert fake.any()
    assert raw.loc[fake, "source"].str.startswith("ILLUSTRATIVE").all()
    assert not raw.loc[~fake, "source"].str.contains("ILLUSTRATIVE").any()
    assert raw.loc[~fake, "quote"].notna().all()  # every real figure quotes its source


def test_no_series_mixes_real_and_illustrative_rows(raw):
    kinds = raw.assign(fake=raw["qualifier"] == "illustrative").groupby(["indicator", "region"])[
        "fake"
    ]
    mixed = kinds.nunique()
    assert (mixed == 1).all(), mixed[mixed > 1]


def test_the_script_refuses_to_mix(make_observations, monkeypatch):
    specs = {
        **make_observations.SPECS,
        "high_tech_enterprises": (2018, 1.0, 1.0, 0.1, "step", "家"),
    }
    monkeypatch.setattr(make_observations, "SPECS", specs)
    with pytest.raises(ValueError, match="high_tech_enterprises"):
        make_observations.build()


def test_illustrative_only_where_no_real_figure_exists(raw):
    fake = raw.loc[raw["qualifier"] == "illustrative", ["indicator", "region"]].drop_duplicates()
    assert sorted(map(tuple, fake.to_numpy())) == [
        ("agricultural_pass_rate", "Jinan"),
        ("product_brand_count", "Jinan"),
        ("product_brand_value", "Jinan"),
        ("service_brand_count", "Jinan"),
        ("service_brand_value", "Jinan"),
        ("service_satisfaction", "Jinan"),
    ]


# (indicator, region, year) -> (value, qualifier): the figures of shared/seed/public-figures-2.csv
# judged to measure a plan indicator (or a context indicator), as data/README.md explains.
TAKEN = {
    ("public_service_rank", "Jinan", 2019): ("18", "reported"),
    ("public_service_rank", "Jinan", 2020): ("11", "lower_bound"),  # not in the top 10
    ("industrial_pass_rate", "Jinan", 2019): ("95.06", "reported"),
    ("food_pass_rate", "Jinan", 2015): ("96.55", "reported"),
    ("high_tech_enterprises", "Jinan", 2020): ("3499", "lower_bound"),  # private firms only
    ("quality_product_bases", "Jinan", 2024): ("12", "as_of_august"),
    ("cluster_leading_enterprises", "Jinan", 2019): ("12", "reported"),
    ("taishan_quality_brands", "Jinan", 2019): ("2", "estimate"),
    ("high_end_brand_cultivation_firms", "Jinan", 2021): ("107", "reported"),
    ("high_end_brand_cultivation_firms_cumulative", "Jinan", 2021): ("145", "as_of_may"),
    ("high_end_brand_cultivation_firms_cumulative", "Jinan", 2024): ("275", "as_of_august"),
    ("agricultural_pass_rate", "Shandong", 2020): ("97", "lower_bound"),
    ("consumer_satisfaction_rank", "Jinan", 2020): ("11", "reported"),
}


@pytest.mark.parametrize(("key", "expected"), TAKEN.items(), ids=lambda k: "-".join(map(str, k)))
def test_published_figures_taken_with_their_qualifiers(raw, key, expected):
    indicator, region, year = key
    row = raw.loc[(raw["indicator"] == indicator) & (raw["region"] == region)
                  & (raw["year"] == year)]  # fmt: skip
    assert len(row) == 1
    assert (row["value"].iloc[0], row["qualifier"].iloc[0]) == expected


def test_public_figures_include_every_seed_figure(root):
    """The first seed file's rows, unchanged but for one re-filed row (a cumulative count)."""
    seed = root.parent / "shared" / "seed" / "public-figures.csv"
    if not seed.exists():
        pytest.skip("shared/seed is not beside this checkout")
    ours = pd.read_csv(root / "data" / "public_figures.csv", dtype=str)
    theirs = pd.read_csv(seed, dtype=str)
    refiled = (theirs["indicator"] == "high_end_brand_cultivation_firms") & (
        theirs["year"] == "2021"
    )
    theirs.loc[refiled, ["indicator", "qualifier"]] = [
        "high_end_brand_cultivation_firms_cumulative", "as_of_may"
    ]  # fmt: skip
    merged = theirs.merge(ours, how="left", indicator=True)
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both"]


def test_shipped_data_load(targets, observations):
    """Every real series loads with the package's own validation (qualifiers, units, targets)."""
    assert set(observations["indicator"]) <= set(targets["indicator"])
    assert {"as_of_may", "as_of_august", "lower_bound", "estimate"} <= set(
        observations["qualifier"]
    )
