"""Schema errors in the user's words, on the line they concern.

:func:`check` validates what a file holds against a schema model and turns
each pydantic error into a :class:`~forecast.errors.Problem`: the message is
the field's :class:`~forecast.workspace.fields.Says` (or the model's
``unknown`` / ``shape``) filled in with what the file says, and the line is
found by following the error's location through the file's nodes.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Tag, ValidationError
from pydantic_core import PydanticCustomError

from forecast.errors import Problem
from forecast.formats import YNode, listing, suggest, toml_line
from forecast.workspace.fields import Says, read_number, scalar

_MISSING = object()
_MISSING_TYPES = {"missing", "blank"}
_TYPE_TYPES = {"not_text", "not_number", "model_type", "model_attributes_type", "dict_type"}


def _category(kind: str, rule: Says | None) -> str:
    if kind in _MISSING_TYPES:
        return "missing"
    if kind in _TYPE_TYPES or kind.endswith(("_type", "_parsing")):
        return "type"
    if rule is not None and kind in rule.typeish:
        return "type"
    return "bad"


def shown(value: Any) -> str:
    """A value read from a file, for messages: numbers as ``35`` or ``0.5``, lists as ``[6, 0]``."""
    if isinstance(value, YNode):
        if value.kind == "seq":
            return "[" + ", ".join(shown(v) for v in value.value) + "]"
        if value.kind == "scalar":
            try:
                return f"{read_number(value):g}"
            except PydanticCustomError:  # not a number: the text as written
                return value.text
        return value.render()
    if isinstance(value, list):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    if isinstance(value, float | int) and not isinstance(value, bool):
        return f"{value:g}"
    return str(value)


def fmt(value: Any) -> str:
    """A TOML value as the messages show it: floats as ``1.5``, everything else as repr."""
    return f"{value:g}" if isinstance(value, float) else repr(value)


# --- documents: where each value sits in a file ----------------------------------------------


class Document:
    """What a file holds, as validated, and where each part of it is written."""

    def node(self, loc: Sequence) -> Any:
        """The value at ``loc`` as it comes from the file, or ``_MISSING``."""
        raise NotImplementedError

    def line(self, loc: Sequence, at: str = "key") -> int:
        raise NotImplementedError

    def found(self, node: Any) -> str:
        return node.describe() if isinstance(node, YNode) else repr(node)


class YamlDocument(Document):
    def __init__(self, root: YNode):
        self.root = root

    def _walk(self, loc: Sequence) -> tuple[YNode | None, int, int]:
        """The node at ``loc`` (None when absent), the line found, how far it got."""
        node, line = self.root, 1
        for depth, part in enumerate(loc):
            if node.kind == "map" and part in node.value:
                line, node = node.key_lines[part], node.value[part]
            elif node.kind == "seq" and isinstance(part, int) and 0 <= part < len(node.value):
                node = node.value[part]
                line = node.line
            else:
                return None, line, depth
        return node, line, len(loc)

    def node(self, loc: Sequence) -> Any:
        node, _, _ = self._walk(loc)
        return _MISSING if node is None else node

    def line(self, loc: Sequence, at: str = "key") -> int:
        if at == "parent" and loc:
            return self._walk(loc[:-1])[1]
        node, line, _ = self._walk(loc)
        if at == "value" and node is not None and loc:
            return node.line
        return line


class TomlDocument(Document):
    def __init__(self, data: Mapping[str, Any], lines: dict[tuple[str, ...], int]):
        self.data, self.lines = data, lines

    def node(self, loc: Sequence) -> Any:
        node: Any = self.data
        for part in loc:
            if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]  # an array's item
            elif isinstance(node, Mapping) and part in node:
                node = node[part]
            else:
                return _MISSING
        return node

    def line(self, loc: Sequence, at: str = "key") -> int:
        return toml_line(self.lines, *(str(p) for p in loc))


class RowDocument(Document):
    """A CSV row: every problem is on its line."""

    def __init__(self, values: Mapping[str, str], line: int):
        self.values, self.row_line = values, line

    def node(self, loc: Sequence) -> Any:
        return self.values.get(loc[0], _MISSING) if loc else self.values

    def line(self, loc: Sequence, at: str = "key") -> int:
        return self.row_line


# --- following a location through the model ------------------------------------------------


@dataclass
class _Place:
    loc: tuple  # the location in the file's data (tags and key markers left out)
    rule: Says | None = None
    rule_loc: tuple = ()
    owner: type[BaseModel] | None = None  # the model whose key the location ends on
    model: type[BaseModel] | None = None  # the model the location's value should be


def _unwrap(tp: Any, place: _Place, loc: tuple) -> Any:
    """Strip ``Annotated`` and ``X | None``, noting any :class:`Says` met on the way."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            base, *meta = typing.get_args(tp)
            for m in meta:
                if isinstance(m, Says):
                    place.rule, place.rule_loc = m, loc
            tp = base
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp
            tp = members[0]
        else:
            return tp


