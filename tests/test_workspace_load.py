"""Loading a valid workspace: every file format read into the typed objects."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from pathlib import Path

import pytest
from conftest import MINIMAL_FILES, write_workspace

from forecast.codebook import (
    CREDIBILITY_NAMES,
    DEFAULT,
    DEFAULT_CODING_SD,
    DEFAULT_PRIOR_SD,
    GRADE_NAMES,
    WORD_SYNONYMS,
)
from forecast.errors import WorkspaceError
from forecast.workspace import Settings, load_workspace, next_evidence_id


def test_questions_and_drivers(minimal_workspace):
    ws = load_workspace(minimal_workspace)
    assert [q.id for q in ws.questions] == ["lebanon-withdrawal", "mou-survives"]
    assert [d.id for d in ws.drivers] == ["us-leverage", "regional-escalation"]
    q, mou = ws.questions
    assert q.close_date == dt.date(2026, 10, 31)
    assert dict(q.drivers) == {"us-leverage": 0.8, "regional-escalation": -0.5}
    assert q.resolution is None and not q.resolved
    assert q.line == 2 and mou.line == 7 and ws.drivers[1].line == 15
    # a quoted date string is read as a date; YAML's boolean `yes` is the outcome yes
    assert mou.close_date == dt.date(2026, 12, 31)
    assert mou.resolution.outcome == "yes"
    assert mou.resolution.date == dt.date(2026, 10, 2)
    assert mou.resolution.note == "Both confirmed"
    assert mou.resolved
    assert ws.question("mou-survives") is mou


def test_statements_of_every_kind(minimal_workspace):
    ws = load_workspace(minimal_workspace)
    assert [a.name for a in ws.analysts] == ["Dana Levi", "omar"]  # omar: the file stem
    by_target = {(s.analyst, s.target): s for s in ws.statements}
    interval = by_target["Dana Levi", "lebanon-withdrawal"]
    assert (interval.kind, interval.p, interval.lo, interval.hi, interval.level) == (
        "interval", 0.35, 0.15, 0.60, 0.8,
    )  # fmt: skip
    assert (interval.path, interval.line) == ("priors/dana-levi.yaml", 3)
    beta = by_target["Dana Levi", "mou-survives"]
    assert (beta.kind, beta.a, beta.b) == ("beta", 6.0, 4.0)
    bare = by_target["Dana Levi", "us-leverage"]
    assert (bare.kind, bare.word, bare.confidence) == ("words", "likely", "medium")
    word = by_target["Dana Levi", "regional-escalation"]
    # ICD-203's "highly improbable" is stored as its canonical word
    assert (word.kind, word.word, word.confidence) == ("words", "very unlikely", "high")
    conf = by_target["omar", "lebanon-withdrawal"]
    assert (conf.kind, conf.p, conf.confidence, conf.lo) == ("confidence", 0.6, "low", None)


def test_interval_level_defaults_to_0_9(minimal_workspace):
    (minimal_workspace / "priors/omar.yaml").write_text(
        "priors:\n  lebanon-withdrawal: {p: 0.5, lo: 0.2, hi: 0.8}\n"
    )
    (s,) = load_workspace(minimal_workspace).analysts[1].statements
    assert s.level == 0.9


def test_sources(minimal_workspace):
    ws = load_workspace(minimal_workspace)
    wh, reuters, poll = ws.sources
    assert (wh.grade, wh.reliability, wh.verified, wh.refuted) == ("B", None, 3, 1)
    assert (reuters.name, reuters.grade, reuters.verified) == ("Reuters, wire", "A", 0)
    assert (poll.grade, poll.reliability) == (None, 0.75)
    assert poll.line == 4


def test_evidence_ratios_and_clusters(minimal_workspace):
    ws = load_workspace(minimal_workspace)
    e1, e2, e3, e4 = ws.evidence
    assert e1.ratio == 4.0 and e1.strength == "moderate-for"
    assert e2.ratio == 0.25 and e2.strength == "1/4"
    assert e3.ratio == 0.25 and e4.ratio == 3.0
    assert (e1.cluster, e2.cluster, e3.cluster) == ("E001", "north", "north")
    assert e1.date == dt.date(2026, 7, 5) and e1.credibility == 2
    assert e1.citation == "Flores, 5 July"
    assert (e3.path, e3.line) == ("evidence/summit.csv", 4)


def test_settings_and_codebook_overrides(minimal_workspace):
    ws = load_workspace(minimal_workspace)
    assert ws.settings == Settings(draws=200, chains=2, pooling="direct", coding_sd=0.5)
    assert ws.codebook.strengths["weak"] == 2.5
    assert ws.codebook.strengths["strong"] == DEFAULT.strengths["strong"]
    assert ws.codebook.ratio("weak-against") == pytest.approx(1 / 2.5)


def test_every_codebook_table_overridable(minimal_workspace):
    (minimal_workspace / "forecast.toml").write_text(
        """\
