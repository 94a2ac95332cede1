"""An executed notebook as an HTML report: outputs only, a title, no stderr, charts with alt text.

The batch calls :func:`export_html` for every run it writes; the notebooks call nothing here.
Everything goes through nbconvert's public API: :class:`nbconvert.HTMLExporter` with a small
template (``extra_loaders``) that extends JupyterLab's and adds the ``alt`` attribute to images.
"""

from __future__ import annotations

import datetime
import functools
from pathlib import Path
from typing import Any

import nbformat

from .format import language_code

__all__ = ["REMOVE_TAG", "export_html"]

REMOVE_TAG = "remove_cell"
"""Cells tagged with this (e.g. instructions for JupyterLab users) stay out of reports."""

_DEFAULT_ALT = {"en": "Chart", "zh": "图表"}

# JupyterLab's template; images take their alt text from the output's metadata
# (``{"image/png": {"alt": ...}}``, as IPython.display.display(..., metadata=...) writes it),
# then the cell's, then a default. Outputs are marked tex2jax_ignore: MathJax typesets the
# markdown cells' $...$ only, never text from data files shown in outputs (a '$\href{...}$'
# there would become a link).
_TEMPLATE = """\
{%- extends 'lab/index.html.j2' -%}
{% block extra_css %}
<style type="text/css">
  body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC",
         "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; }
  .jp-RenderedHTMLCommon table.brandstats { border-collapse: collapse; margin: 0.5em 0 1em;
         table-layout: auto; width: auto; max-width: 100%; }
  .jp-RenderedHTMLCommon table.brandstats th, .jp-RenderedHTMLCommon table.brandstats td {
         text-align: left; vertical-align: top; padding: 0.3em 1em 0.3em 0; max-width: 40em; }
  .jp-RenderedHTMLCommon table.brandstats .short { white-space: nowrap; }
  details > summary { cursor: pointer; font-weight: 600; margin: 1em 0 0.5em; }
  /* printing: A4 (landscape for the scorecard), the plan and the run's date atop each page,
     every column on the page, charts and table rows never split */
  @page { size: {{ resources.brandstats_page }}; margin: 16mm 12mm;
          @top-left { content: "{{ resources.brandstats_plan }}"; font-size: 8pt; }
          @top-right { content: "{{ resources.brandstats_date }}"; font-size: 8pt; } }
  @media print {
    body, .jp-Notebook { padding: 0 !important; margin: 0 !important; }
    .jp-OutputArea-output, .jp-RenderedHTMLCommon { overflow: visible !important; }
    .jp-RenderedHTMLCommon table.brandstats { font-size: 8pt; width: 100%; }
    .jp-RenderedHTMLCommon table.brandstats th, .jp-RenderedHTMLCommon table.brandstats td {
         max-width: none; padding-right: 0.6em; }
    .jp-RenderedHTMLCommon table.brandstats td { overflow-wrap: anywhere; }  /* long URLs */
    .jp-RenderedImage, img, tr { break-inside: avoid; }
    img { max-width: 100% !important; height: auto; }
    h1, h2, h3 { break-after: avoid; }
  }
</style>
{% endblock extra_css %}
{% block outputs %}
<div class="tex2jax_ignore">
{{ super() }}
</div>
{% endblock outputs %}
{% block data_png scoped %}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
{%- set alttext = (output | get_metadata('alt', 'image/png')) or (cell | get_metadata('alt'))
    or resources.brandstats_alt -%}
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}"
 alt="{{ alttext | escape_html }}">
</div>
{%- endblock data_png %}
"""


@functools.cache
def _exporter(language_code: str) -> Any:
    """One exporter per language: making one (templates, filters) costs more than a page."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name="lab",
        template_file="brandstats.html.j2",
        extra_loaders=[DictLoader({"brandstats.html.j2": _TEMPLATE})],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        language_code=language_code,
        optimistic_validation=True,  # validate once, not after each of its 12 preprocessors
    )


def _language(nb: nbformat.NotebookNode) -> str:
    """The run's ``language`` parameter as papermill recorded it; ``en`` otherwise."""
    parameters = nb.get("metadata", {}).get("papermill", {}).get("parameters", {})
    return language_code(parameters.get("language", "en"))


def _report_cells(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """What a reader sees of ``nb``: no stderr, no tagged or empty code cells.

    A new notebook and new cells and metadata where they differ, the rest shared with ``nb``
    (nbconvert copies what it is given before it changes anything).
    """
    cells = []
    for cell in nb.cells:
        if REMOVE_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        if cell.cell_type == "code":
            outputs = [
                out
                for out in cell.get("outputs", [])
                if not (out.get("output_type") == "stream" and out.get("name") == "stderr")
            ]
            if not outputs:
                continue
            cell = nbformat.NotebookNode({**cell, "outputs": outputs})
        cells.append(cell)
    metadata = nbformat.NotebookNode(nb.get("metadata", {}))
    return nbformat.NotebookNode({**nb, "cells": cells, "metadata": metadata})


def _css_text(text: str) -> str:
    """``text`` inside a CSS string ("..."), within an HTML <style> element."""
    text = " ".join(text.split())  # a line break would end the CSS string
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ")


def _print_resources(nb: nbformat.NotebookNode) -> dict[str, str]:
    """The printed page: A4, landscape for the scorecard's wide table; the plan's name (the
    run's ``title`` parameter; none without one) and the run's date (papermill's end time;
    today for a notebook papermill did not run)."""
    papermill = nb.get("metadata", {}).get("papermill", {})
    wide = Path(str(papermill.get("input_path") or "")).stem == "scorecard"
    ended = str(papermill.get("end_time") or "")[:10] or datetime.date.today().isoformat()
    plan = papermill.get("parameters", {}).get("title") or ""
    return {
        "brandstats_page": "A4 landscape" if wide else "A4",
        "brandstats_plan": _css_text(str(plan)),
        "brandstats_date": _css_text(ended),
    }


def export_html(nb: nbformat.NotebookNode, *, title: str) -> str:
    """The HTML report of an executed notebook.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook (as papermill wrote it). It is not changed.
    title : str
        The page's ``<title>``; it replaces any title in the notebook's metadata.

    Returns
    -------
    str
        A complete HTML page: the outputs and markdown cells, without code, prompts, stderr
        streams (warnings, logging) or cells tagged :data:`REMOVE_TAG`; images carry alt text;
        ``<html lang>`` follows the run's ``language`` parameter.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Hello")])
    >>> "<title>Report</title>" in export_html(nb, title="Report")
    True
    """
    language = _language(nb)
    report = _report_cells(nb)
    report.metadata["title"] = title
    resources = {
        "metadata": {"name": title},
        "brandstats_alt": _DEFAULT_ALT[language],
        **_print_resources(nb),
    }
    body, _ = _exporter(language).from_notebook_node(report, resources=resources)
    return body