def _tags(tp: Any) -> dict[str, Any]:
    out = {}
    for member in typing.get_args(tp):
        if typing.get_origin(member) is typing.Annotated:
            for m in typing.get_args(member)[1:]:
                if isinstance(m, Tag):
                    out[m.tag] = member
    return out


def locate(model: type[BaseModel], loc: Sequence) -> _Place:
    """Follow a pydantic error location through ``model``'s fields and types."""
    place = _Place(loc=())
    tp: Any = model
    key_type: Any = Any  # the key type of the mapping last entered
    for part in loc:
        if part == "[key]":  # pydantic's marker after a key: the key itself is wrong
            tp = key_type
            continue
        tp = _unwrap(tp, place, place.loc)
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            place.owner = tp
            info = tp.model_fields.get(part) if isinstance(part, str) else None
            place.loc += (part,)
            if info is None:
                return place
            for m in info.metadata:
                if isinstance(m, Says):
                    place.rule, place.rule_loc = m, place.loc
            tp = info.annotation
        elif origin in (typing.Union, types.UnionType):
            tp = _tags(tp).get(part, tp)  # a tag names the union member: not in the data
        elif origin is dict:
            key_type, tp = typing.get_args(tp)
            place.loc += (part,)
        elif origin in (list, tuple):
            place.loc += (part,)
            args = typing.get_args(tp)
            tp = args[0] if args else Any
        else:
            place.loc += (part,)
    tp = _unwrap(tp, place, place.loc)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        place.model = tp
    return place


# --- validation -----------------------------------------------------------------------------


@dataclass
class Found:
    """One problem, with the location in the file's data it concerns."""

    loc: tuple
    problem: Problem
    unknown_key: bool = False  # an unknown key: the entry holding it is still read

    def cut(self, depth: int) -> tuple:
        """What to leave out to read the rest: the entry (``depth`` levels deep)
        holding the problem, or only the key when the key is unknown."""
        return self.loc if self.unknown_key else self.loc[:depth]


def problems(
    model: type[BaseModel],
    error: ValidationError,
    doc: Document,
    path: str,
    known: Callable[[tuple], Mapping[str, Any]] | None = None,
) -> list[Found]:
    """Each of ``error``'s problems in the user's words, one per value, in order.

    ``known(loc)`` gives what the caller knows about a location, for the
    messages (``what``: the entry's name, ``target``: the prior's id). When
    one value has several problems, the first of the most basic kind is kept
    (missing, then not the right kind of value, then not allowed).
    """
    kept: dict[tuple, tuple[int, Found]] = {}
    # unknown keys first, as a reader meets them before the values
    for err in sorted(
        error.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden"
    ):
        where, at, rank, message = _explain(model, err, doc, known)
        if where not in kept or rank < kept[where][0]:
            problem = Problem(path, doc.line(where, at), message)
            kept[where] = (rank, Found(where, problem, err["type"] == "extra_forbidden"))
    return [found for _, found in kept.values()]


_RANK = {"missing": 0, "type": 1, "bad": 2}


