"""Edits of the YAML files a forecaster keeps, that keep the file as written.

Every change goes through ruamel.yaml's round-trip mode: comments, blank
lines, key order, quoting, flow or block style and indentation are kept, and
only what the edit touches changes. The result is validated with the rest of
the workspace before it replaces the file, atomically; on any problem nothing
is written. :func:`set_resolution` holds the workspace's lock (re-entered
when its caller holds it already) from the read to the rename.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
)
from ruamel.yaml.tokens import CommentToken
from ruamel.yaml.util import load_yaml_guess_indent

from forecast.errors import UsageError
from forecast.formats import listing, suggest
from forecast.io import atomic_write_bytes
from forecast.lock import locked
from forecast.workspace.load import load_workspace
from forecast.workspace.objects import Outcome, Question
from forecast.workspace.reading import QUESTIONS_FILE

OUTCOMES: tuple[Outcome, ...] = ("yes", "no", "annulled")


def _yaml_for(text: str) -> YAML:
    """A round-trip reader and writer set to the indentation ``text`` uses."""
    _, indent, offset = load_yaml_guess_indent(text)
    indent, offset = indent or 2, offset or 0
    yaml = YAML(typ="rt", pure=True)
    yaml.preserve_quotes = True
    yaml.width = 1 << 16  # never fold a long line the user wrote on one
    yaml.indent(
        mapping=indent - offset if indent > offset else indent, sequence=indent, offset=offset
    )
    return yaml


def edit_text(text: str, change: Callable[[Any], None]) -> str:
    """``text`` (one YAML document) with ``change`` applied to its data, all else kept.

    ``change`` gets the document as ruamel's round-trip objects (mappings
    keep their comments) and edits it in place. Line endings and a leading
    byte-order mark are kept.
    """
    bom = text.startswith(codecs.BOM_UTF8.decode())
    body = text[1:] if bom else text
    crlf = "\r\n" in body
    body = body.replace("\r\n", "\n")
    yaml = _yaml_for(body)
    try:
        data = yaml.load(body)
    except YAMLError as exc:  # the caller has validated the file: a reader difference
        raise UsageError(f"cannot edit the file: {exc}") from None
    change(data)
    out = io.StringIO()
    yaml.dump(data, out)
    result = out.getvalue()
    if crlf:
        result = result.replace("\n", "\r\n")
    return ("\ufeff" if bom else "") + result


def edit_file(root: str | Path, rel: str, change: Callable[[Any], None]) -> bytes:
    """Apply ``change`` to the YAML file ``rel`` of the workspace at ``root``,
    validate the workspace with the result, and write it atomically.

    Returns the bytes written. Raises ``WorkspaceError`` (the workspace has a
    problem, before or after the change) or ``UsageError``; then nothing is
    written.
    """
    root = Path(root)
    load_workspace(root)  # refuse to edit a broken workspace
    path = root / rel
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {rel}: {exc.strerror or exc}") from None
    new = edit_text(text, change).encode("utf-8")
    load_workspace(root, overrides={rel: new})
    atomic_write_bytes(path, new)
    return new


def _entry(data: Any, question: str) -> CommentedMap:
    """The mapping of ``question`` in questions.yaml's data."""
    items = data.get("questions") if isinstance(data, CommentedMap) else None
    entries = [q for q in items or () if isinstance(q, CommentedMap)]
    for entry in entries:
        if str(entry.get("id", "")).strip() == question:
            return entry
    ids = [str(q.get("id")) for q in entries]
    raise UsageError(
        f"unknown question {question!r}{suggest(question, ids)}; known questions: "
        f"{listing(ids) or 'none'}"
    )


