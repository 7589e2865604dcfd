"""`forecast history`: runs in order, what changed between them, the timeline plot."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import write_workspace
from test_ledger import fake_run
from trackfiles import TRACK_FILES
from typer.testing import CliRunner

from forecast.cli import app
from forecast.history import question_history, sparkline, timeline
from forecast.ledger import open_ledger, record_run
from forecast.workspace import load_workspace

runner = CliRunner()


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_history_says_what_changed_between_runs(tmp_path):
    root = write_workspace(tmp_path / "ws", TRACK_FILES)
    record_run(
        load_workspace(root), fake_run("r1", "2026-07-05T09:00:00+00:00", {"deal": (0.3, 0.5)})
    )
    # evidence E003 added on deal, E001 removed; Ana edits her prior on deal
    _edit(
        root,
        "evidence/items.csv",
        "E001,2026-07-04,deal,wire,3,1,,Talks resumed.,Wire 2026-07-04\n",
        "",
    )
    with (root / "evidence/items.csv").open("a") as fh:
        fh.write("E003,2026-07-08,deal,wire,2,1,,Drafts swapped.,Wire\n")
    _edit(
        root,
        "priors/ana.yaml",
        "deal: {p: 0.3, lo: 0.1, hi: 0.6}",
        "deal: {p: 0.35, lo: 0.1, hi: 0.6}",
    )
    record_run(
        load_workspace(root), fake_run("r2", "2026-07-09T09:00:00+00:00", {"deal": (0.35, 0.6)})
    )
    assert (
        runner.invoke(
            app, ["resolve", "deal", "yes", "--date", "2026-07-20", "-w", str(root)]
        ).exit_code
        == 0
    )
    record_run(
        load_workspace(root), fake_run("r3", "2026-07-21T09:00:00+00:00", {"deal": (0.35, 0.9)})
    )

    with open_ledger(root) as led:
        h = question_history(led, load_workspace(root), "deal")
    assert [s.run_id for s in h.steps] == ["r1", "r2", "r3"]
    first, second, third = h.steps
    assert first.change_text == ""
    assert second.evidence_added == ("E003",) and second.evidence_removed == ("E001",)
    assert second.priors_changed == ("Ana: p=0.3 (90% in 0.1-0.6) -> p=0.35 (90% in 0.1-0.6)",)
    assert third.resolution_change == "resolved yes" and third.outcome == "yes"
    assert [e.id for e in h.evidence] == ["E003"]
    assert [(r.outcome, str(r.date)) for r in h.resolutions] == [("yes", "2026-07-20")]

    out = runner.invoke(app, ["history", "deal", "-w", str(root), "--json"])
    assert out.exit_code == 0, out.output
    runs = json.loads(out.stdout)["questions"][0]["runs"]
    assert [r["forecast"] for r in runs] == [0.5, 0.6, 0.9]
    assert runs[1]["evidence_added"] == ["E003"]
    text = runner.invoke(app, ["history", "-w", str(root), "--plot", str(tmp_path / "plots")])
    assert text.exit_code == 0, text.output
    assert "+E003" in text.output and "-E001" in text.output and "r3" in text.output
    # the text timeline: runs, evidence dates and the resolution in time order, each
    # run drawn on a 0-100 % strip (one character per 5 points), 80 columns, plain
    assert "\x1b[" not in text.stdout and max(map(len, text.stdout.splitlines())) <= 80
    deal = runner.invoke(app, ["history", "deal", "-w", str(root)])
    rows = [line for line in deal.stdout.splitlines() if line.startswith(("r", "2026-"))]
    assert [r.split()[0] for r in rows] == ["r1", "2026-07-08", "r2", "2026-07-20", "r3"]
    assert rows[1].split()[1:] == ["evidence", "▲", "E003"]  # a likelihood ratio of 2: for
    # r2: prior 0.35 -> cell 7, forecast 0.6 -> 12, interval 0.3-0.8 -> cells 6 to 16
    assert rows[2].split() == ["r2", "35%", "60%", "30–80%", "······━○━━━━●━━━━····", "+10.0"]
    assert rows[3].split()[1:3] == ["resolved", "yes,"]  # then when it was recorded
    png = (tmp_path / "plots" / "timeline-deal.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    fig = timeline(h)
    ax = fig.axes[0]
    assert [round(y, 2) for y in ax.lines[0].get_ydata()] == [0.5, 0.6, 0.9]


def test_history_of_an_unknown_question_and_an_empty_ledger(tmp_path):
    root = write_workspace(tmp_path / "ws", TRACK_FILES)
    bad = runner.invoke(app, ["history", "dael", "-w", str(root)])
    assert bad.exit_code == 2 and "unknown question 'dael'" in bad.output
    empty = runner.invoke(app, ["history", "-w", str(root)])
    assert empty.exit_code == 0 and "deal: no run recorded yet" in empty.output
    assert not (root / ".forecast").exists()  # reading history creates nothing


def test_sparkline_is_on_a_fixed_scale():
    assert sparkline([0.0, 0.5, 0.99, float("nan")]) == "▁▅█ "


def test_the_track_record_section_has_its_figures_and_summary(tmp_path):
    from forecast.report.track import RELIABILITY, build_track_record, timeline_path

    root = write_workspace(tmp_path / "ws", TRACK_FILES)
    ws = load_workspace(root)
    record_run(ws, fake_run("r1", "2026-07-05T09:00:00+00:00", {"deal": (0.3, 0.8)}))
    assert runner.invoke(app, ["resolve", "deal", "no", "--date", "2026-07-20", "-w", str(root)])
    ws = load_workspace(root)
    with open_ledger(root) as led:
        track = build_track_record(ws, led)
    assert track.resolved == 1
    # model 0.8 against a no: 0.64; Ana's 0.3: 0.09
    assert (
        track.summary_line()
        == "1 resolved question scored; Brier model 0.640, mean 0.090, median 0.090"
    )
    figures = track.figures(dpi=60)
    assert set(figures) == {
        RELIABILITY,
        timeline_path("deal"),
        timeline_path("visit"),
        timeline_path("strike"),
    }
    assert all(png.startswith(b"\x89PNG") for png in figures.values())