def _explain(
    model: type[BaseModel],
    err: Any,
    doc: Document,
    known: Callable[[tuple], Mapping[str, Any]] | None,
) -> tuple[tuple, str, int, str]:
    """``(location in the data, which line of it, rank, message)`` of one error."""
    kind, ctx = err["type"], dict(err.get("ctx") or {})
    place = locate(model, err["loc"])
    rule = place.rule
    values: dict[str, Any] = dict(known(place.loc) if known else {})
    where, at = (place.rule_loc if rule is not None else place.loc), "key"
    category = _category(kind, rule)
    if kind == "extra_forbidden":
        owner = place.owner or model
        fields = list(owner.model_fields)
        where, template = place.loc, owner.unknown
        values.update(
            hint=suggest(str(place.loc[-1]), fields),
            allowed=listing(fields),
            tables=listing(f"[{f}]" for f in fields),
            parent=place.loc[-2] if len(place.loc) > 1 else "",
        )
    elif kind == "says":
        template, extra = ctx.pop("template"), ctx.pop("at")
        where = place.loc + ((extra,) if extra is not None else ())
    elif kind in ("model_type", "model_attributes_type") and place.model is not None:
        where, template = place.loc, place.model.shape
    elif rule is None:
        template = err["msg"]
    else:
        options = {
            "missing": (rule.missing, rule.bad),
            "type": (rule.type, rule.bad),
            "bad": (rule.bad, rule.type),
        }[category]
        template = next((t for t in options if t), err["msg"])
        if category == "missing":
            at = "key" if rule.at == "value" else rule.at
        elif rule.at == "value":
            at = "value"
    values.update(ctx)
    node = doc.node(where)
    if node is _MISSING:
        values.setdefault("found", "nothing")
    else:
        read = scalar(node)
        values.setdefault("found", doc.found(node))
        values.setdefault("text", read[1].strip() if read else "")
        values.setdefault("value", shown(node))
        values.setdefault("fmt", shown(node) if isinstance(node, YNode) else fmt(node))
    values.setdefault("key", next((p for p in reversed(where) if isinstance(p, str)), ""))
    return where, at, _RANK[category], template.format_map(_Blank(values))


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def check(
    model: type[BaseModel],
    data: Any,
    doc: Document,
    path: str,
    *,
    context: Mapping[str, Any] | None = None,
    known: Callable[[tuple], Mapping[str, Any]] | None = None,
) -> tuple[BaseModel | None, list[Found]]:
    """``(model instance, [])`` when ``data`` is valid, else ``(None, problems)``."""
    try:
        return model.model_validate(data, context=dict(context or {})), []
    except ValidationError as exc:
        return None, problems(model, exc, doc, path, known)


def salvage(
    model: type[BaseModel],
    data: Mapping[str, Any],
    found: list[Found],
    depth: int,
    *,
    context: Mapping[str, Any] | None = None,
) -> BaseModel | None:
    """What is valid in ``data``: every entry (to ``depth`` levels) with a problem
    left out, a top-level list or mapping with a problem left empty; None when
    that is not enough."""
    cut = {f.cut(depth) for f in found}
    top = {loc for loc in cut if len(loc) == 1}
    kept = dict(data)
    for (name,) in top:
        info = model.model_fields.get(name)
        origin = typing.get_origin(_unwrap(info.annotation, _Place(()), ())) if info else None
        if origin is list:
            kept[name] = []
        elif origin is dict:
            kept[name] = {}
        else:
            kept.pop(name, None)
    kept = _without(kept, cut - top, ())
    try:
        return model.model_validate(kept, context=dict(context or {}))
    except ValidationError:
        return None


def _without(value: Any, cut: set[tuple], loc: tuple) -> Any:
    if not any(c[: len(loc)] == loc and len(c) > len(loc) for c in cut):
        return value
    if isinstance(value, dict):
        return {k: _without(v, cut, (*loc, k)) for k, v in value.items() if (*loc, k) not in cut}
    if isinstance(value, list):
        return [_without(v, cut, (*loc, i)) for i, v in enumerate(value) if (*loc, i) not in cut]
    return value
