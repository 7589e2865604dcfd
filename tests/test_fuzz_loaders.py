"""Whatever a file holds, loading gives a Workspace or a ForecastError, never a crash."""

from __future__ import annotations

import csv
import io

import pytest
from conftest import MINIMAL_FILES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecast.errors import ForecastError, WorkspaceError
from forecast.workspace import EVIDENCE_COLUMNS, Workspace, load_workspace

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FILES = sorted(MINIMAL_FILES)


def outcome(root, overrides) -> Workspace | None:
    """Load with the files replaced; only a Workspace or a ForecastError may come out."""
    try:
        ws = load_workspace(root, overrides=overrides)
    except WorkspaceError as exc:
        assert exc.problems, "a WorkspaceError lists its problems"
        assert any(p.severity == "error" for p in exc.problems)
        for p in exc.problems:
            assert p.path and p.line >= 0 and p.message
        return None
    except ForecastError:
        return None
    assert isinstance(ws, Workspace)
    return ws


# Bytes that steer toward the parsers' corners: YAML/TOML/CSV syntax, numbers,
# dates, booleans, anchors, tags, quotes, newlines, and bytes that are not UTF-8.
ALPHABET = st.sampled_from(
    [b"\n", b"\r\n", b":", b"- ", b"{", b"}", b"[", b"]", b",", b'"', b"'", b"=", b"#", b"&a",
     b"*a", b"!!", b"yes", b"no", b"0.5", b"-1", b"1e999", b".nan", b"2026-02-30", b"\t",
     b"\xff", b"\xc3", b"\x00", b"p", b"lo", b"hi", b"id", b"priors", b"questions", b"  "]
)  # fmt: skip
TOKENS = st.lists(ALPHABET, max_size=40).map(b"".join)


@pytest.mark.parametrize("rel", FILES)
@FUZZ
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes(minimal_workspace, rel, data):
    outcome(minimal_workspace, {rel: data})


@pytest.mark.parametrize("rel", FILES)
@FUZZ
@given(data=TOKENS)
def test_syntax_soup(minimal_workspace, rel, data):
    outcome(minimal_workspace, {rel: data})


@pytest.mark.parametrize("rel", FILES)
@FUZZ
@given(cut=st.integers(0, 10_000), length=st.integers(0, 12), junk=TOKENS | st.binary(max_size=12))
def test_valid_file_with_a_splice(minimal_workspace, rel, cut, length, junk):
    """A valid file with a stretch replaced: reaches the checks behind the parsers."""
    data = MINIMAL_FILES[rel].encode()
    cut %= len(data) + 1
    outcome(minimal_workspace, {rel: data[:cut] + junk + data[cut + length :]})


@pytest.mark.parametrize("rel", FILES)
@FUZZ
@given(text=st.text(max_size=200))
def test_arbitrary_text(minimal_workspace, rel, text):
    outcome(minimal_workspace, {rel: text.encode("utf-8", "surrogatepass")})


ROW = st.fixed_dictionaries({c: st.text(max_size=30) for c in EVIDENCE_COLUMNS})
VALID_ISH = st.fixed_dictionaries(
    {
        "id": st.text(max_size=6) | st.sampled_from(["E001", "E009", "X"]),
        "date": st.text(max_size=12) | st.sampled_from(["2026-07-01", "2026-02-30", ""]),
        "bears_on": st.text(max_size=20) | st.sampled_from(["lebanon-withdrawal", "us-leverage"]),
        "source": st.text(max_size=8) | st.sampled_from(["wh", "poll", "reuters"]),
        "strength": st.text(max_size=12)
        | st.sampled_from(["weak-for", "strong-against", "neutral", "1/4", "3", "0", "-1", "1/0"]),
        "credibility": st.text(max_size=3) | st.sampled_from(["1", "6", "7", "0"]),
        "cluster": st.text(max_size=6) | st.sampled_from(["", "north", "E002"]),
        "summary": st.text(max_size=40),
        "citation": st.text(max_size=40),
    }
)


def evidence_csv(rows) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EVIDENCE_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8", "surrogatepass")


@FUZZ
@given(rows=st.lists(ROW | VALID_ISH, max_size=6))
def test_arbitrary_evidence_rows(minimal_workspace, rows):
    ws = outcome(minimal_workspace, {"evidence/fuzz.csv": evidence_csv(rows)})
    if ws is not None:
        fuzz = [e for e in ws.evidence if e.path == "evidence/fuzz.csv"]
        assert len(fuzz) == len([r for r in rows if any(v.strip() for v in r.values())])
        for e in fuzz:
            assert e.ratio > 0 and 1 <= e.credibility <= 6 and e.cluster


@FUZZ
@given(rows=st.lists(VALID_ISH, min_size=1, max_size=4))
def test_rows_that_load_round_trip(minimal_workspace, rows):
    """A row that loads keeps its text (stripped) exactly."""
    ws = outcome(minimal_workspace, {"evidence/fuzz.csv": evidence_csv(rows)})
    if ws is not None:
        loaded = {e.id: e for e in ws.evidence if e.path == "evidence/fuzz.csv"}
        for row in rows:
            if not any(v.strip() for v in row.values()):
                continue  # a blank line: skipped
            e = loaded[row["id"].strip()]
            assert e.summary == row["summary"].strip()
            assert e.citation == row["citation"].strip()
            assert e.bears_on == row["bears_on"].strip()


def test_deep_nesting_is_an_error_not_a_crash(minimal_workspace):
    for data in (b"[" * 5000, b"a: " + b"[" * 200 + b"]" * 200, b"x = " + b"[" * 5000):
        for rel in ("priors/questions.yaml", "forecast.toml"):
            assert outcome(minimal_workspace, {rel: data}) is None


def test_alias_bomb_is_an_error_not_a_hang(minimal_workspace):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    with pytest.raises(WorkspaceError, match="too large"):
        load_workspace(minimal_workspace, overrides={"priors/omar.yaml": "\n".join(lines).encode()})
