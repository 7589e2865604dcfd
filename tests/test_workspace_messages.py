"""Every problem the schema finds reads in the user's words, never the library's."""

from __future__ import annotations

import pytest
from conftest import MINIMAL_FILES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fuzz_loaders import TOKENS

from forecast.errors import WorkspaceError
from forecast.workspace import load_workspace

LIBRARY_WORDS = ("Input should", "Field required", "Extra inputs", "validation error", "pydantic")
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def messages(root, overrides) -> list[str]:
    try:
        load_workspace(root, overrides=overrides)
    except WorkspaceError as exc:
        return [p.message for p in exc.problems]
    return []


@pytest.mark.parametrize("rel", sorted(MINIMAL_FILES))
@FUZZ
@given(cut=st.integers(0, 10_000), length=st.integers(0, 12), junk=TOKENS)
def test_no_library_wording(minimal_workspace, rel, cut, length, junk):
    data = MINIMAL_FILES[rel].encode()
    cut %= len(data) + 1
    for message in messages(minimal_workspace, {rel: data[:cut] + junk + data[cut + length :]}):
        assert not any(word in message for word in LIBRARY_WORDS), message


@pytest.mark.parametrize(
    ("rel", "text", "expected"),
    [
        ("priors/omar.yaml", "priors:\n  lebanon-withdrawal: {p: [1], confidence: low}\n",
         "lebanon-withdrawal: p must be a number between 0 and 1, found [1]"),
        ("priors/omar.yaml", "analyst: [x]\npriors: {}\n",
         "analyst: analyst must be text, found [x]"),
        ("priors/omar.yaml", "priors:\n  lebanon-withdrawal: {estimate: [x]}\n",
         "[x] is not an estimative word"),
        ("priors/questions.yaml", "questions:\n  - id: q\n    title: {a: b}\n",
         "question q: title must be text, found {a: b}"),
        ("priors/questions.yaml", "questions:\n  - id: q\n    title: t\n    resolution: 3\n",
         "resolution must be a mapping {outcome: yes|no|annulled, date: YYYY-MM-DD, note: ...}"),
        ("forecast.toml", "[codebook]\nstrengths = 3\n",
         "[codebook.strengths] must be a table, found 3"),
        ("forecast.toml", "[report]\noutput = 3\n",
         'output 3 must be a folder name, e.g. "reports"'),
    ],
)  # fmt: skip
def test_rare_shapes_have_messages(minimal_workspace, rel, text, expected):
    found = messages(minimal_workspace, {rel: text.encode()})
    assert any(expected in m for m in found), found


@pytest.mark.parametrize(
    ("prior", "expected"),
    [
        ("{p: , confidence: low}", "lebanon-withdrawal: p must be a number between 0 and 1, "
         "found nothing"),
        ("{estimate: likely, confidence: }", "confidence nothing is not allowed"),
        ("{estimate: , confidence: low}", "nothing is not an estimative word"),
        ("{beta: }", "beta must be two numbers [a, b], e.g. [6, 4], found nothing"),
        ("{p: 0.3, lo: 0.1, hi: 0.5, level: }", "level must be a number between 0 and 1"),
    ],
)  # fmt: skip
def test_a_prior_key_without_a_value_is_an_error(minimal_workspace, prior, expected):
    """In a prior every key holds a value (elsewhere `key:` alone means absent)."""
    text = f"priors:\n  lebanon-withdrawal: {prior}\n"
    found = messages(minimal_workspace, {"priors/omar.yaml": text.encode()})
    assert len(found) == 1 and expected in found[0], found


def test_a_codebook_entry_with_a_bad_key_and_value_is_one_problem(minimal_workspace):
    found = messages(minimal_workspace, {"forecast.toml": b"[codebook.strengths]\nweak-for = 1\n"})
    assert found == [
        "[codebook.strengths]: 'weak-for' is not a strength word (lowercase words joined by "
        "'-', without -for/-against, e.g. strong)"
    ]
