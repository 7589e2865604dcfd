"""Low-level readers: bytes -> text -> values that remember their line.

``forecast.workspace`` builds typed objects from what these return. Nothing
here raises for bad content: every reader appends a
:class:`~forecast.errors.Problem` (``path:line: message``) to the list it is
given and returns ``None`` (or what it could read) instead.

YAML is composed with PyYAML's ``SafeLoader`` into a node tree (so each key
and item keeps its line) and only the plain scalar types are ever built from
it: nothing in a file can name a Python object or run code. TOML is read with
the standard library's ``tomllib``; since it keeps no positions, a small
scanner maps each table and key back to its line.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import io
import math
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from forecast.errors import Problem

# A slug: lowercase ASCII letters and digits in runs joined by single hyphens.
SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*", re.ASCII)
SLUG_RULE = "lowercase letters, digits and single hyphens, e.g. lebanon-withdrawal"
# Evidence and source ids are looser: letters, digits, '.', '_' and '-'.
ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*", re.ASCII)
ID_RULE = "letters, digits, '.', '_' and '-', starting with a letter or digit, e.g. E001"
ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_DECIMAL = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
NUMBER_RE = re.compile(_DECIMAL, re.ASCII)
FRACTION_RE = re.compile(rf"({_DECIMAL})\s*/\s*({_DECIMAL})", re.ASCII)
INTEGER_RE = re.compile(r"[+-]?\d+", re.ASCII)


def line_of(text: str, index: int) -> int:
    """1-based line of the character at ``index`` in ``text``."""
    return text.count("\n", 0, max(index, 0)) + 1


def suggest(word: str, allowed: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when ``word`` is close to an allowed one, else ``''``."""
    close = difflib.get_close_matches(word, list(allowed), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def listing(words: Iterable[str]) -> str:
    """Allowed values as the user would type them: ``a, b, c``."""
    return ", ".join(str(w) for w in words)


# --- bytes -> text --------------------------------------------------------------------


def decode(path: str, data: bytes, problems: list[Problem], expected: str) -> str | None:
    """UTF-8 text of a file (a leading byte-order mark dropped), or None.

    A byte that is not UTF-8 is reported on its line; a file holding nothing
    but white space is reported as empty, saying what it should hold.
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        problems.append(
            Problem(
                path,
                line,
                f"byte 0x{data[exc.start]:02x} at column {column} is not UTF-8 text; "
                "save the file as UTF-8",
            )
        )
        return None
    if not text.strip():
        problems.append(Problem(path, 1, f"file is empty; expected {expected}"))
        return None
    return text


# --- YAML -----------------------------------------------------------------------------

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_MAX_DEPTH = 64
_MAX_NODES = 100_000
# Scalar constructors of SafeLoader need a loader only for its tables.
_CONSTRUCTOR = yaml.SafeLoader("")


class _TooComplex(Exception):
    def __init__(self, line: int):
        self.line = line


@dataclass(eq=False)
class YNode:
    """A YAML value with the line it starts on.

    ``kind`` is ``"map"`` (``value``: dict of key text -> YNode, ``key_lines``:
    key text -> line of the key), ``"seq"`` (``value``: list of YNode) or
    ``"scalar"`` (``value``: the plain Python value, ``text``: as written).
    """

    kind: str
    line: int
    value: Any
    text: str = ""
    key_lines: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        """What the user wrote, for messages: ``'abc'``, ``[6]``, ``{p: 0.3}``, ``nothing``."""
        if self.kind == "scalar":
            return "nothing" if self.value is None else repr(self.text)
        return self.render()

    def render(self, limit: int = 80) -> str:
        """Flow-style YAML of the value, for messages (cut short after ``limit`` chars)."""
        parts: list[str] = []
        size = 0

        def put(text: str) -> None:
            nonlocal size
            parts.append(text)
            size += len(text)

        def walk(node: YNode) -> None:
            if size > limit:
                return
            if node.kind == "scalar":
                put(node.text)
                return
            put("[" if node.kind == "seq" else "{")
            items = node.value if node.kind == "seq" else list(node.value.items())
            for i, item in enumerate(items):
                if size > limit:
                    break
                put(", " if i else "")
                if node.kind == "seq":
                    walk(item)
                else:
                    put(f"{item[0]}: ")
                    walk(item[1])
            put("]" if node.kind == "seq" else "}")

        walk(self)
        text = "".join(parts)
        return text if size <= limit else text[:limit] + "..."


_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(path: str, text: str, problems: list[Problem]) -> YNode | None:
    """Compose ``text`` (one YAML document) into a :class:`YNode` tree, or None."""
    try:  # libyaml's parser when built: the pure-Python one takes seconds on large files
        node = yaml.compose(text, Loader=_FAST_LOADER)
    except (yaml.YAMLError, RecursionError):
        pass  # parsed again below, so errors read as they always have
    else:
        return _converted(node, path, problems)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        problems.append(Problem(path, mark.line + 1 if mark else 1, f"YAML syntax error: {reason}"))
        return None
    except yaml.reader.ReaderError as exc:
        problems.append(
            Problem(
                path,
                line_of(text, exc.position),
                f"character U+{exc.character:04X} is not allowed in a YAML file"
                if isinstance(exc.character, int)
                else f"YAML syntax error: {exc.reason}",
            )
        )
        return None
    except yaml.YAMLError as exc:
        problems.append(Problem(path, 1, f"YAML syntax error: {exc}"))
        return None
    except RecursionError:
        problems.append(Problem(path, 1, "YAML nested too deeply to read"))
        return None
    return _converted(node, path, problems)


def _converted(node: yaml.Node | None, path: str, problems: list[Problem]) -> YNode | None:
    if node is None:
        return None
    budget = [_MAX_NODES]
    try:
        return _convert(node, path, problems, 0, budget)
    except _TooComplex as exc:
        problems.append(
            Problem(path, exc.line, "YAML nested too deeply or too large (aliases?) to read")
        )
        return None


def _convert(
    node: yaml.Node, path: str, problems: list[Problem], depth: int, budget: list[int]
) -> YNode:
    line = node.start_mark.line + 1
    budget[0] -= 1
    if depth > _MAX_DEPTH or budget[0] < 0:
        raise _TooComplex(line)
    if isinstance(node, yaml.MappingNode):
        if node.tag != _TAG + "map":
            problems.append(Problem(path, line, f"YAML tag {node.tag!r} is not allowed here"))
        values: dict[str, YNode] = {}
        key_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(Problem(path, key_line, "a key must be plain text"))
                continue
            key = key_node.value
            if key in values:
                problems.append(
                    Problem(
                        path, key_line, f"duplicate key {key!r} (first at line {key_lines[key]})"
                    )
                )
                continue
            values[key] = _convert(value_node, path, problems, depth + 1, budget)
            key_lines[key] = key_line
        return YNode("map", line, values, key_lines=key_lines)
    if isinstance(node, yaml.SequenceNode):
        if node.tag != _TAG + "seq":
            problems.append(Problem(path, line, f"YAML tag {node.tag!r} is not allowed here"))
        items = [_convert(n, path, problems, depth + 1, budget) for n in node.value]
        return YNode("seq", line, items)
    text = str(node.value)
    if node.tag not in _SCALAR_TAGS:
        problems.append(Problem(path, line, f"YAML tag {node.tag!r} is not allowed here"))
        return YNode("scalar", line, text, text)
    try:
        value = _CONSTRUCTOR.yaml_constructors[node.tag](_CONSTRUCTOR, node)
    except (ValueError, TypeError, OverflowError, ArithmeticError, yaml.YAMLError):
        # e.g. 2026-02-30 looks like a date but is none: keep the text, and
        # let the field's own check say what is wrong with it.
        value = text
    return YNode("scalar", line, value, text)


# --- CSV ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvRow:
    line: int  # line the record starts on (header = line 1)
    values: dict[str, str]  # column -> value, white space stripped


@dataclass(frozen=True)
class CsvTable:
    header: tuple[str, ...]  # column names as normalised (stripped, lowercase)
    rows: tuple[CsvRow, ...]
    complete: bool  # False when a syntax error stopped the reading


def parse_csv(
    path: str,
    text: str,
    problems: list[Problem],
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
) -> CsvTable | None:
    """Read a CSV with a header row; None if the header itself is unusable."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    allowed = required + optional
    header: list[str] | None = None
    header_line = 1
    rows: list[CsvRow] = []
    complete = True
    previous = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            hint = (
                "; a quote opened in this row is never closed"
                if "end of data" in str(exc)
                else "; a quoted value must be followed by a comma or the end of the line"
                if "expected after" in str(exc)
                else ""
            )
            problems.append(Problem(path, previous + 1, f"CSV syntax error: {exc}{hint}"))
            complete = False
            break
        start, previous = previous + 1, reader.line_num
        if not any(v.strip() for v in record):
            continue
        if header is None:
            header_line = start
            header = [h.strip().lower() for h in record]
            if not _header_ok(path, header_line, header, required, allowed, problems):
                return None
            continue
        if len(record) != len(header):
            problems.append(
                Problem(
                    path,
                    start,
                    f"found {len(record)} fields, expected {len(header)} as in the header "
                    f"({','.join(header)}); quote a value that holds a comma",
                )
            )
            continue
        rows.append(CsvRow(start, {h: v.strip() for h, v in zip(header, record, strict=True)}))
    if header is None:
        if complete:
            problems.append(
                Problem(path, 1, f"no header row; expected the columns {','.join(required)}")
            )
        return None
    return CsvTable(tuple(header), tuple(rows), complete)


def _header_ok(
    path: str,
    line: int,
    header: list[str],
    required: tuple[str, ...],
    allowed: tuple[str, ...],
    problems: list[Problem],
) -> bool:
    ok = True
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.append(Problem(path, line, f"column {name!r} appears twice in the header"))
            ok = False
        seen.add(name)
        if name not in allowed:
            problems.append(
                Problem(
                    path,
                    line,
                    f"unknown column {name!r}{suggest(name, allowed)}; "
                    f"allowed columns: {listing(allowed)}",
                )
            )
            ok = False
    missing = [name for name in required if name not in seen]
    if missing:
        s = "s" * (len(missing) > 1)
        problems.append(
            Problem(
                path,
                line,
                f"missing column{s} {', '.join(map(repr, missing))}; "
                f"the header must name {','.join(required)}",
            )
        )
        ok = False
    return ok


# --- TOML -----------------------------------------------------------------------------

_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")
_TOML_KEY_PART = r"(?:\"[^\"]*\"|'[^']*'|[A-Za-z0-9_-]+)"
_TOML_KEY = re.compile(rf"\s*({_TOML_KEY_PART}(?:\s*\.\s*{_TOML_KEY_PART})*)\s*=")
_TOML_TABLE = re.compile(rf"\s*\[\s*({_TOML_KEY_PART}(?:\s*\.\s*{_TOML_KEY_PART})*)\s*\]")
_TOML_PART = re.compile(_TOML_KEY_PART)


def parse_toml(
    path: str, text: str, problems: list[Problem]
) -> tuple[dict[str, Any], dict[tuple[str, ...], int]] | None:
    """The TOML document and a map from each table/key path to its line, or None."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POS.search(message)
        if match:
            line = int(match.group(1))
            message = message[: match.start()].rstrip()
        else:
            line = text.rstrip("\n").count("\n") + 1
            message = message.replace("(at end of document)", "at the end of the file").strip()
        problems.append(Problem(path, line, f"TOML syntax error: {message}"))
        return None
    except RecursionError:
        problems.append(Problem(path, 1, "TOML nested too deeply to read"))
        return None
    return data, toml_lines(text)


def toml_lines(text: str) -> dict[tuple[str, ...], int]:
    """Map ``("sampler", "draws")`` -> the line it is written on (first one wins)."""
    where: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for number, raw in enumerate(text.splitlines(), start=1):
        match = _TOML_TABLE.match(raw)
        if match and not raw.lstrip().startswith("[["):
            table = _toml_parts(match.group(1))
            where.setdefault(table, number)
            continue
        match = _TOML_KEY.match(raw)
        if match:
            where.setdefault(table + _toml_parts(match.group(1)), number)
    return where


def _toml_parts(dotted: str) -> tuple[str, ...]:
    return tuple(p.strip("\"'") for p in _TOML_PART.findall(dotted))


def toml_line(lines: dict[tuple[str, ...], int], *keys: str) -> int:
    """Line of a key path, else of its nearest table, else 1."""
    for n in range(len(keys), 0, -1):
        if keys[:n] in lines:
            return lines[keys[:n]]
    return 1


# --- values ---------------------------------------------------------------------------


def parse_number(text: str) -> float | None:
    """A finite decimal number written in ASCII (``3``, ``0.25``, ``1e-3``), or None."""
    text = text.strip()
    if not NUMBER_RE.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def parse_ratio(text: str) -> tuple[float | None, str]:
    """A likelihood ratio written as a number or a fraction ``a/b``.

    Returns ``(ratio, "")`` or ``(None, why not)``; never evaluates anything.
    """
    text = text.strip()
    match = FRACTION_RE.fullmatch(text)
    if match:
        num, den = float(match.group(1)), float(match.group(2))
        if den == 0:
            return None, "divides by zero"
        value = num / den
    elif NUMBER_RE.fullmatch(text):
        value = float(text)
    else:
        return None, "is not a number"
    if not math.isfinite(value):
        return None, "is not a finite number"
    if value <= 0:
        return None, "is not positive"
    return value, ""


def parse_iso_date(value: Any) -> tuple[dt.date | None, str]:
    """A date from YAML (a ``date``) or text ``YYYY-MM-DD``; ``(None, why not)``."""
    if isinstance(value, dt.datetime):
        return None, f"{value.isoformat()!r} is a timestamp; write a date YYYY-MM-DD"
    if isinstance(value, dt.date):
        return value, ""
    text = str(value).strip() if value is not None else ""
    if not text:
        return None, "missing; write YYYY-MM-DD"
    if not ISO_DATE_RE.fullmatch(text):
        return None, f"{text!r} is not a date in the form YYYY-MM-DD"
    try:
        return dt.date.fromisoformat(text), ""
    except ValueError:
        return None, f"{text!r} is not a calendar date"
