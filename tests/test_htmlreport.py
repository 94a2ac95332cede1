"""export_html: outputs as a page with a title, without code, stderr or unlabelled charts."""

from __future__ import annotations

import base64
from html.parser import HTMLParser

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from brandstats.htmlreport import REMOVE_TAG, export_html

# a 1x1 PNG
PIXEL = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()


class _Page(HTMLParser):
    """What a reader and a screen reader get from the page: title, lang, images, text."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.lang = None
        self.images: list[dict[str, str | None]] = []
        self.text: list[str] = []
        self._in_title = False
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag == "html":
            self.lang = dict(attrs).get("lang")
        if tag == "title":
            self._in_title = True
        if tag in ("style", "script"):
            self._skip += 1
        if tag == "img":
            self.images.append(dict(attrs))

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        elif not self._skip:
            self.text.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


@pytest.fixture
def notebook():
    """An executed notebook as papermill leaves it: parameters, stderr noise, a chart, tables."""
    chart = new_output(
        "display_data",
        data={"image/png": PIXEL, "text/plain": "<Figure size 640x480 with 1 Axes>"},
        metadata={"image/png": {"alt": "Fan chart of brand value"}},
    )
    unlabelled = new_output("display_data", data={"image/png": PIXEL})
    cells = [
        new_markdown_cell(
            "Run me with papermill -p indicator ...", metadata={"tags": [REMOVE_TAG]}
        ),
        new_code_cell("indicator = 'x'", metadata={"tags": ["parameters"]}),
        new_code_cell(
            "import secret_code_here",
            outputs=[
                new_output("stream", name="stderr", text="findfont: Font family 'Noto' not found."),
                new_output("stream", name="stdout", text="result written to out.json"),
            ],
        ),
        new_markdown_cell("## Projection"),
        new_code_cell("plot()", outputs=[chart]),
        new_code_cell("plot2()", outputs=[unlabelled]),
        new_code_cell(
            "warn()", outputs=[new_output("stream", name="stderr", text="UserWarning: x")]
        ),
    ]
    nb = new_notebook(cells=cells, metadata={"title": "tmpabc123.ipynb"})
    nb.metadata["papermill"] = {"parameters": {"language": "en"}}
    return nbformat.from_dict(nb)


def test_title_replaces_the_notebooks(notebook):
    page = _parse(export_html(notebook, title="Brand value 2022 — Jinan"))
    assert page.title == "Brand value 2022 — Jinan"
    assert page.lang == "en"


def test_no_code_no_stderr_no_instructions(notebook):
    html = export_html(notebook, title="t")
    text = "".join(_parse(html).text)
    assert "secret_code_here" not in html
    assert "findfont" not in html and "UserWarning" not in html
    assert "papermill -p" not in text
    assert "result written to out.json" in text
    assert "Projection" in text
    assert "In\xa0[" not in text and "Out[" not in text  # no prompts


def test_images_carry_alt_text(notebook):
    images = _parse(export_html(notebook, title="t")).images
    assert [img["alt"] for img in images] == ["Fan chart of brand value", "Chart"]


def test_chinese_run_is_marked_chinese(notebook):
    notebook.metadata.papermill.parameters.language = "zh"
    page = _parse(export_html(notebook, title="品牌价值"))
    assert page.lang == "zh"
    assert page.title == "品牌价值"
    assert [img["alt"] for img in page.images][1] == "图表"


def test_the_notebook_is_not_changed(notebook):
    before = nbformat.writes(notebook)
    export_html(notebook, title="t")
    assert nbformat.writes(notebook) == before
