"""User text reaches the screen as written, and piped tables keep their numbers.

Titles, summaries, names and paths go through Rich: nothing in them may be
read as markup (``[bold]``) or as an emoji code (``:100:`` in
``path:100:``). Off a terminal, a table row is one line: text is cut with
an ellipsis, numbers are never cut, however long the text.
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import write_workspace
from typer.testing import CliRunner

from forecast.cli import app
from forecast.report.tables import pct, points

runner = CliRunner()
ANSI = re.compile(r"\x1b\[[0-9;]*m")

MARKUP = "[bold]loud[/bold] :smile: :100: [red]x"
LONG = "word " * 1000  # 5,000 characters

FILES = {
    "priors/questions.yaml": f"""\
questions:
  - id: deal
    title: "A deal {MARKUP}"
  - id: visit
    title: A visit happens
""",
    "priors/ana.yaml": "analyst: Ana\npriors:\n  deal: {p: 0.3, lo: 0.1, hi: 0.6}\n"
    "  visit: {p: 0.5, lo: 0.3, hi: 0.7}\n",
    "evidence/sources.csv": "id,name,reliability\nwire,A wire service,1\n",
    "evidence/items.csv": (
        "id,date,bears_on,source,strength,credibility,cluster,summary,citation\n"
        f'E001,2026-07-04,deal,wire,3,1,,"Talks {MARKUP}",Wire\n'
    ),
    "forecast.toml": '[model]\npooling = "direct"\ncoding_sd = 0\n[sampler]\ndraws = 200\n'
    "chains = 2\nseed = 5\n",
}


def _terminal(width: int = 160) -> dict[str, str]:
    """Environment under which Rich treats CliRunner's output as a terminal."""
    return {"FORCE_COLOR": "1", "COLUMNS": str(width), "NO_COLOR": ""}


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return write_workspace(tmp_path_factory.mktemp("plain") / "ws", FILES)


def test_path_line_is_never_an_emoji(tmp_path):
    rows = [f"E{n:03},2026-07-04,deal,wire,3,1,,Item {n},Wire" for n in range(1, 130)]
    rows[98] = "E099,2026-07-04,nowhere,wire,3,1,,Item 99,Wire"  # line 100 of the file
    files = {**FILES, "evidence/items.csv": FILES["evidence/items.csv"].split("\n")[0] + "\n"
             + "\n".join(rows) + "\n"}  # fmt: skip
    root = write_workspace(tmp_path / "ws", files)
    for env in ({}, _terminal(100)):
        result = runner.invoke(app, ["validate", str(root)], env=env)
        assert result.exit_code == 2
        err = ANSI.sub("", result.stderr)
        assert "evidence/items.csv:100: " in err, err
        assert "💯" not in err


def test_markup_and_emoji_codes_in_user_text_print_literally(ws):
    for env in ({}, _terminal()):
        result = runner.invoke(app, ["explain", "deal", "-w", str(ws)], env=env)
        assert result.exit_code == 0, result.output
        out = ANSI.sub("", result.stdout)
        assert out.count(MARKUP) >= 2, out  # the title and the summary, as written
        assert "😄" not in out and "💯" not in out
        result = runner.invoke(app, ["report", str(ws), "--no-files"], env=env)
        assert result.exit_code == 0, result.output
        out = ANSI.sub("", result.stdout)
        assert MARKUP in out.replace("\n", "") or f"A deal {MARKUP}"[:30] in out, out
        assert "😄" not in out and "💯" not in out
    joint = runner.invoke(app, ["joint", "deal", "visit", "-w", str(ws)])
    assert f"A = deal: A deal {MARKUP}" in joint.stdout
    # an error echoing the user's value, and the value in the file's location
    bad = runner.invoke(
        app,
        ["evidence", "add", str(ws), "--bears-on", "x:100:", "--source", "wire",
         "--strength", "3", "--credibility", "1", "--summary", MARKUP],
    )  # fmt: skip
    assert bad.exit_code == 2
    assert "x:100:" in bad.stderr and "💯" not in bad.stderr


def test_consoles_print_markup_and_emoji_codes_as_text(capsys):
    from forecast.cli._app import stderr, stdout

    stdout().print("a.csv:100: " + MARKUP)
    stderr().print("b.csv:1234: " + MARKUP, style="red")
    captured = capsys.readouterr()
    assert captured.out.strip() == "a.csv:100: " + MARKUP
    assert captured.err.strip() == "b.csv:1234: " + MARKUP


