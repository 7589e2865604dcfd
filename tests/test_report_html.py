"""HTML and Markdown reports and the report folder: self-contained, escaped, atomic."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re

import pytest
from test_report_helpers import XSS, report

from forecast.report import figures as fig
from forecast.report import write as write_mod
from forecast.report.html import render_html
from forecast.report.markdown import md, render_markdown
from forecast.report.write import write_report

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    ws, rep = report(tmp_path_factory.mktemp("good"))
    return ws, rep, fig.render(rep)


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    _, rep = report(tmp_path_factory.mktemp("bad"), bad=True, previous=False)
    return rep


def test_every_figure_is_rendered(good):
    ws, rep, figures = good
    expected = {fig.prior_path(q.id) for q in ws.questions}
    expected |= {fig.waterfall_path(q.id) for q in ws.questions}
    expected |= {fig.joint_path("lebanon-withdrawal", "iran-mou"), fig.DIAGNOSTICS}
    assert set(figures) == expected
    assert all(data.startswith(b"\x89PNG\r\n\x1a\n") for data in figures.values())


def test_html_is_self_contained(good):
    _, rep, figures = good
    page = render_html(rep, figures)
    assert page.startswith("<!DOCTYPE html>")
    assert "<style>" in page and "<link" not in page
    # no reference to any other host: no URL, no protocol-relative src, no CSS url()
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?//""", page)
    assert "url(" not in page and "@import" not in page
    assert "Content-Security-Policy" in page  # scripts and requests blocked outright
    srcs = re.findall(r'<img src="([^"]+)"', page)
    assert len(srcs) == len(figures)
    from PIL import Image

    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).verify()


def test_html_shows_the_tables_and_sections(good):
    ws, rep, figures = good
    page = render_html(rep, figures)
    assert '<table class="forecasts">' in page
    assert page.count('<table class="evidence">') == len(ws.questions)
    assert 'id="diagnostics"' in page and 'id="joint"' in page
    assert "Diagnostics passed" in page
    assert rep.run_id in page and "summit-2026" in page
    for q in ws.questions[:2]:
        assert q.title in page
        assert q.resolution_criteria in page
    assert "+8.0 pts" in page  # change since the previous run
    assert "resolved yes" in page


def test_user_text_is_escaped_everywhere(good, bad):
    _, rep, figures = good
    for page in (render_html(rep, figures), render_html(bad)):
        assert "<script" not in page.lower()
        assert ESCAPED in page
    # the title, the criteria and the evidence summary each appear escaped
    page = render_html(rep, figures)
    assert page.count(ESCAPED) >= 4
    # quotes escaped (as &#34; or &quot;), so text is safe in attribute values too
    assert "&amp; &#34;more&#34;" in page or "&amp; &quot;more&quot;" in page
    assert '& "more"' not in page


def test_failed_diagnostics_banner_lists_problems_and_what_to_do(bad):
    page = render_html(bad)
    assert "Diagnostics failed" in page
    assert "raise target_accept" in page and "tune = 2000" in page
    assert "forecast report --draws N" in page
    assert page.count("⚠") >= 3
    text = render_markdown(bad)
    assert "Diagnostics failed" in text and "raise target\\_accept" in text


def test_markdown_links_its_pngs_and_escapes_text(good):
    ws, rep, figures = good
    text = render_markdown(rep, figures)
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert set(links) == set(figures)
    assert XSS not in text and ESCAPED in text
    assert "| Question | Prior | Forecast |" in text
    assert md("a | b * c_d [x](y) <b>") == r"a \| b \* c\_d \[x\](y) &lt;b&gt;"


def test_report_folder_holds_every_file(good, tmp_path):
    _, rep, figures = good
    written = write_report(rep, tmp_path / "reports", figures)
    assert written.created and written.path == tmp_path / "reports" / rep.run_id
    for name in ("report.html", "report.md", "posteriors.csv", "contributions.csv",
                 "manifest.json"):  # fmt: skip
        assert (written.path / name).is_file(), name
    assert not list(written.path.rglob("*.nc"))  # the trace stays with its run
    assert len(list((written.path / "plots").glob("*.png"))) == 8
    manifest = json.loads((written.path / "manifest.json").read_text())
    assert manifest["run_id"] == rep.run_id and manifest["diagnostics"]["ok"] is True
    for name, digest in manifest["report"]["files"].items():
        assert hashlib.sha256((written.path / name).read_bytes()).hexdigest() == digest
    import pandas as pd

    post = pd.read_csv(written.path / "posteriors.csv")
    assert list(post["id"]) == list(rep.forecasts["id"])
    contrib = pd.read_csv(written.path / "contributions.csv")
    assert len(contrib) == len(rep.contributions)
    assert manifest["report"]["trace"] is None  # a report built without a stored run
    # nothing but the report folder is left behind
    assert [p.name for p in (tmp_path / "reports").iterdir()] == [rep.run_id]


def test_existing_report_is_never_overwritten(good, tmp_path):
    _, rep, figures = good
    first = write_report(rep, tmp_path, figures)
    html = first.html.read_bytes()
    first.html.write_bytes(html + b"<!-- edited -->")
    again = write_report(rep, tmp_path, figures)
    assert not again.created and again.path == first.path
    assert first.html.read_bytes().endswith(b"<!-- edited -->")
    assert "report.html" in again.files


def test_interrupted_report_leaves_no_folder(good, tmp_path, monkeypatch):
    _, rep, figures = good

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(write_mod, "render_markdown", boom)
    with pytest.raises(KeyboardInterrupt):
        write_report(rep, tmp_path, figures)
    assert list(tmp_path.iterdir()) == []
