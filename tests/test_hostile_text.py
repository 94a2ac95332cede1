"""Text from districts' workbooks is data: never live HTML, Markdown or a spreadsheet formula.

Hostile names, regions and sources go through ``brandstats run`` (English and Chinese, a
target with an assessment and one without); every HTML page and CSV file written is checked.
"""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser
from pathlib import Path

import pytest

from brandstats import format as fmt
from brandstats.cli import main

SCRIPT = "<script>alert(1)</script><img src=x onerror=alert(2)>"
LINK = "[x](javascript:alert(3)) *em* $\\badcmd$"
REGION = "<marquee>Evil</marquee>"
FORMULAS = ('=HYPERLINK("http://example.com","x")', "+1+2", "@SUM(A1)", "-2+3", "\t=1")


class _LiveMarkup(HTMLParser):
    """Collects what user text would have made live: event handlers, script URLs, the hostile
    tags, script bodies that call alert; and the page's visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.live: list[str] = []
        self.text: list[str] = []
        self.typeset: list[str] = []  # text MathJax would typeset (outside tex2jax_ignore)
        self._script = False
        self._divs: list[bool] = []  # per open div: whether it is marked tex2jax_ignore
        self._body = False  # MathJax reads the body only (not the <title>)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.live.append(f"<{tag} {key}={value!r}>")
        if tag in ("marquee", "em") or (tag == "img" and ("src", "x") in attrs):
            self.live.append(f"<{tag}>")
        self._script = tag == "script"
        self._body = self._body or tag == "body"
        if tag == "div":
            self._divs.append("tex2jax_ignore" in (dict(attrs).get("class") or "").split())

    def handle_endtag(self, tag: str) -> None:
        self._script = False
        if tag == "div" and self._divs:
            self._divs.pop()

    def handle_data(self, data: str) -> None:
        if self._script and "alert(" in data:
            self.live.append(f"<script>{data}")
        elif not self._script:
            self.text.append(data)
            if self._body and not any(self._divs):
                self.typeset.append(data)


def _hostile_inputs(folder: Path) -> tuple[Path, Path]:
    """A targets catalogue and observations whose text is hostile in every user field."""
    targets = folder / "targets.csv"
    rows = [
        ["service_brand_value", SCRIPT + LINK, SCRIPT + "服务" + LINK, "yuan", ">", "2e11",
         FORMULAS[0]],
        ["high_tech_enterprises", FORMULAS[1], FORMULAS[2], "count", ">=", "4400", FORMULAS[3]],
        ["unicorn_firms", SCRIPT + " none", SCRIPT + "无", "count", ">=", "5", SCRIPT],
    ]  # fmt: skip
    with targets.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["indicator", "name_en", "name_zh", "group", "unit", "comparison",
                      "target", "target_year", "region", "source"])  # fmt: skip
        for ind, en, zh, unit, comparison, target, source in rows:
            out.writerow([ind, en, zh, "service", unit, comparison, target, 2022, REGION, source])
    observations = folder / "observations.csv"
    with observations.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["indicator", "region", "year", "value", "unit", "source", "notes"])
        for year, value in [(2018, 1300), (2019, 1500), (2020, 1650), (2021, 1800)]:
            source = SCRIPT + LINK
            out.writerow(["service_brand_value", REGION, year, value, "亿元", source, SCRIPT])
        for year, value in [(2018, 1547), (2019, 2231), (2020, 3000), (2021, 4397)]:
            out.writerow(["high_tech_enterprises", REGION, year, value, "家", FORMULAS[4], "=1"])
        out.writerow(["unicorn_firms", REGION, 2024, 3, "家", SCRIPT, SCRIPT])  # after 2022
    return targets, observations


@pytest.mark.slow
@pytest.mark.parametrize("language", ["en", "zh"])
def test_no_user_text_is_live_in_any_page_or_spreadsheet_of_a_run(tmp_path, language):
    targets, observations = _hostile_inputs(tmp_path)
    out = tmp_path / "out"
    args = ["run", "--targets", str(targets), "--data", str(observations), "--output", str(out)]
    assert main([*args, "--language", language]) == 0  # a '$\badcmd$' name draws as text
    pages = sorted(out.glob("*.html"))
    assert len(pages) == 4  # three targets and the scorecard
    for page in pages:
        parser = _LiveMarkup()
        parser.feed(page.read_text(encoding="utf-8"))
        assert parser.live == [], page.name
        assert "badcmd" not in "".join(parser.typeset), page.name  # no TeX from the data
        text = "".join(parser.text)
        assert "<marquee>Evil</marquee>" in text, page.name  # shown, as text
        if page.stem.startswith(("service", "unicorn")):  # the names with a script
            assert SCRIPT in text, page.name
    with (out / "scorecard.csv").open(encoding="utf-8-sig", newline="") as fh:
        card = list(csv.DictReader(fh))

    def number(cell: str) -> bool:  # a negative number (a change of P(met)) is no formula
        try:
            float(cell)
        except ValueError:
            return False
        return True

    cells = [cell for row in card for cell in row.values() if not number(cell)]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    names = {row["indicator"]: (row["name_en"], row["name_zh"]) for row in card}
    assert names["high_tech_enterprises"] == ("'" + FORMULAS[1], "'" + FORMULAS[2])
    assert all(0 <= float(row["probability"]) <= 1 for row in card if row["probability"])


def test_markdown_of_a_result_takes_names_and_reasons_literally():
    text = fmt.markdown_text(SCRIPT + "\n\n# " + LINK)
    assert "<" not in text and "\n" not in text
    assert "\\[x\\]\\(javascript:alert\\(3\\)\\)" in text and "\\$\\\\badcmd\\$" in text


@pytest.mark.parametrize(
    ("value", "cell"),
    [("=1+2", "'=1+2"), ("-x", "'-x"), ("@A1", "'@A1"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
     ("+1", "'+1"), ("Jinan", "Jinan"), ("a=b", "a=b"), (-3.5, -3.5), (None, None)],
)  # fmt: skip
def test_spreadsheet_cells_that_would_start_a_formula_are_text(value, cell):
    assert fmt.spreadsheet_cell(value) == cell


def test_a_dollar_in_a_chart_title_is_drawn_not_typeset(observations, targets):
    import matplotlib.pyplot as plt

    from brandstats import assess, plots

    result = assess(observations, targets, "high_tech_enterprises", "Jinan")
    meta = {**result.meta, "name_en": "cost in $ \\badcmd $"}
    ax = plots.plot_assessment(_with(result, meta=meta))
    try:
        ax.figure.savefig(io.BytesIO(), format="png")  # mathtext would raise on \badcmd
        assert ax.get_title(loc="left").startswith("cost in \\$ \\badcmd \\$")
    finally:
        plt.close(ax.figure)


def _with(result, **changes):
    import dataclasses

    return dataclasses.replace(result, **changes)


def test_the_cli_csv_writes_formula_like_text_as_text(tmp_path, capsys):
    targets, _ = _hostile_inputs(tmp_path)
    assert main(["targets", "--targets", str(targets), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    cells = [cell for row in rows for cell in row.values()]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert "'" + FORMULAS[2] in cells