# --- piped output with very long text ------------------------------------------------

WIDTH = 300  # the widest a plain table line may be, whatever the text


@pytest.fixture(scope="module")
def long_ws(tmp_path_factory):
    files = {
        **FILES,
        "priors/questions.yaml": f"questions:\n  - id: deal\n    title: {LONG}\n"
        f"  - id: visit\n    title: {LONG}\n",
        "priors/ana.yaml": f"analyst: {LONG}\n" + FILES["priors/ana.yaml"].split("\n", 1)[1],
        "evidence/items.csv": (
            "id,date,bears_on,source,strength,credibility,cluster,summary,citation\n"
            f"E001,2026-07-04,deal,wire,3,1,,{LONG},Wire\n"
            f"E002,2026-07-04,deal,wire,1/2,1,,{LONG},Wire\n"
        ),
    }
    return write_workspace(tmp_path_factory.mktemp("long") / "ws", files)


def _lines_fit(out: str) -> list[str]:
    lines = out.splitlines()
    assert lines
    assert max(len(line) for line in lines) <= WIDTH, max(len(line) for line in lines)
    return lines


def test_piped_explain_keeps_numbers_whole_and_cuts_text(long_ws):
    result = runner.invoke(app, ["explain", "deal", "-w", str(long_ws)])
    assert result.exit_code == 0, result.output
    lines = _lines_fit(result.stdout)
    data = json.loads(runner.invoke(app, ["explain", "deal", "-w", str(long_ws), "--json"]).stdout)
    for row in data["evidence"]:
        line = next(x for x in lines if re.match(rf"\|\s*\d+\s*\|\s*{row['id']}\b", x))
        assert pct(row["prob_without"]) in line, line
        assert points(row["prob_shift"]) in line, line
        assert "word word…" in line  # the summary, cut
    assert "|" in lines[0] or any("Evidence" in x for x in lines)


def test_piped_report_keeps_numbers_whole_and_cuts_text(long_ws):
    result = runner.invoke(app, ["report", str(long_ws), "--no-files"])
    assert result.exit_code == 0, result.output
    lines = _lines_fit(result.stdout)
    data = json.loads(runner.invoke(app, ["report", str(long_ws), "--json"]).stdout)
    for q in data["questions"]:
        line = next(x for x in lines if f"| {q['id']} " in x)
        assert f"{pct(q['prior'])} → {pct(q['posterior'])}" in line, line
        assert "word word…" in line


@pytest.mark.parametrize(
    "args",
    [["priors", "{ws}"], ["joint", "deal", "visit", "-w", "{ws}"],
     ["whatif", "{ws}", "--bears-on", "deal", "--strength", "2"], ["run", "{ws}"]],
)  # fmt: skip
def test_other_piped_tables_fit_and_keep_their_numbers(long_ws, args):
    result = runner.invoke(app, [a.format(ws=long_ws) for a in args])
    assert result.exit_code == 0, result.output
    lines = _lines_fit(result.stdout)
    # every percentage printed is whole: digits, a point, a digit, a percent sign
    cells = re.findall(r"\d+(?:\.\d)?%", result.stdout)
    assert len(cells) >= 4, result.stdout
    assert not any(re.search(r"\d…|…%", line) for line in lines)
    # long text is cut on its row's line, not wrapped onto lines of its own
    assert all("…" in line for line in lines if "word word" in line), result.stdout


def test_pytensor_blas_warning_is_silenced_in_the_cli_and_only_it(tmp_path):
    import subprocess
    import sys

    root = write_workspace(tmp_path / "ws", FILES)
    script = """
import warnings
from typer.testing import CliRunner
from forecast.cli import app
{setup}
import pytensor
pytensor.config.blas__ldflags  # computed on first use: warns when no BLAS is found
# what it says where no BLAS is found (emitted here too, for machines that have one)
warnings.warn("PyTensor could not link to a BLAS installation. Operations ...", UserWarning)
warnings.warn("another warning", UserWarning)
"""
    setup = f"CliRunner().invoke(app, ['validate', {str(root)!r}])"
    base = subprocess.run([sys.executable, "-c", script.format(setup="")],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    cli = subprocess.run([sys.executable, "-c", script.format(setup=setup)],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert base.returncode == 0 and cli.returncode == 0, base.stderr + cli.stderr
    assert "could not link to a BLAS" in base.stderr
    assert "could not link to a BLAS" not in cli.stderr
    assert "another warning" in cli.stderr  # only that one warning is silenced
