"""`forecast validate`: every rule, fed a bad file through the CLI.

Each case edits one file of the minimal workspace (``tests/conftest.py``,
whose line numbers the cases name) and expects exit status 2 and a message
``path:line: ...`` that says what was found.
"""

from __future__ import annotations

import pytest
from conftest import MINIMAL_FILES, write_workspace
from typer.testing import CliRunner

from forecast.cli import app
from forecast.errors import WorkspaceError
from forecast.workspace import load_workspace

Q = "priors/questions.yaml"
DANA = "priors/dana-levi.yaml"
OMAR = "priors/omar.yaml"
SRC = "evidence/sources.csv"
EV = "evidence/summit.csv"
TOML = "forecast.toml"
HEADER = "id,date,bears_on,source,strength,credibility,cluster,summary,citation"
DELETE = object()

# (case id, file, text to replace (None: the whole file), replacement
#  (str, bytes, or DELETE), expected "path:line" (or "path" for a missing file),
#  expected fragment of the message)
CASES = [
    # --- syntax ---
    ("yaml-syntax-questions", Q, "title: US leverage over Israel",
     "title: US leverage: over Israel", f"{Q}:14", "YAML syntax error"),
    ("yaml-syntax-analyst", DANA, "us-leverage: likely", "us-leverage: likely: very",
     f"{DANA}:5", "YAML syntax error"),
    ("yaml-unclosed-flow", OMAR, "confidence: low}", "confidence: low",
     f"{OMAR}:3", "YAML syntax error"),
    ("yaml-python-tag-not-run", DANA, "us-leverage: likely",
     "us-leverage: !!python/object/apply:os.system [echo hi]", f"{DANA}:5", "not allowed"),
    ("yaml-not-a-mapping", Q, None, "- just\n- a list\n", f"{Q}:1", "found [just, a list]"),
    ("csv-syntax-evidence", EV, "Cabinet calls it a risk.", '"Cabinet" calls it a risk.',
     f"{EV}:4", "CSV syntax error"),
    ("csv-unclosed-quote", EV, "Israel rejects a pull-back.", '"Israel rejects a pull-back.',
     f"{EV}:3", "never closed"),
    ("csv-syntax-sources", SRC, '"Reuters, wire"', '"Reuters" wire', f"{SRC}:3",
     "CSV syntax error"),
    ("toml-syntax", TOML, "draws = 200", "draws == 200", f"{TOML}:5", "TOML syntax error"),
    ("toml-duplicate-key", TOML, "chains = 2", "chains = 2\nchains = 3", f"{TOML}:7",
     "TOML syntax error"),
    ("csv-wrong-field-count", EV, ",Axios", ",Axios,extra", f"{EV}:5",
     "found 10 fields, expected 9"),
    ("csv-too-few-fields", SRC, "poll,Opinion poll,0.75,,", "poll,Opinion poll", f"{SRC}:4",
     "found 2 fields, expected 5"),
    # --- empty files ---
    ("empty-questions", Q, None, "", f"{Q}:1", "file is empty"),
    ("blank-questions", Q, None, "  \n\n", f"{Q}:1", "file is empty"),
    ("comments-only-questions", Q, None, "# nothing yet\n", f"{Q}:1", "only comments"),
    ("empty-analyst", OMAR, None, "", f"{OMAR}:1", "file is empty"),
    ("empty-evidence", EV, None, "", f"{EV}:1", "file is empty"),
    ("empty-sources", SRC, None, "\n", f"{SRC}:1", "file is empty"),
    ("empty-toml", TOML, None, "", f"{TOML}:1", "file is empty"),
    # --- not UTF-8 ---
    ("utf8-questions", Q, "Regional escalation", b"R\xe9gional escalation", f"{Q}:16",
     "byte 0xe9 at column 13 is not UTF-8"),
    ("utf8-analyst", DANA, "Dana Levi", b"Dana L\xe9vi", f"{DANA}:1", "not UTF-8"),
    ("utf8-evidence", EV, "Axios", b"Axi\xf3s", f"{EV}:5", "not UTF-8"),
    ("utf8-sources", SRC, "White House", b"White H\xf6use", f"{SRC}:2", "not UTF-8"),
    ("utf8-toml", TOML, "weak = 2.5", b"weak = 2.5 # \xff", f"{TOML}:8", "not UTF-8"),
    # --- missing files ---
    ("missing-questions", Q, None, DELETE, f"{Q}: missing", "priors/questions.yaml"),
    ("missing-sources", SRC, None, DELETE, f"{SRC}: missing", "evidence cites sources"),
    # --- ids ---
    ("duplicate-question-id", Q, "id: mou-survives", "id: lebanon-withdrawal", f"{Q}:7",
     "duplicate id 'lebanon-withdrawal'"),
    ("driver-id-collides-with-question", Q, "id: regional-escalation", "id: mou-survives",
     f"{Q}:15", "already the id of the question at line 7"),
    ("duplicate-driver-id", Q, "id: regional-escalation", "id: us-leverage", f"{Q}:15",
     "duplicate id 'us-leverage'"),
    ("missing-question-id", Q, "  - id: mou-survives\n    title:", "  - title:", f"{Q}:7",
     "missing id"),
    ("missing-title", Q, "    title: Regional escalation\n", "", f"{Q}:15", "missing title"),
    ("duplicate-source-id", SRC, "poll,Opinion", "wh,Opinion", f"{SRC}:4",
     "duplicate source id 'wh' (first at line 2)"),
    ("duplicate-evidence-id", EV, "E003,", "E002,", f"{EV}:4", "duplicate evidence id 'E002'"),
    ("duplicate-evidence-id-across-files", "evidence/zz.csv", None,
     f"{HEADER}\nE001,2026-07-09,mou-survives,wh,weak-for,2,,s,c\n", "evidence/zz.csv:2",
     "first at evidence/summit.csv:2"),
    ("analyst-key-unknown-target", DANA, "us-leverage: likely", "us-leverag: likely",
     f"{DANA}:5", "unknown question or driver 'us-leverag' (did you mean 'us-leverage'?)"),
    ("analyst-duplicate-key", OMAR, "low}\n", "low}\n  lebanon-withdrawal: likely\n",
     f"{OMAR}:3", "duplicate key 'lebanon-withdrawal' (first at line 2)"),
    ("analyst-duplicate-name", OMAR, "priors:", "analyst: Dana Levi\npriors:", f"{OMAR}:1",
     "already has a file: priors/dana-levi.yaml"),
    ("analyst-unknown-key", OMAR, "priors:", "prior:", f"{OMAR}:1", "unknown key 'prior'"),
    ("question-unknown-key", Q, "close_date: 2026-10-31", "close-date: 2026-10-31", f"{Q}:5",
     "unknown question key 'close-date' (did you mean 'close_date'?)"),
    ("top-level-unknown-key", Q, "drivers:\n  - id: us", "driver:\n  - id: us", f"{Q}:12",
     "unknown top-level key 'driver'"),
    ("statement-unknown-key", DANA, "level: 0.8", "levl: 0.8", f"{DANA}:3",
     "unknown key 'levl' (did you mean 'level'?); allowed keys: p, lo, hi, level"),
    ("toml-unknown-section", TOML, "[sampler]", "[samplr]", f"{TOML}:4",
     "unknown section [samplr] (did you mean 'sampler'?)"),
    ("toml-unknown-key", TOML, "draws = 200", "draw = 200", f"{TOML}:5",
     "unknown key 'draw' in [sampler]"),
    ("toml-unknown-codebook-table", TOML, "[codebook.strengths]", "[codebook.strength]",
     f"{TOML}:7", "unknown key 'strength' in [codebook]"),
    ("csv-unknown-column", EV, "summary,citation", "summary,cite", f"{EV}:1",
     "unknown column 'cite'"),
    ("csv-missing-column", EV, "bears_on,source,", "bears_on,", f"{EV}:1",
     "missing column 'source'"),
    ("csv-duplicate-column", SRC, "verified,refuted", "verified,verified", f"{SRC}:1",
     "column 'verified' appears twice"),
    ("sources-missing-column", SRC, "name,reliability,", "name,", f"{SRC}:1",
     "missing column 'reliability'"),
    # --- slugs ---
    ("question-id-not-slug", Q, "id: lebanon-withdrawal", "id: Lebanon_Withdrawal", f"{Q}:2",
     "'Lebanon_Withdrawal' is not a slug"),
    ("driver-id-not-slug", Q, "id: us-leverage", "id: us--leverage", f"{Q}:13",
     "'us--leverage' is not a slug"),
    ("evidence-id-not-allowed", EV, "E004,", "E 4,", f"{EV}:5", "evidence id 'E 4'"),
    ("evidence-id-missing", EV, "E004,", ",", f"{EV}:5", "missing id"),
    ("source-id-not-allowed", SRC, "poll,", "poll?,", f"{SRC}:4", "source id 'poll?'"),
    # --- references ---
    ("evidence-unknown-target", EV, "us-leverage,wh", "us-leverag,wh", f"{EV}:5",
     "bears_on 'us-leverag' is not a known question or driver"),
    ("evidence-unknown-source", EV, "us-leverage,wh,", "us-leverage,cnn,", f"{EV}:5",
     "source 'cnn' is not in evidence/sources.csv"),
    ("loading-unknown-driver", Q, "regional-escalation: -0.5", "escalation: -0.5", f"{Q}:6",
     "unknown driver 'escalation'"),
    ("loading-not-a-number", Q, "us-leverage: 0.8", "us-leverage: high", f"{Q}:6",
     "loading of 'us-leverage' must be a number"),
    ("loading-boolean", Q, "us-leverage: 0.8", "us-leverage: yes", f"{Q}:6",
     "must be a number"),
    ("loadings-not-a-mapping", Q, "drivers: {us-leverage: 0.8, regional-escalation: -0.5}",
     "drivers: [us-leverage]", f"{Q}:6", "drivers must map driver ids to loadings"),
    # --- probabilities ---
    ("p-zero", OMAR, "p: 0.6", "p: 0", f"{OMAR}:2", "p = 0 must be strictly between 0 and 1"),
    ("p-negative", OMAR, "p: 0.6", "p: -0.2", f"{OMAR}:2", "strictly between 0 and 1"),
    ("p-one", OMAR, "p: 0.6", "p: 1", f"{OMAR}:2", "p = 1 must be strictly between 0 and 1"),
    ("p-above-one", DANA, "p: 0.35", "p: 35", f"{DANA}:3", "p = 35 must be strictly"),
    ("p-not-a-number", OMAR, "p: 0.6", "p: sixty", f"{OMAR}:2", "p must be a number"),
    ("p-nan", OMAR, "p: 0.6", "p: .nan", f"{OMAR}:2", "p must be a number"),
    ("lo-not-below-hi", DANA, "lo: 0.15, hi: 0.60", "lo: 0.6, hi: 0.15", f"{DANA}:3",
     "lo = 0.6 must be below hi = 0.15"),
    ("lo-equals-hi", DANA, "p: 0.35, lo: 0.15, hi: 0.60", "p: 0.35, lo: 0.35, hi: 0.35",
     f"{DANA}:3", "must be below hi"),
    ("p-outside-interval", DANA, "p: 0.35", "p: 0.7", f"{DANA}:3",
     "p = 0.7 lies outside its interval [0.15, 0.6]"),
    ("level-above-one", DANA, "level: 0.8", "level: 1.5", f"{DANA}:3",
     "level = 1.5 must be strictly between 0 and 1"),
    ("level-zero", DANA, "level: 0.8", "level: 0", f"{DANA}:3", "level = 0"),
    ("beta-non-positive", DANA, "[6, 4]", "[6, 0]", f"{DANA}:4", "needs a > 0 and b > 0"),
    ("beta-not-a-pair", DANA, "[6, 4]", "[6]", f"{DANA}:4",
     "beta must be two numbers [a, b], e.g. [6, 4], found [6]"),
    ("beta-infinite", DANA, "[6, 4]", "[.inf, 4]", f"{DANA}:4", "found [.inf, 4]"),
    ("confidence-unknown", OMAR, "confidence: low", "confidence: sure", f"{OMAR}:2",
     "confidence 'sure' is not allowed; use high, medium, low"),
    ("estimate-unknown-word", DANA, "likely", "probably", f"{DANA}:5",
     "'probably' is not an estimative word"),
    ("estimate-confidence-unknown", DANA, "confidence: high", "confidence: total", f"{DANA}:6",
     "confidence 'total' is not allowed"),
    ("bare-number-prior", DANA, "us-leverage: likely", "us-leverage: 0.7", f"{DANA}:5",
     "'0.7' is not a prior"),
    ("incomplete-prior", OMAR, "{p: 0.6, confidence: low}", "{p: 0.6, lo: 0.4}", f"{OMAR}:2",
     "do not make a prior"),
    ("mixed-prior-forms", OMAR, "{p: 0.6, confidence: low}", "{p: 0.6, beta: [1, 2]}",
     f"{OMAR}:2", "do not make a prior"),
    # --- dates and resolutions ---
    ("close-date-format", Q, "close_date: 2026-10-31", "close_date: 31/10/2026", f"{Q}:5",
     "'31/10/2026' is not a date in the form YYYY-MM-DD"),
    ("close-date-impossible", Q, "close_date: 2026-10-31", "close_date: 2026-02-30", f"{Q}:5",
     "'2026-02-30' is not a calendar date"),
    ("close-date-quoted-bad", Q, '"2026-12-31"', '"2026-12-32"', f"{Q}:10",
     "not a calendar date"),
    ("resolution-outcome", Q, "outcome: yes", "outcome: maybe", f"{Q}:11",
     "outcome 'maybe' is not allowed; use yes, no or annulled"),
    ("resolution-outcome-missing", Q, "outcome: yes, ", "", f"{Q}:11", "missing outcome"),
    ("resolution-date", Q, "date: 2026-10-02", "date: 2026-10", f"{Q}:11",
     "resolution date: '2026-10' is not a date"),
    ("evidence-date-format", EV, "E001,2026-07-05", "E001,2026-7-5", f"{EV}:2",
     "date: '2026-7-5' is not a date in the form YYYY-MM-DD"),
    ("evidence-date-impossible", EV, "E004,2026-07-06", "E004,2026-02-30", f"{EV}:5",
     "not a calendar date"),
    ("evidence-date-missing", EV, "E004,2026-07-06", "E004,", f"{EV}:5", "date: missing"),
    # --- strengths ---
    ("strength-unknown-word", EV, "moderate-for", "moderately-for", f"{EV}:2",
     "unknown strength 'moderately-for' (did you mean 'moderate-for'?); allowed words: "
     "neutral, weak-for, weak-against, moderate-for, moderate-against, strong-for, "
     "strong-against, very-strong-for, very-strong-against"),
    ("strength-negative", EV, ",wh,3,2,", ",wh,-3,2,", f"{EV}:5", "'-3' is not positive"),
    ("strength-zero", EV, ",wh,3,2,", ",wh,0,2,", f"{EV}:5", "'0' is not positive"),
    ("strength-divide-by-zero", EV, ",reuters,1/4,", ",reuters,1/0,", f"{EV}:3",
     "divides by zero"),
    ("strength-unparsable", EV, ",wh,3,2,", ",wh,3..4,2,", f"{EV}:5", "is not a number"),
    ("strength-expression-not-evaluated", EV, ",wh,3,2,", ",wh,2**3,2,", f"{EV}:5",
     "is not a number"),
    ("strength-infinite", EV, ",wh,3,2,", ",wh,1e999,2,", f"{EV}:5", "not a finite number"),
    ("strength-missing", EV, ",wh,3,2,", ",wh,,2,", f"{EV}:5", "missing strength"),
    # --- credibility ---
    ("credibility-seven", EV, ",wh,3,2,", ",wh,3,7,", f"{EV}:5",
     "credibility '7' must be a whole number 1-6"),
    ("credibility-zero", EV, ",wh,3,2,", ",wh,3,0,", f"{EV}:5", "credibility '0'"),
    ("credibility-word", EV, ",wh,3,2,", ",wh,3,two,", f"{EV}:5", "credibility 'two'"),
    ("credibility-decimal", EV, ",wh,3,2,", ",wh,3,2.5,", f"{EV}:5", "credibility '2.5'"),
    # --- sources ---
    ("reliability-grade", SRC, ",B,3,1", ",G,3,1", f"{SRC}:2",
     "reliability 'G' is neither an Admiralty grade (A, B, C, D, E, F) nor a number in [0, 1]"),
    ("reliability-number", SRC, ",0.75,", ",1.5,", f"{SRC}:4", "reliability '1.5'"),
    ("reliability-negative", SRC, ",0.75,", ",-0.1,", f"{SRC}:4", "reliability '-0.1'"),
    ("reliability-missing", SRC, ",0.75,", ",,", f"{SRC}:4", "missing reliability"),
    ("verified-negative", SRC, ",B,3,1", ",B,-3,1", f"{SRC}:2",
     "verified '-3' must be a whole number >= 0"),
    ("refuted-not-a-number", SRC, ",B,3,1", ",B,3,x", f"{SRC}:2", "refuted 'x'"),
    ("source-name-missing", SRC, "poll,Opinion poll,", "poll,,", f"{SRC}:4", "missing name"),
    # --- clusters ---
    ("cluster-different-targets", EV, "E003,2026-07-05,lebanon-withdrawal",
     "E003,2026-07-05,us-leverage", f"{EV}:4",
     "cluster 'north': E003 bears on 'us-leverage' but E002 (evidence/summit.csv:3)"),
    ("cluster-different-strengths", EV, ",poll,0.25,", ",poll,0.5,", f"{EV}:4",
     "cluster 'north': E003 is coded '0.5' but E002 (evidence/summit.csv:3) is coded '1/4'"),
    # --- forecast.toml values ---
    ("toml-draws-zero", TOML, "draws = 200", "draws = 0", f"{TOML}:5", "draws 0 must be"),
    ("toml-draws-float", TOML, "draws = 200", "draws = 1.5", f"{TOML}:5", "whole number > 0"),
    ("toml-chains-string", TOML, "chains = 2", 'chains = "2"', f"{TOML}:6", "chains '2'"),
    ("toml-tune-negative", TOML, "chains = 2", "chains = 2\ntune = -5", f"{TOML}:7",
     "tune -5 must be a whole number > 0"),
    ("toml-seed-negative", TOML, "chains = 2", "chains = 2\nseed = -1", f"{TOML}:7",
     "seed -1 must be a whole number >= 0"),
    ("toml-target-accept", TOML, "chains = 2", "chains = 2\ntarget_accept = 1.5", f"{TOML}:7",
     "target_accept 1.5 must be a number between 0 and 1"),
    ("toml-pooling", TOML, '"direct"', '"pooled"', f"{TOML}:2", "pooling 'pooled'"),
    ("toml-coding-sd", TOML, "coding_sd = 0.5", "coding_sd = -1", f"{TOML}:3",
     "coding_sd -1 must be a number >= 0"),
    ("toml-output-empty", TOML, "[sampler]", '[report]\noutput = ""\n[sampler]', f"{TOML}:5",
     "output '' must be a folder name"),
    ("toml-section-not-table", TOML, "[model]", "report = 3\n[model]", f"{TOML}:1",
     "report must be a table [report], found 3"),
    ("toml-strength-not-above-one", TOML, "weak = 2.5", "weak = 0.5", f"{TOML}:8",
     "a strength is a likelihood ratio > 1"),
    ("toml-strength-bad-word", TOML, "weak = 2.5", "weak-for = 2.5", f"{TOML}:8",
     "'weak-for' is not a strength word"),
    ("toml-credibility-one", TOML, "[codebook.strengths]\nweak = 2.5",
     '[codebook.credibility]\n"1" = 0.9', f"{TOML}:8", "credibility 1 (confirmed) is always"),
    ("toml-credibility-range", TOML, "[codebook.strengths]\nweak = 2.5",
     '[codebook.credibility]\n"2" = 1.5', f"{TOML}:8", "a number in (0, 1]"),
    ("toml-credibility-digit", TOML, "[codebook.strengths]\nweak = 2.5",
     '[codebook.credibility]\n"7" = 0.5', f"{TOML}:8", "'7' is not a credibility digit"),
    ("toml-words-band", TOML, "[codebook.strengths]\nweak = 2.5",
     "[codebook.words]\nlikely = [0.8, 0.5]", f"{TOML}:8", "0 < lo < hi < 1"),
    ("toml-grades-pair", TOML, "[codebook.strengths]\nweak = 2.5",
     "[codebook.grades]\nA = [18]", f"{TOML}:8", "a Beta prior [a, b] of two numbers > 0"),
    ("toml-grades-letter", TOML, "[codebook.strengths]\nweak = 2.5",
     "[codebook.grades]\nG = [1, 1]", f"{TOML}:8", "'G' is not an Admiralty grade"),
    ("toml-confidence-sd", TOML, "[codebook.strengths]\nweak = 2.5",
     "[codebook.confidence_sd]\nmedium = 0", f"{TOML}:8", "a number > 0"),
    ("toml-confidence-levels", TOML, "[codebook.strengths]\nweak = 2.5",
     "[codebook.confidence_levels]\nmedium = 1.0", f"{TOML}:8", "between 0 and 1"),
    ("toml-confidence-name", TOML, "[codebook.strengths]\nweak = 2.5",
     "[codebook.confidence_levels]\nsure = 0.5", f"{TOML}:8", "'sure' is not a confidence"),
]  # fmt: skip


