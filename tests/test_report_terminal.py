"""Terminal views: coloured on a terminal, plain off one, NO_COLOR respected."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console
from test_report_helpers import explain_frame, report

from forecast.report.explanation import explanation_from_frames
from forecast.report.terminal import explanation, forecast_table, run_status, show

COLOUR = re.compile(r"\x1b\[[0-9;]*3[0-7]m")  # a foreground colour code


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    return report(tmp_path_factory.mktemp("terminal"), bad=True)


def _console(**kwargs) -> Console:
    return Console(file=io.StringIO(), highlight=False, **kwargs)


def _explanation(ws, rep):
    qid = "lebanon-withdrawal"
    table = explain_frame(ws, rep.contributions, qid)
    row = rep.forecasts.set_index("id").loc[qid]
    return explanation_from_frames(ws.question(qid), table, row, evidence=ws.evidence)


def test_terminal_table_is_coloured_unless_no_color(synthetic):
    ws, rep = synthetic
    tty = _console(force_terminal=True, width=120, color_system="truecolor")
    show(tty, forecast_table(rep, tty))
    out = tty.file.getvalue()
    assert COLOUR.search(out)
    assert "Moved most" in out and "⚠" in out
    plain = _console(force_terminal=True, width=120, color_system="truecolor", no_color=True)
    show(plain, forecast_table(rep, plain))
    plain.print(run_status(rep, reused=True))
    out = plain.file.getvalue()
    assert not COLOUR.search(out)
    assert "Diagnostics FAILED" in out and "stored run reused" in out


def test_off_a_terminal_one_line_a_row_no_codes(synthetic):
    ws, rep = synthetic
    pipe = _console(force_terminal=False, width=80)
    show(pipe, forecast_table(rep, pipe))
    out = pipe.file.getvalue()
    assert "\x1b[" not in out
    lines = out.splitlines()
    assert len(lines) == 2 + len(ws.questions)
    assert all(line.startswith("|") for line in lines)
    # never wrapped: a title over 80 characters is cut on its row's line
    title = ws.questions[0].title
    assert any((title if len(title) <= 80 else title[:79] + "…") in line for line in lines)


@pytest.mark.parametrize("width", [80, 100, 160])
def test_explanation_fits_a_terminal(synthetic, width):
    ws, rep = synthetic
    tty = _console(force_terminal=True, width=width, no_color=True)
    show(tty, explanation(_explanation(ws, rep), tty, rep.drivers))
    out = re.sub(r"\x1b\[[0-9;]*m", "", tty.file.getvalue())
    header = next(line for line in out.splitlines() if "Evidence" in line)
    assert header.rstrip().endswith("Without")  # the last column is not cropped
    assert max(len(line) for line in out.splitlines()) <= width
    for item in ("e1", "e2", "e3", "e4"):
        assert re.search(rf"\b{item}\b", out)


def test_since_previous_and_change_from_prior_are_named_apart(tmp_path):
    # the synthetic previous run was 8 points lower on the first question
    ws, rep = report(tmp_path)
    first = rep.forecasts.iloc[0]
    assert first["since_previous"] == pytest.approx(0.08)
    assert first["change_from_prior"] == pytest.approx(first["posterior"] - first["prior"])
    assert "change" not in rep.forecasts.columns  # no bare "change" that could mean either
    pipe = _console(force_terminal=False, width=80)
    show(pipe, forecast_table(rep, pipe))
    header, _, row = pipe.file.getvalue().splitlines()[:3]
    cells = [c.strip() for c in header.split("|")]
    assert "Since previous" in cells and "Change" not in cells
    assert [c.strip() for c in row.split("|")][cells.index("Since previous")] == "+8.0 pts"
