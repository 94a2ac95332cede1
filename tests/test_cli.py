"""The command line: targets and validate."""

from __future__ import annotations

import json

from brandstats.cli import main


def test_targets_formats(capsys):
    assert main(["targets", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    value = next(r for r in rows if r["indicator"] == "product_brand_value")
    assert (value["comparison"], value["target"], value["unit"]) == (">", 6e11, "yuan")
    assert main(["targets"]) == 0
    assert "> 6,000 亿元" in capsys.readouterr().out
    assert main(["targets", "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("indicator,name_en,")


def test_validate_ok_and_failing(tmp_path, capsys, root):
    assert main(["validate", str(root / "data" / "observations.csv")]) == 0
    assert "ILLUSTRATIVE" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("indicator,region,year,value,unit\nhigh_tech_enterprises,Jinan,2020,x,家\n"
                   "high_tech_enterprises,Jinan,1066,1,家\n")  # fmt: skip
    assert main(["validate", str(bad), str(root / "data" / "targets.csv")]) == 1
    err = capsys.readouterr().err
    assert "bad.csv, row 2, column 'value'" in err
    assert "bad.csv, row 3, column 'year'" in err
