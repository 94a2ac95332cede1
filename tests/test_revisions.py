"""Revised figures: several observation files read in order, later ones revising earlier ones."""

from __future__ import annotations

import json

import pandas as pd

import brandstats as bs
from brandstats.cli import main

BASE = """indicator,region,year,value,unit
high_tech_enterprises,Jinan,2019,1547,家
high_tech_enterprises,Jinan,2020,2231,家
high_tech_enterprises,Jinan,2021,3054,家
"""
REVISED = """indicator,region,year,value,unit
high_tech_enterprises,Jinan,2020,2300,家
high_tech_enterprises,Jinan,2021,3054,家
"""


def _files(tmp_path):
    base, revised = tmp_path / "base.csv", tmp_path / "revisions.csv"
    base.write_text(BASE, encoding="utf-8")
    revised.write_text(REVISED, encoding="utf-8")
    return base, revised


def test_a_later_file_revises_an_earlier_one(tmp_path, targets):
    base, revised = _files(tmp_path)
    merged = bs.load_observations([base, revised], targets=targets)
    values = merged.set_index("year")["value"]
    assert values.to_dict() == {2019: 1547, 2020: 2300, 2021: 3054}
    # 2021 repeats the same figure: no revision
    assert merged.attrs["revisions"] == [
        {"indicator": "high_tech_enterprises", "region": "Jinan", "year": 2020, "old": 2231.0,
         "new": 2300.0, "old_file": "base.csv", "new_file": "revisions.csv"}
    ]  # fmt: skip
    again = bs.load_observations([revised, base], targets=targets)  # order matters
    assert again.set_index("year")["value"][2020] == 2231
    assert base.read_text(encoding="utf-8") == BASE  # inputs untouched


def test_validate_lists_each_revision_and_assess_reads_them_in_order(tmp_path, capsys, targets):
    base, revised = _files(tmp_path)
    assert main(["validate", str(base), str(revised)]) == 0
    out = capsys.readouterr().out
    assert "2 data files read in order: 1 revision" in out
    assert (
        "revised high_tech_enterprises Jinan 2020: 2231 (base.csv) -> 2300 (revisions.csv)" in out
    )
    assert main(["assess", "--data", str(base), "--data", str(revised), "--as-of", "2021",
                 "--indicator", "high_tech_enterprises", "--format", "json"]) == 0  # fmt: skip
    row = json.loads(capsys.readouterr().out)[0]
    merged = bs.load_observations([base, revised], targets=targets)
    expected = bs.assess(merged, targets, "high_tech_enterprises", as_of=2021)
    assert row["probability"] == expected.probability
    assert row["last_value"] == 3054


def test_notebook_parameters_take_a_list_of_files(tmp_path):
    base, revised = _files(tmp_path)
    run = bs.check_parameters(
        {"indicator": "high_tech_enterprises", "data_path": [str(base), str(revised)]}
    )
    assert run.observations.set_index("year")["value"][2020] == 2300
    assert isinstance(run.observations, pd.DataFrame)
