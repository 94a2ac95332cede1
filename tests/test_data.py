"""Shipped data: reproducible illustrative rows, clearly labelled."""

from __future__ import annotations

import importlib.util

import pandas as pd
import pytest


def test_observations_csv_is_exactly_what_the_script_builds(root):
    spec = importlib.util.spec_from_file_location("mk", root / "data" / "make_observations.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (root / "data" / "observations.csv").read_text(encoding="utf-8") == module.build()


def test_every_row_has_a_source_and_illustrative_rows_say_so(root):
    raw = pd.read_csv(root / "data" / "observations.csv")
    assert raw["source"].notna().all()
    fake = raw["qualifier"] == "illustrative"
    assert fake.any()
    assert raw.loc[fake, "source"].str.contains("ILLUSTRATIVE").all()
    real = raw.loc[~fake]
    assert real["quote"].notna().all()  # every real figure quotes its source sentence


def test_public_figures_include_every_seed_figure(root):
    seed = root.parent / "shared" / "seed" / "public-figures.csv"
    if not seed.exists():
        pytest.skip("shared/seed is not beside this checkout")
    ours = pd.read_csv(root / "data" / "public_figures.csv")
    theirs = pd.read_csv(seed)
    merged = theirs.merge(ours, how="left", indicator=True)
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both"]
