"""`forecast validate`, `forecast init`, `forecast evidence add` through the CLI."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import MINIMAL_FILES
from typer.testing import CliRunner

from forecast.cli import app, workspace_cmds
from forecast.codebook import DEFAULT_CODING_SD
from forecast.workspace import EVIDENCE_COLUMNS, Settings, load_workspace

REPO = Path(__file__).resolve().parents[1]
EV = "evidence/summit.csv"


def run(*args: str, **kwargs):
    return CliRunner().invoke(app, [str(a) for a in args], **kwargs)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root``, path -> bytes (but the empty workspace lock file)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root) != Path(".forecast", "lock")
    }


# --- validate ----------------------------------------------------------------------------


def test_validate_shipped_workspace():
    """The workspace at the repository root passes (it is the example users run first)."""
    if not (REPO / "priors/questions.yaml").exists():  # pragma: no cover - always shipped
        pytest.fail("the repository ships priors/questions.yaml")
    result = run("validate", REPO)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: ")
    ws = load_workspace(REPO)
    assert len(ws.questions) >= 1 and len(ws.evidence) >= 1


def test_validate_defaults_to_current_folder(minimal_workspace, monkeypatch):
    monkeypatch.chdir(minimal_workspace)
    result = run("validate")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: 2 questions, 2 drivers, 2 analysts, 3 sources")


def test_validate_singulars(minimal_workspace):
    (minimal_workspace / "priors/omar.yaml").unlink()
    (minimal_workspace / EV).write_text(
        MINIMAL_FILES[EV].split("\n", 1)[0] + "\nE001,2026-07-05,us-leverage,wh,3,2,,s,c\n"
    )
    result = run("validate", minimal_workspace)
    assert result.stdout == (
        "ok: 2 questions, 2 drivers, 1 analyst, 3 sources, 1 evidence item (1 cluster)\n"
    )


def test_validate_error_has_no_traceback(minimal_workspace):
    (minimal_workspace / "priors/questions.yaml").write_bytes(b"\xff\xfe")
    result = run("validate", minimal_workspace)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.stderr.startswith("priors/questions.yaml:1: byte 0xff")


def test_fast_start_imports_no_heavy_libraries(minimal_workspace):
    code = f"""
