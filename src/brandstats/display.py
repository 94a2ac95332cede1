"""How results look in JupyterLab: an :class:`~brandstats.attainment.Assessment` shows its
summary and fan chart (``_repr_html_``), a plan's table its scorecard.

The words come from :mod:`brandstats.results` and :mod:`brandstats.format`, the chart from
:mod:`brandstats.plots`; this module only puts them on one HTML fragment.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from typing import Any

import pandas as pd

from . import format as fmt

__all__ = ["PlanTable", "assessment_html", "figure_html", "markdown_html", "plan_html"]


def markdown_html(markdown: str) -> str:
    """Markdown (as :mod:`brandstats.results` writes it) as an HTML fragment.

    Text from input files is already escaped there (:func:`brandstats.format.markdown_text`),
    so raw HTML is passed through unchanged (nbconvert's mistune renders it).
    """
    import mistune

    return str(mistune.html(markdown))


def figure_html(ax: Any, *, alt: str) -> str:
    """The figure of ``ax`` as an ``<img>`` with an inline PNG and alt text; the figure is
    closed (no figure is left open in the session)."""
    from .plots import png

    data = base64.b64encode(png(ax)).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def assessment_html(result: Any, language: str = "en", *, chart: bool = True) -> str:
    """An assessment as JupyterLab shows it: heading, summary and (with ``chart``) fan chart.

    Parameters
    ----------
    result : Assessment
        The result of :func:`brandstats.assess`.
    language : {"en", "zh"}
        Language of every word.
    chart : bool
        Add the fan chart (an inline PNG with alt text).

    Returns
    -------
    str
        An HTML fragment; names and sources from input files are shown as text.
    """
    from . import results

    fmt.check_language(language)
    markdown = results.heading_markdown(result, language).replace("# ", "### ", 1)
    parts = [markdown_html(f"{markdown}\n\n{results.summary_markdown(result, language)}")]
    if chart:
        from . import plots

        ax = plots.plot_assessment(result, language=language)
        parts.append(figure_html(ax, alt=fmt.fan_alt(result, language)))
    return f'<div class="brandstats-assessment" lang="{language}">{"".join(parts)}</div>'


def plan_html(
    table: pd.DataFrame, language: str = "en", *, targets: pd.DataFrame | None = None
) -> str:
    """A plan's table (:func:`brandstats.assess_all`) as the scorecard's HTML table.

    Parameters
    ----------
    table : DataFrame
        One row per target, the columns of :meth:`~brandstats.Assessment.row`.
    language : {"en", "zh"}
        Language of every word.
    targets : DataFrame, optional
        The targets catalogue, for each indicator's goal and name (else the id is shown).
    """
    from . import results

    rows = table.copy()
    if targets is not None:
        names = targets.drop_duplicates("indicator").set_index("indicator")
        for column in ("group", "group_en", "group_zh", "name_en", "name_zh"):
            if column in names:
                rows[column] = rows["indicator"].map(names[column])
    for column in ("group", "name_en", "name_zh", "run_name", "last_qualifier", "data"):
        if column not in rows:
            rows[column] = None
    rows["data"] = [
        d if isinstance(d, str) else "illustrative" if i is True else "real"
        for d, i in zip(rows["data"], rows.get("illustrative", [None] * len(rows)), strict=True)
    ]
    return results.scorecard_html(rows, language=language)


@dataclass(frozen=True)
class PlanTable:
    """A plan's table (:func:`brandstats.assess_all`) that JupyterLab shows as the scorecard.

    ``PlanTable(table, targets)`` in a cell renders one row per target: goal, indicator,
    region, vintage, target, latest value, P(met) (with its bound), verdict, progress, data.
    The frame itself stays in ``table``.
    """

    table: pd.DataFrame
    targets: pd.DataFrame | None = None
    language: str = "en"

    def _repr_html_(self) -> str:
        return plan_html(self.table, self.language, targets=self.targets)