def apply(root, rel, old, new):
    """Edit one file of the workspace at ``root`` as a case says."""
    path = root / rel
    if new is DELETE:
        path.unlink()
        return
    if old is None:
        data = new.encode() if isinstance(new, str) else new
    else:
        text = MINIMAL_FILES[rel]
        assert old in text, f"case does not match {rel}: {old!r}"
        head, tail = text.split(old, 1)
        new_bytes = new.encode() if isinstance(new, str) else new
        data = head.encode() + new_bytes + tail.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@pytest.mark.parametrize(
    ("rel", "old", "new", "where", "fragment"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_rule(minimal_workspace, rel, old, new, where, fragment):
    apply(minimal_workspace, rel, old, new)
    result = CliRunner().invoke(app, ["validate", str(minimal_workspace)])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # no traceback
    lines = result.stderr.splitlines()
    hits = [line for line in lines if line.startswith(where) and fragment in line]
    assert hits, f"no line starting {where!r} with {fragment!r} in:\n{result.stderr}"
    assert "nothing was written" in lines[-1]
    assert result.stdout == ""


def test_case_ids_are_unique():
    assert len({c[0] for c in CASES}) == len(CASES)


def test_minimal_workspace_is_clean(minimal_workspace):
    result = CliRunner().invoke(app, ["validate", str(minimal_workspace)])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "ok: 2 questions, 2 drivers, 2 analysts, 3 sources, 4 evidence items (3 clusters)\n"
    )
    # only the reminder that a question past its close date (by today's clock) awaits resolution
    assert all("has no resolution" in line for line in result.stderr.splitlines())


def test_all_problems_in_one_pass(minimal_workspace):
    apply(minimal_workspace, EV, ",wh,3,2,", ",wh,3,9,")
    apply(minimal_workspace, DANA, "p: 0.35", "p: 0.7")
    apply(minimal_workspace, TOML, "draws = 200", "draws = 0")
    result = CliRunner().invoke(app, ["validate", str(minimal_workspace)])
    assert result.exit_code == 2
    found = [line.split(": ", 1)[0] for line in result.stderr.splitlines()[:-1]]
    assert found == [f"{TOML}:5", f"{DANA}:3", f"{EV}:5"]
    assert result.stderr.splitlines()[-1] == "3 errors; nothing was written."


def test_several_problems_in_one_row_all_reported(minimal_workspace):
    apply(minimal_workspace, EV, "E004,2026-07-06,us-leverage,wh,3,2", "E004,07/06,nope,cnn,x,9")
    with pytest.raises(WorkspaceError) as info:
        load_workspace(minimal_workspace)
    messages = [str(p) for p in info.value.problems]
    assert len(messages) == 5 and all(m.startswith(f"{EV}:5: ") for m in messages)


def test_warning_alone_does_not_fail(minimal_workspace):
    apply(minimal_workspace, DANA, "  mou-survives: {beta: [6, 4]}\n", "")
    result = CliRunner().invoke(app, ["validate", str(minimal_workspace)])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(
        f"{Q}:7: warning: no analyst states a prior on 'mou-survives'; the default prior is used"
    )
    assert result.stdout.startswith("ok: 2 questions")
    # warnings come first, then the summary
    assert result.output.index("warning") < result.output.index("ok: ")


def test_warning_is_listed_with_errors(minimal_workspace):
    apply(minimal_workspace, DANA, "  mou-survives: {beta: [6, 4]}\n", "")
    apply(minimal_workspace, EV, ",wh,3,2,", ",wh,3,9,")
    result = CliRunner().invoke(app, ["validate", str(minimal_workspace)])
    assert result.exit_code == 2
    assert f"{Q}:7: warning: " in result.stderr and f"{EV}:5: " in result.stderr
    assert result.stderr.splitlines()[-1] == "1 error; nothing was written."


def test_driver_nobody_loads_on_warns(minimal_workspace):
    apply(minimal_workspace, Q, ", regional-escalation: -0.5", "")
    ws = load_workspace(minimal_workspace)
    assert [str(w) for w in ws.warnings] == [
        f"{Q}:15: warning: no question loads on driver 'regional-escalation', "
        "so it changes no forecast"
    ]


def test_broken_questions_file_does_not_cascade(minimal_workspace):
    """With questions.yaml unreadable, ids elsewhere are not called unknown."""
    apply(minimal_workspace, Q, "title: US leverage over Israel", "title: a: b")
    with pytest.raises(WorkspaceError) as info:
        load_workspace(minimal_workspace)
    assert [p.path for p in info.value.problems] == [Q]


def test_broken_sources_file_does_not_cascade(minimal_workspace):
    apply(minimal_workspace, SRC, None, "id,nam,reliability\n")
    with pytest.raises(WorkspaceError) as info:
        load_workspace(minimal_workspace)
    assert {p.path for p in info.value.problems} == {SRC}


def test_yml_file_ignored_with_warning(minimal_workspace):
    (minimal_workspace / "priors/ruth.yml").write_text("priors: {}\n")
    ws = load_workspace(minimal_workspace)
    assert len(ws.analysts) == 2
    assert [str(w) for w in ws.warnings] == [
        "priors/ruth.yml: warning: ignored: analyst files end in .yaml"
    ]


def test_non_utf8_reports_first_bad_byte_line(tmp_path):
    files = dict(MINIMAL_FILES)
    files[EV] = (
        MINIMAL_FILES[EV].encode().replace(b"Poll", b"P\xc3ll").replace(b"Axios", b"\xffxios")
    )
    root = write_workspace(tmp_path, files)
    with pytest.raises(WorkspaceError) as info:
        load_workspace(root)
    (problem,) = info.value.problems
    assert (problem.path, problem.line) == (EV, 4)


def test_not_a_folder_through_cli(tmp_path):
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "no such folder" in result.stderr