import json, sys
from typer.testing import CliRunner
from forecast.cli import app
r = CliRunner().invoke(app, ["--help"])
assert r.exit_code == 0, r.output
r = CliRunner().invoke(app, ["validate", {str(minimal_workspace)!r}])
assert r.exit_code == 0, r.output
heavy = ("pymc", "arviz", "matplotlib", "pytensor", "pandas", "scipy")
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set(heavy))))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_fast_start_init(tmp_path):
    code = f"""
import json, sys
from typer.testing import CliRunner
from forecast.cli import app
r = CliRunner().invoke(app, ["init", {str(tmp_path / "ws")!r}])
assert r.exit_code == 0, r.output
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}}
                        & {{"pymc", "arviz", "matplotlib", "pytensor"}})))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


# --- init --------------------------------------------------------------------------------


def test_init_creates_a_valid_workspace(tmp_path):
    target = tmp_path / "new" / "ws"
    result = run("init", target)
    assert result.exit_code == 0, result.output
    for rel in (
        "priors/questions.yaml",
        "priors/example-analyst.yaml",
        "evidence/sources.csv",
        "evidence/evidence.csv",
        "evidence/README.md",
        "forecast.toml",
    ):
        assert (target / rel).is_file(), rel
        assert rel in result.stdout
    check = run("validate", target)
    assert check.exit_code == 0, check.output
    assert check.stderr == ""  # not even a warning
    ws = load_workspace(target)
    assert 1 <= len(ws.questions) <= 2 and len(ws.drivers) >= 1
    assert len(ws.analysts) == 1 and len(ws.evidence) >= 2


def test_init_files_explain_their_fields(tmp_path):
    run("init", tmp_path)
    questions = (tmp_path / "priors/questions.yaml").read_text()
    for field in ("id", "title", "resolution_criteria", "close_date", "drivers", "resolution"):
        assert f"#   {field}" in questions or f"# {field}" in questions, field
    analyst = (tmp_path / "priors/example-analyst.yaml").read_text()
    for form in ("{p:", "lo:", "{beta:", "confidence:", "{estimate:"):
        assert any(line.startswith("#") and form in line for line in analyst.splitlines()), form
    readme = (tmp_path / "evidence/README.md").read_text()
    for column in (*EVIDENCE_COLUMNS, "reliability", "verified", "refuted"):
        assert f"`{column}`" in readme, column
    toml = (tmp_path / "forecast.toml").read_text()
    for key in ("pooling", "coding_sd", "draws", "chains", "tune", "seed", "target_accept"):
        assert key in toml
        assert "#" in toml
    for table in ("strengths", "grades", "credibility", "words", "confidence_sd"):
        assert f"# [codebook.{table}]" in toml
    assert f"# coding_sd = {DEFAULT_CODING_SD:g}" in toml  # the default it names is the real one


def test_init_toml_states_the_defaults(tmp_path):
    """Every active setting in the starter equals the default, except the pooling choice."""
    run("init", tmp_path)
    data = tomllib.loads((tmp_path / "forecast.toml").read_text())
    defaults = Settings()
    for table in data.values():
        for key, value in table.items():
            if key != "pooling":
                assert getattr(defaults, key) == value, key


@pytest.mark.parametrize("existing", ["priors", "evidence"])
def test_init_refuses_an_existing_workspace(tmp_path, existing):
    (tmp_path / existing).mkdir()
    (tmp_path / existing / "keep.txt").write_text("mine")
    before = snapshot(tmp_path)
    result = run("init", tmp_path)
    assert result.exit_code == 2
    assert f"already holds {existing}" in result.stderr
    assert snapshot(tmp_path) == before


def test_init_never_overwrites_forecast_toml(tmp_path):
    (tmp_path / "forecast.toml").write_text("[sampler]\ndraws = 5\n")
    result = run("init", tmp_path)
    assert result.exit_code == 2
    assert (tmp_path / "forecast.toml").read_text() == "[sampler]\ndraws = 5\n"
    assert not (tmp_path / "priors").exists()


def test_init_twice_refuses(tmp_path):
    assert run("init", tmp_path).exit_code == 0
    before = snapshot(tmp_path)
    assert run("init", tmp_path).exit_code == 2
    assert snapshot(tmp_path) == before


def test_init_on_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    result = run("init", tmp_path / "f")
    assert result.exit_code == 2 and "is a file" in result.stderr


# --- evidence add ------------------------------------------------------------------------

GOOD = [
    "--bears-on", "mou-survives", "--source", "reuters", "--strength", "weak-against",
    "--credibility", "2", "--date", "2026-07-08", "--summary", "Tehran hints at exit.",
    "--citation", "Reuters, 8 July",
]  # fmt: skip


def test_evidence_add_appends_and_prints_the_id(minimal_workspace):
    before = (minimal_workspace / EV).read_bytes()
    result = run("evidence", "add", minimal_workspace, *GOOD)
    assert result.exit_code == 0, result.output
    assert result.stdout == "E005\n"
    after = (minimal_workspace / EV).read_bytes()
    assert after.startswith(before)
    assert after[len(before) :] == (
        b"E005,2026-07-08,mou-survives,reuters,weak-against,2,,Tehran hints at exit.,"
        b'"Reuters, 8 July"\n'
    )
    e = load_workspace(minimal_workspace).evidence[-1]
    assert (e.id, e.ratio, e.cluster, e.line) == ("E005", 1 / 2.5, "E005", 6)


def test_evidence_add_quotes_awkward_text(minimal_workspace):
    summary = 'He said "no", then\nsaid yes, twice'
    args = [*GOOD[:-4], "--summary", summary, "--citation", "a,b"]
    result = run("evidence", "add", minimal_workspace, *args)
    assert result.exit_code == 0, result.output
    e = load_workspace(minimal_workspace).evidence[-1]
    assert (e.summary, e.citation) == (summary, "a,b")


def test_evidence_add_keeps_crlf_and_adds_a_missing_final_newline(minimal_workspace):
    path = minimal_workspace / EV
    original = MINIMAL_FILES[EV].replace("\n", "\r\n").rstrip("\r\n").encode()
    path.write_bytes(original)
    result = run("evidence", "add", minimal_workspace, *GOOD)
    assert result.exit_code == 0, result.output
    data = path.read_bytes()
    assert data.startswith(original + b"\r\n")
    assert data.endswith(b'"Reuters, 8 July"\r\n')
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_evidence_add_follows_the_column_order(minimal_workspace):
    path = minimal_workspace / EV
    path.write_text(
        "summary,id,date,bears_on,source,strength,credibility,citation\n"
        "Old.,ev-07,2026-07-01,us-leverage,wh,3,2,x\n"
    )
    result = run("evidence", "add", minimal_workspace, *GOOD)
    assert result.exit_code == 0, result.output
    assert result.stdout == "ev-08\n"
    last = path.read_text().splitlines()[-1]
    assert last == (
        "Tehran hints at exit.,ev-08,2026-07-08,mou-survives,reuters,weak-against,2,"
        '"Reuters, 8 July"'
    )


def test_evidence_add_date_defaults_to_today(minimal_workspace):
    args = [a for a in GOOD if a not in ("--date", "2026-07-08")]
    assert run("evidence", "add", minimal_workspace, *args).exit_code == 0
    assert load_workspace(minimal_workspace).evidence[-1].date == dt.date.today()


def test_evidence_add_joins_a_cluster(minimal_workspace):
    args = [*GOOD]
    args[args.index("mou-survives")] = "lebanon-withdrawal"
    args[args.index("weak-against")] = "0.25"
    result = run("evidence", "add", minimal_workspace, *args, "--cluster", "north")
    assert result.exit_code == 0, result.output
    assert load_workspace(minimal_workspace).evidence[-1].cluster == "north"


def test_evidence_add_creates_evidence_csv_when_there_is_none(minimal_workspace):
    (minimal_workspace / EV).unlink()
    result = run("evidence", "add", minimal_workspace, *GOOD)
    assert result.exit_code == 0, result.output
    assert result.stdout == "E001\n"
    lines = (minimal_workspace / "evidence/evidence.csv").read_text().splitlines()
    assert lines[0] == ",".join(EVIDENCE_COLUMNS)
    assert lines[1].startswith("E001,2026-07-08,mou-survives,")


def test_evidence_add_to_a_named_new_file(minimal_workspace):
    result = run("evidence", "add", minimal_workspace, *GOOD, "--file", "later.csv")
    assert result.exit_code == 0, result.output
    assert result.stdout == "E005\n"  # ids are numbered across files
    assert load_workspace(minimal_workspace).evidence[0].path == "evidence/later.csv"


def test_evidence_add_picks_the_largest_file(minimal_workspace):
    small = minimal_workspace / "evidence/a-small.csv"
    small.write_text(
        MINIMAL_FILES[EV].split("\n", 1)[0] + "\nE010,2026-07-01,us-leverage,wh,3,2,,s,c\n"
    )
    before = small.read_bytes()
    result = run("evidence", "add", minimal_workspace, *GOOD)
    assert result.exit_code == 0, result.output
    assert result.stdout == "E011\n"
    assert small.read_bytes() == before
    assert (minimal_workspace / EV).read_text().splitlines()[-1].startswith("E011,")


@pytest.mark.parametrize("file", ["sources.csv", "notes.txt", "../x.csv", "evidence/sub/x.csv"])
def test_evidence_add_rejects_a_bad_file_name(minimal_workspace, file):
    before = snapshot(minimal_workspace)
    result = run("evidence", "add", minimal_workspace, *GOOD, "--file", file)
    assert result.exit_code == 2
    assert "--file" in result.stderr
    assert snapshot(minimal_workspace) == before


def swap(args: list[str], option: str, value: str | None) -> list[str]:
    """``args`` with ``option`` given ``value`` (None: the option left out)."""
    out = list(args)
    if option in out:
        i = out.index(option)
        del out[i : i + 2]
    return out if value is None else [*out, option, value]


BAD = [
    ("unknown-target", swap(GOOD, "--bears-on", "mou"), ":6 (the new row): bears_on 'mou'"),
    ("unknown-source", swap(GOOD, "--source", "cnn"), ":6 (the new row): source 'cnn'"),
    ("bad-strength", swap(GOOD, "--strength", "big"), "unknown strength 'big'"),
    ("zero-ratio", swap(GOOD, "--strength", "0"), "'0' is not positive"),
    ("bad-credibility", swap(GOOD, "--credibility", "7"), "credibility '7'"),
    ("bad-date", swap(GOOD, "--date", "8 July"), "'8 July' is not a date"),
    ("cluster-conflict", [*GOOD, "--cluster", "north"], "cluster 'north': E005 bears on"),
    ("missing-source", swap(GOOD, "--source", None), "missing --source"),
    ("missing-everything", [], "missing --bears-on, --source, --strength, --credibility"),
    ("blank-summary", swap(GOOD, "--summary", "  "), "missing --summary"),
]


@pytest.mark.parametrize(("args", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_evidence_add_bad_input_changes_nothing(minimal_workspace, args, message):
    before = snapshot(minimal_workspace)
    result = run("evidence", "add", minimal_workspace, *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert snapshot(minimal_workspace) == before


def test_evidence_add_refuses_when_the_workspace_is_already_broken(minimal_workspace):
    path = minimal_workspace / "priors/omar.yaml"
    path.write_text("priors:\n  lebanon-withdrawal: {p: 2, confidence: low}\n")
    before = snapshot(minimal_workspace)
    result = run("evidence", "add", minimal_workspace, *GOOD)
    assert result.exit_code == 2
    assert "priors/omar.yaml:2: " in result.stderr
    assert snapshot(minimal_workspace) == before


def test_evidence_add_new_row_in_a_crlf_file_is_located(minimal_workspace):
    path = minimal_workspace / EV
    path.write_bytes(MINIMAL_FILES[EV].replace("\n", "\r\n").encode())
    before = snapshot(minimal_workspace)
    result = run("evidence", "add", minimal_workspace, *swap(GOOD, "--credibility", "9"))
    assert result.exit_code == 2
    assert f"{EV}:6 (the new row): credibility '9'" in result.stderr
    assert snapshot(minimal_workspace) == before


def test_evidence_add_prompts_on_a_terminal(minimal_workspace, monkeypatch):
    monkeypatch.setattr(workspace_cmds, "_interactive", lambda: True)
    answers = "mou-survives\nreuters\nweak-against\n2\nTehran hints at exit.\nReuters\n"
    result = run("evidence", "add", minimal_workspace, "--date", "2026-07-08", input=answers)
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith("E005")
    e = load_workspace(minimal_workspace).evidence[-1]
    assert (e.bears_on, e.source, e.ratio, e.credibility) == ("mou-survives", "reuters", 0.4, 2)
    assert (e.summary, e.citation) == ("Tehran hints at exit.", "Reuters")


def test_evidence_add_help():
    result = run("evidence", "add", "--help")
    assert result.exit_code == 0
    for option in ("--bears-on", "--source", "--strength", "--credibility", "--date",
                   "--cluster", "--summary", "--citation", "--file"):  # fmt: skip
        assert option in result.stdout