def _last(node: Any) -> tuple[Any, Any] | None:
    """The (mapping or list, key or index) of the last value written in a block
    ``node``, looking inside nested block values: the comment after it holds
    the blank lines and comments that follow ``node`` in the file."""
    while isinstance(node, CommentedMap | CommentedSeq) and len(node) and not node.fa.flow_style():
        key = list(node)[-1] if isinstance(node, CommentedMap) else len(node) - 1
        child = node[key]
        if not (isinstance(child, CommentedMap | CommentedSeq) and len(child)) or (
            child.fa.flow_style()
        ):
            return node, key
        node = child
    return None


def _put_last(entry: CommentedMap, key: str, value: Any) -> None:
    """Add ``key`` as the mapping's last key. Blank lines and comments after the
    old last value belong to what follows the mapping: they stay after; a
    comment on the old last value's own line stays there."""
    last = _last(entry)
    entry[key] = value
    if last is None:
        return
    node, where = last
    tokens = node.ca.items.get(where) or []
    block = isinstance(node[where], LiteralScalarString | FoldedScalarString)
    for i, token in enumerate(tokens):
        if isinstance(token, CommentToken) and "\n" in token.value:
            # a block scalar ends its own line: all its comment comes after it
            own, _, after = ("", "", token.value) if block else token.value.partition("\n")
            if not after:
                return
            token.value = own + "\n"
            if not own.strip():
                tokens[i] = None
            entry.ca.items[key] = [None, None, CommentToken("\n" + after, token.start_mark), None]
            return


def resolution_change(
    question: str,
    outcome: str,
    date: dt.date | None = None,
    note: str = "",
    replace: bool = False,
) -> Callable[[Any], None]:
    """The edit :func:`set_resolution` makes, for :func:`edit_text`: ``question``'s
    ``resolution: {outcome: ..., date: ..., note: ...}`` set, in flow style, as
    its last key or in place of the one it has.

    Raises ``UsageError`` for an outcome other than yes/no/annulled at once, and
    (when applied) for an unknown question or one already resolved without
    ``replace``.
    """
    if outcome not in OUTCOMES:
        raise UsageError(f"outcome {outcome!r} is not allowed; use {listing(OUTCOMES)}")

    def change(data: Any) -> None:
        entry = _entry(data, question)
        if entry.get("resolution") is not None and not replace:
            raise UsageError(
                f"{question} is already resolved ({_describe(entry['resolution'])}); "
                "replace it explicitly to change it"
            )
        value = CommentedMap([("outcome", outcome)])
        if date is not None:
            value["date"] = date
        if note:
            # quoted, so a note such as "0?" or "yes" reads back as the text it is
            value["note"] = DoubleQuotedScalarString(note)
        value.fa.set_flow_style()
        if "resolution" in entry:
            entry["resolution"] = value
        else:
            _put_last(entry, "resolution", value)

    return change


@locked
def set_resolution(
    root: str | Path,
    question: str,
    outcome: str,
    date: dt.date | None = None,
    note: str = "",
    *,
    replace: bool = False,
) -> Question:
    """Record how ``question`` resolved, in ``priors/questions.yaml``.

    Writes ``resolution: {outcome: ..., date: ..., note: ...}`` (flow style,
    as the docs show it) as the question's last key, or in place of the one
    it has; every other byte of the file is kept. The workspace is validated
    with the change before the file is replaced (atomically).

    Parameters
    ----------
    root
        The workspace folder.
    question
        The question's id.
    outcome
        ``yes``, ``no`` or ``annulled``.
    date, note
        When it resolved, and a note (left out when empty).
    replace
        Replace a resolution the question already has; without it, that is
        an error.

    Returns
    -------
    Question
        The question as the workspace now reads it.

    Raises
    ------
    UsageError
        Unknown question, an outcome other than yes/no/annulled, or a
        resolution already there (without ``replace``).
    WorkspaceError
        The workspace has an error, before or with the change.
    """
    edit_file(root, QUESTIONS_FILE, resolution_change(question, outcome, date, note, replace))
    return load_workspace(root).question(question)


def _describe(value: Any) -> str:
    if isinstance(value, CommentedMap):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, CommentedSeq):
        return ", ".join(map(str, value))
    return str(value)
