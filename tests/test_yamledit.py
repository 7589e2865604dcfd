"""Round-trip edits of questions.yaml: the resolution changes, every other byte stays."""

from __future__ import annotations

import datetime as dt
import difflib
import shutil
from pathlib import Path

import pytest
from conftest import MINIMAL_FILES

from forecast.errors import UsageError, WorkspaceError
from forecast.workspace import load_workspace
from forecast.workspace.yamledit import _put_last, edit_text, set_resolution

REPO = Path(__file__).resolve().parents[1]
Q = "priors/questions.yaml"
DAY = dt.date(2026, 10, 30)

COMMENTED = """\
# Questions for the summit.   (a comment the edit must keep)
questions:
  # the first question
  - id: lebanon-withdrawal   # inline comment
    title: 'Israel commits to an initial withdrawal from southern Lebanon'
    resolution_criteria: >-
      An official Israeli statement
      announcing a withdrawal.
    close_date: 2026-10-31
    drivers:
      us-leverage: 0.8            # strong
      regional-escalation: -0.5

    # a comment between the questions
  - id: mou-survives
    title: "The US-Iran MoU is still in force on 31 Dec 2026"
    resolution_criteria: Neither side has withdrawn from the MoU.
    close_date: "2026-12-31"
    resolution: {outcome: yes, date: 2026-10-02, note: "Both confirmed"}
drivers:
  - id: us-leverage
    title: US leverage over Israel
  - id: regional-escalation
    title: Regional escalation   # last line
"""


def changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.ndiff(before.splitlines(), after.splitlines())
        if line.startswith(("+ ", "- "))
    ]


@pytest.fixture
def commented(minimal_workspace: Path) -> Path:
    (minimal_workspace / Q).write_text(COMMENTED)
    load_workspace(minimal_workspace)  # the fixture itself is valid
    return minimal_workspace


def test_resolution_added_as_one_line_keeping_everything_else(commented):
    q = set_resolution(commented, "lebanon-withdrawal", "no", DAY, note='Denied: "no pull-back"')
    after = (commented / Q).read_text()
    assert changed_lines(COMMENTED, after) == [
        '+     resolution: {outcome: no, date: 2026-10-30, note: "Denied: \\"no pull-back\\""}'
    ]
    # the new key follows the question's last key, before the blank line and the comment
    lines = after.splitlines()
    i = lines.index("      regional-escalation: -0.5")
    assert lines[i + 1].startswith("    resolution: ") and lines[i + 2] == ""
    assert lines[i + 3] == "    # a comment between the questions"
    assert q.resolution.outcome == "no" and q.resolution.date == DAY
    assert q.resolution.note == 'Denied: "no pull-back"'
    assert q.resolved


DRIVERS = (
    "    drivers:\n      us-leverage: 0.8            # strong\n      regional-escalation: -0.5\n"
)
LAST_VALUES = {
    "nested-mapping-with-comment": (
        "    drivers:\n      us-leverage: 0.8\n      regional-escalation: -0.5  # weak\n"
    ),
    "folded-text": "",
    "plain-with-comment": "    close_date: 2026-10-31  # closes\n",
}


def assert_added_before_the_comment(before: str, after: str, added: str) -> None:
    assert changed_lines(before, after) == [f"+ {added}"]
    lines = after.splitlines()
    i = lines.index(added)
    assert lines[i + 1 : i + 3] == ["", "    # a comment between the questions"]


@pytest.mark.parametrize("last", LAST_VALUES.values(), ids=LAST_VALUES)
def test_new_key_goes_before_what_follows_the_question(minimal_workspace, last):
    """Whatever the question's last value, the blank line and comment after it
    stay after the new key, and a comment on the value's own line stays there."""
    text = COMMENTED.replace("    close_date: 2026-10-31\n", "").replace(DRIVERS, last)
    (minimal_workspace / Q).write_text(text)
    set_resolution(minimal_workspace, "lebanon-withdrawal", "no", DAY)
    after = (minimal_workspace / Q).read_text()
    assert_added_before_the_comment(text, after, "    resolution: {outcome: no, date: 2026-10-30}")


def test_new_key_after_a_list(minimal_workspace):
    text = COMMENTED.replace(DRIVERS, "    tags:\n      - a\n      - b   # bee\n")

    def change(data):
        entry = data["questions"][0]
        _put_last(entry, "x", 1)

    assert_added_before_the_comment(text, edit_text(text, change), "    x: 1")