[codebook.strengths]
decisive = 100
[codebook.grades]
a = [9, 1]
[codebook.credibility]
"1" = 1
"2" = 0.8
[codebook.words]
likely = [0.6, 0.85]
probable = [0.6, 0.85]
[codebook.confidence_sd]
medium = 0.8
[codebook.confidence_levels]
medium = 0.6
[report]
output = "out"
"""
    )
    ws = load_workspace(minimal_workspace)
    cb = ws.codebook
    assert cb.ratio("decisive-against") == pytest.approx(0.01)
    assert cb.grades["A"] == (9.0, 1.0) and cb.grades["B"] == DEFAULT.grades["B"]
    assert cb.credibility[1] == 1.0 and cb.credibility[2] == 0.8 and 2 in cb.credibility
    assert cb.words["likely"] == (0.6, 0.85)
    assert cb.confidence_sd["medium"] == 0.8 and cb.confidence_levels["medium"] == 0.6
    assert ws.settings.output == "out"
    assert ws.settings.coding_sd == DEFAULT_CODING_SD  # untouched keys keep their defaults


def test_no_forecast_toml_means_defaults(minimal_workspace):
    (minimal_workspace / "forecast.toml").unlink()
    ws = load_workspace(minimal_workspace)
    assert ws.settings == Settings() and ws.codebook == DEFAULT
    assert "forecast.toml" not in ws.file_hashes


def test_file_hashes_cover_every_file_read(minimal_workspace):
    (minimal_workspace / "evidence/README.md").write_text("not data\n")
    ws = load_workspace(minimal_workspace)
    assert set(ws.file_hashes) == set(MINIMAL_FILES)
    for rel, digest in ws.file_hashes.items():
        assert digest == hashlib.sha256((minimal_workspace / rel).read_bytes()).hexdigest()


def test_content_hash_follows_the_bytes(minimal_workspace):
    before = load_workspace(minimal_workspace).content_hash()
    assert load_workspace(minimal_workspace).content_hash() == before
    path = minimal_workspace / "evidence/summit.csv"
    path.write_text(path.read_text().replace("Axios", "Axios 6 July"))
    assert load_workspace(minimal_workspace).content_hash() != before


def test_evidence_frame(minimal_workspace):
    frame = load_workspace(minimal_workspace).evidence_frame()
    assert list(frame["id"]) == ["E001", "E002", "E003", "E004"]
    assert list(frame["grade"]) == ["B", "A", "0.75", "B"]


def test_column_order_is_free_and_cluster_optional(minimal_workspace):
    (minimal_workspace / "evidence/summit.csv").write_text(
        "summary,citation,id,date,bears_on,source,strength,credibility\n"
        "Pressed.,Flores,E001,2026-07-05,lebanon-withdrawal,wh,strong-against,1\n"
    )
    (e,) = load_workspace(minimal_workspace).evidence
    assert (e.id, e.ratio, e.cluster, e.summary) == ("E001", 0.1, "E001", "Pressed.")


def test_evidence_spread_over_files(minimal_workspace):
    (minimal_workspace / "evidence/later.csv").write_text(
        "id,date,bears_on,source,strength,credibility,cluster,summary,citation\n"
        "E010,2026-07-09,mou-survives,reuters,neutral,6,,Nothing new.,Reuters\n"
    )
    ws = load_workspace(minimal_workspace)
    # files are read in name order
    assert [e.id for e in ws.evidence] == ["E010", "E001", "E002", "E003", "E004"]
    assert ws.evidence[0].ratio == 1.0 and ws.evidence[0].path == "evidence/later.csv"


def test_crlf_bom_and_blank_lines(minimal_workspace):
    path = minimal_workspace / "evidence/summit.csv"
    text = path.read_text().replace("\n", "\r\n")
    text = text.replace("E002,", "\r\nE002,")  # a blank line shifts later lines
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    ws = load_workspace(minimal_workspace)
    assert [e.line for e in ws.evidence] == [2, 4, 5, 6]


def test_multiline_quoted_summary_keeps_line_numbers(minimal_workspace):
    path = minimal_workspace / "evidence/summit.csv"
    path.write_text(path.read_text().replace("White House pressed.", '"Two\nlines"'))
    ws = load_workspace(minimal_workspace)
    assert ws.evidence[0].summary == "Two\nlines"
    assert [e.line for e in ws.evidence] == [2, 4, 5, 6]


def test_overrides_replace_and_add_files(minimal_workspace):
    extra = (
        b"id,date,bears_on,source,strength,credibility,summary,citation\n"
        b"X1,2026-07-09,mou-survives,wh,weak-for,2,s,c\n"
    )
    ws = load_workspace(minimal_workspace, overrides={"evidence/new.csv": extra})
    assert ws.evidence[0].id == "X1" and ws.evidence[0].ratio == 2.5
    assert "evidence/new.csv" in ws.file_hashes
    assert not (minimal_workspace / "evidence/new.csv").exists()


def test_loading_numbers_may_be_ints_and_exponents(minimal_workspace):
    path = minimal_workspace / "priors/questions.yaml"
    path.write_text(path.read_text().replace("us-leverage: 0.8", "us-leverage: 1"))
    path = minimal_workspace / "priors/omar.yaml"
    path.write_text("priors:\n  lebanon-withdrawal: {p: 5e-2, confidence: low}\n")
    ws = load_workspace(minimal_workspace)
    assert ws.questions[0].drivers["us-leverage"] == 1.0
    assert math.isclose(ws.analysts[1].statements[0].p, 0.05)


def test_warnings_are_kept(minimal_workspace):
    (minimal_workspace / "priors/omar.yaml").unlink()
    path = minimal_workspace / "priors/dana-levi.yaml"
    path.write_text(path.read_text().replace("  mou-survives: {beta: [6, 4]}\n", ""))
    ws = load_workspace(minimal_workspace)
    assert [str(w) for w in ws.warnings] == [
        "priors/questions.yaml:7: warning: no analyst states a prior on 'mou-survives'; "
        "the default prior is used (log-odds Normal(0, 1.6), centred on 50 %)"
    ]


def test_not_a_folder(tmp_path):
    with pytest.raises(WorkspaceError, match="no such folder"):
        load_workspace(tmp_path / "nowhere")


def test_questions_only_workspace_loads(tmp_path):
    root = write_workspace(
        tmp_path, {"priors/questions.yaml": MINIMAL_FILES["priors/questions.yaml"]}
    )
    ws = load_workspace(root)
    assert ws.evidence == () and ws.sources == () and ws.analysts == ()
    assert len(ws.warnings) == 2  # neither question has a prior


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        ([], "E001"),
        (["E001", "E024"], "E025"),
        (["E9"], "E10"),
        (["E099"], "E100"),
        (["E001", "E003", "E002"], "E004"),
        (["ev-07", "ev-08", "X1"], "ev-09"),
        (["a", "b"], "E001"),
        (["E1", "E2", "F10"], "E3"),
    ],
)
def test_next_evidence_id(ids, expected):
    assert next_evidence_id(ids) == expected


# --- docs/workspace.md stays true ------------------------------------------------------------

DOC = Path(__file__).resolve().parents[1] / "docs" / "workspace.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)


def test_doc_examples_make_a_clean_workspace(tmp_path):
    questions, analyst = _blocks("yaml")
    evidence, sources = _blocks("csv")
    (toml,) = _blocks("toml")
    root = write_workspace(
        tmp_path,
        {
            "priors/questions.yaml": questions,
            "priors/dana-levi.yaml": analyst,
            "evidence/summit.csv": evidence,
            "evidence/sources.csv": sources,
            "forecast.toml": toml,
        },
    )
    ws = load_workspace(root)
    assert ws.warnings == ()
    kinds = {s.kind for s in ws.statements}
    assert kinds == {"interval", "beta", "confidence", "words"}
    assert ws.codebook.ratio("decisive-for") == 100


def test_doc_codebook_tables_match_the_codebook():
    doc = DOC.read_text()
    for word in DEFAULT.strength_words():
        ratio = DEFAULT.ratio(word)
        shown = f"{ratio:g}" if ratio >= 1 else f"1/{1 / ratio:g}"
        assert f"| `{word}` | {shown} |" in doc, word
    for grade, (a, b) in DEFAULT.grades.items():
        row = f"| `{grade}` | {GRADE_NAMES[grade]} | {a:g} | {b:g} | {a / (a + b):g} |"
        assert row in doc, row
    for digit, k in DEFAULT.credibility.items():
        assert f"| {digit} | {CREDIBILITY_NAMES[digit]} | {k:g} |" in doc, digit
    for word, (lo, hi) in DEFAULT.words.items():
        synonyms = ", ".join(s for s, w in WORD_SYNONYMS.items() if w == word)
        assert f"| {word} | {synonyms} | {lo:g}-{hi:g} |" in doc, word
    for level in ("high", "medium", "low"):
        row = (
            f"| {level} | {DEFAULT.confidence_levels[level]:g} | {DEFAULT.confidence_sd[level]:g} |"
        )
        assert row in doc, row
    assert f"log-odds Normal(0, {DEFAULT_PRIOR_SD:g})" in doc
    assert f"`coding_sd` {DEFAULT_CODING_SD:g} (`DEFAULT_CODING_SD`)" in doc
    assert f"| `model.coding_sd` | `{DEFAULT_CODING_SD:g}`" in doc
    settings = Settings()
    for key in ("draws", "chains", "tune", "seed", "target_accept"):
        assert f"| `sampler.{key}` | `{getattr(settings, key)}` |" in doc, key


def test_libyaml_and_pure_python_parsers_read_the_same_trees():
    """Files are parsed by libyaml when it is built; the trees (tags, values, lines) match."""
    import yaml

    from forecast.formats import _FAST_LOADER

    def tree(n):
        if isinstance(n, yaml.ScalarNode):
            return (n.tag, n.value, n.start_mark.line)
        items = n.value if isinstance(n, yaml.SequenceNode) else [x for kv in n.value for x in kv]
        return (n.tag, n.start_mark.line, [tree(x) for x in items])

    root = Path(__file__).resolve().parents[1]
    texts = [p.read_text(encoding="utf-8") for p in sorted(root.glob("priors/*.yaml"))]
    texts += ["a: &x [1, 'two', {b: ~}]\nc: *x\nd: |\n  block\n  text\n", "- 2026-07-04\n- 1e3\n"]
    for text in texts:
        assert tree(yaml.compose(text, Loader=_FAST_LOADER)) == tree(
            yaml.compose(text, Loader=yaml.SafeLoader)
        )
