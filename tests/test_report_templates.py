"""The HTML and Markdown reports come from templates that escape every value."""

from __future__ import annotations

import dataclasses
import re
from importlib import resources

import pytest
from test_report_helpers import XSS, report

from forecast.report.html import environment as html_environment
from forecast.report.html import render_html
from forecast.report.markdown import environment as markdown_environment
from forecast.report.markdown import render_markdown

ODD = "a | b * c_d [x](y) <b>bold</b> & 'q' \"r\""


@pytest.fixture(scope="module")
def rep(tmp_path_factory):
    ws, rep = report(tmp_path_factory.mktemp("templates"))
    return dataclasses.replace(
        rep,
        warnings=(f"priors/omar.yaml:3: warning: {ODD}", f"evidence/x.csv: warning: {XSS}"),
        default_prior=(ws.questions[0].id,),
    )


def test_templates_ship_with_the_package():
    folder = resources.files("forecast.report").joinpath("templates")
    assert folder.joinpath("report.html.j2").is_file()
    assert folder.joinpath("report.md.j2").is_file()


def test_environments_escape_by_default():
    for env in (html_environment(), markdown_environment()):
        assert env.autoescape is True and env.finalize is not None
    page = html_environment().from_string("<p>{{ x }}</p>").render(x=XSS)
    assert page == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    text = markdown_environment().from_string("| {{ x }} |").render(x=ODD)
    expected = r"a \| b \* c\_d \[x\](y) &lt;b&gt;bold&lt;/b&gt; &amp; " + "'q' \"r\""
    assert text == f"| {expected} |"


def test_warnings_and_notes_are_escaped(rep):
    page = render_html(rep)
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "<script" not in page.lower()
    assert 'id="warnings"' in page and "2 warnings about the workspace files" in page
    assert "No analyst states a prior on this question" in page
    text = render_markdown(rep)
    assert r"c\_d \[x\](y) &lt;b&gt;bold&lt;/b&gt;" in text
    assert "No analyst states a prior on this question" in text


def cells(line: str) -> int:
    """Cells of a Markdown table row: '|' not escaped with a backslash separates them."""
    return len(re.findall(r"(?<!\\)\|", line)) - 1


def test_markdown_tables_keep_their_columns(rep):
    """Every row of every table has its header's number of cells (a '|' in a
    value, even 'P(A | B)', is escaped)."""
    lines = render_markdown(rep).splitlines()
    tables = 0
    for i, line in enumerate(lines):
        if re.fullmatch(r"\| (---:?|:?---)( \| ---:?)* \|", line):
            tables += 1
            header = cells(lines[i - 1])
            j = i + 1
            while j < len(lines) and lines[j].startswith("|"):
                assert cells(lines[j]) == header, lines[j]
                j += 1
    assert tables >= 5  # forecasts, evidence per question, joint, diagnostics