def test_resolution_without_date_or_note(commented):
    q = set_resolution(commented, "lebanon-withdrawal", "annulled")
    assert changed_lines(COMMENTED, (commented / Q).read_text()) == [
        "+     resolution: {outcome: annulled}"
    ]
    assert q.resolution.outcome == "annulled" and q.resolution.date is None
    assert not q.resolved


def test_resolving_again_needs_replace(commented):
    before = (commented / Q).read_bytes()
    with pytest.raises(UsageError, match="mou-survives is already resolved"):
        set_resolution(commented, "mou-survives", "no", DAY)
    assert (commented / Q).read_bytes() == before
    q = set_resolution(commented, "mou-survives", "no", DAY, replace=True)
    assert changed_lines(COMMENTED, (commented / Q).read_text()) == [
        '-     resolution: {outcome: yes, date: 2026-10-02, note: "Both confirmed"}',
        "+     resolution: {outcome: no, date: 2026-10-30}",
    ]
    assert (q.resolution.outcome, q.resolution.date) == ("no", DAY)


@pytest.mark.parametrize(
    ("question", "outcome", "error", "message"),
    [
        ("lebanon-withdrawl", "yes", UsageError, "did you mean 'lebanon-withdrawal'"),
        ("us-leverage", "yes", UsageError, "unknown question 'us-leverage'"),
        ("lebanon-withdrawal", "maybe", UsageError, "outcome 'maybe' is not allowed"),
    ],
)
def test_bad_requests_write_nothing(commented, question, outcome, error, message):
    before = (commented / Q).read_bytes()
    with pytest.raises(error, match=message):
        set_resolution(commented, question, outcome, DAY)
    assert (commented / Q).read_bytes() == before


def test_a_broken_workspace_is_not_edited(minimal_workspace):
    path = minimal_workspace / "priors/omar.yaml"
    path.write_text("priors:\n  lebanon-withdrawal: {p: 2, confidence: low}\n")
    before = (minimal_workspace / Q).read_bytes()
    with pytest.raises(WorkspaceError, match="omar.yaml:2"):
        set_resolution(minimal_workspace, "lebanon-withdrawal", "yes", DAY)
    assert (minimal_workspace / Q).read_bytes() == before


def test_crlf_and_byte_order_mark_kept(minimal_workspace):
    original = "\ufeff" + MINIMAL_FILES[Q].replace("\n", "\r\n")
    (minimal_workspace / Q).write_bytes(original.encode())
    set_resolution(minimal_workspace, "lebanon-withdrawal", "yes", DAY)
    data = (minimal_workspace / Q).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert changed_lines(original, data.decode("utf-8")) == [
        "+     resolution: {outcome: yes, date: 2026-10-30}"
    ]


def test_shipped_questions_file_gains_one_line(tmp_path):
    for folder in ("priors", "evidence"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    before = (tmp_path / Q).read_text()
    set_resolution(tmp_path, "mou-in-force", "yes", dt.date(2026, 12, 31), note="Both reaffirmed")
    assert changed_lines(before, (tmp_path / Q).read_text()) == [
        '+     resolution: {outcome: yes, date: 2026-12-31, note: "Both reaffirmed"}'
    ]
    assert load_workspace(tmp_path).question("mou-in-force").resolved


def yaml_files() -> list[Path]:
    return sorted((REPO / "priors").glob("*.yaml")) + sorted(
        (REPO / "forecast/templates/init/priors").glob("*.yaml")
    )


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_round_trip_without_a_change_is_byte_identical(path):
    text = path.read_text()
    assert edit_text(text, lambda data: None) == text


@pytest.mark.parametrize(
    "text", [COMMENTED, *(v for k, v in MINIMAL_FILES.items() if k.endswith(".yaml"))]
)
def test_round_trip_of_test_files(text):
    assert edit_text(text, lambda data: None) == text


@pytest.mark.parametrize(
    "note", ["0?", "yes", "null", "- a", "? b", "#hash", "a: b", "[x]", "{y}", "'q'", "1e3", "~"]
)
def test_any_note_reads_back_as_written(minimal_workspace, note):
    q = set_resolution(minimal_workspace, "lebanon-withdrawal", "yes", DAY, note=note)
    assert q.resolution.note == note
    assert load_workspace(minimal_workspace).question("lebanon-withdrawal").resolution.note == note
