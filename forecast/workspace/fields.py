"""The field types of the schema: how each kind of value is read and checked.

A field is ``Annotated[type, Field(constraints), Says(...), BeforeValidator(...)]``
the type and constraints are what JSON Schema shows an editor, the
:class:`Says` holds what the user reads when the value breaks them, and the
before-validator reads the value as it comes from a file (a YAML node, a CSV
cell or a TOML value) into the type. Rules too intricate for a constraint
raise :func:`says` with their own message.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationInfo
from pydantic_core import PydanticCustomError

from forecast.codebook import DEFAULT, WORD_SYNONYMS, Codebook
from forecast.formats import (
    ID_RE,
    INTEGER_RE,
    SLUG_RE,
    YNode,
    listing,
    parse_iso_date,
    parse_number,
    parse_ratio,
    suggest,
)


@dataclass(frozen=True)
class Says:
    """What the user reads when a field's value is wrong, in their words.

    Each message is a ``str.format`` template; the variables are ``key`` (the
    field or mapping key), ``found`` (the value as written: ``'abc'``,
    ``[6]``, ``nothing``), ``text`` (the written text, stripped), ``value``
    (the value read: ``35``, ``[6, 0]``), ``fmt`` (a TOML value: ``1.5``,
    ``'2'``), what the caller knows (``what``, ``target``) and what the rule
    raising it adds (``why``).

    ``bad``: the value is not allowed; ``type``: it is not even the right
    kind of value (default ``bad``); ``missing``: a required field is absent
    or blank. ``at`` says which line a missing field is reported on:
    ``"key"`` (its key's line when the key is written, else its parent's),
    ``"parent"`` or ``"value"`` (the line the value starts on).
    """

    bad: str = ""
    type: str = ""
    missing: str = ""
    at: Literal["key", "parent", "value"] = "key"
    typeish: tuple[str, ...] = ()  # pydantic error types read as "not the right kind"


def says(template: str, *, at: str | None = None, **values: Any) -> PydanticCustomError:
    """A problem with its own message (``raise says(...)``); ``at`` names the key
    (of the value checked) whose line it is reported on."""
    return PydanticCustomError("says", "says", {"template": template, "at": at, **values})


def _error(kind: str, **values: Any) -> PydanticCustomError:
    return PydanticCustomError(kind, kind, values)


# --- reading a value as it comes from a file ----------------------------------------------


def scalar(value: Any) -> tuple[Any, str] | None:
    """``(value, text as written)`` of a YAML scalar, a CSV cell or a TOML value;
    None for a mapping or a list."""
    if isinstance(value, YNode):
        return (value.value, value.text) if value.kind == "scalar" else None
    if isinstance(value, dict | list):
        return None
    return value, value if isinstance(value, str) else str(value)


def read_text(value: Any) -> str:
    """Text as written, stripped; blank text is a missing value."""
    read = scalar(value)
    if read is None:
        raise _error("not_text")
    if read[0] is None or not read[1].strip():
        raise _error("blank")
    return read[1].strip()


def read_optional_text(value: Any) -> str | None:
    read = scalar(value)
    if read is None:
        raise _error("not_text")
    return read[1].strip() or None if read[0] is not None else None


def read_number(value: Any) -> float:
    """A finite number (YAML ``1e-3``, read as text by YAML 1.1, included); no booleans."""
    read = scalar(value)
    number = None
    if read is not None and not isinstance(read[0], bool):
        if isinstance(read[0], int | float):
            try:
                number = float(read[0])
            except OverflowError:
                number = None
            number = number if number is not None and math.isfinite(number) else None
        elif isinstance(read[0], str):
            number = parse_number(read[0])
    if number is None:
        raise _error("not_number")
    return number


def read_date(value: Any) -> dt.date:
    raw = value.value if isinstance(value, YNode) else value
    date, why = parse_iso_date(raw)
    if date is None:
        raise _error("not_date", why=why)
    return date


def read_whole(value: Any) -> Any:
    """A CSV cell holding a whole number as that number ('' as 0), else the text."""
    if isinstance(value, str):
        if not value:
            return 0
        if INTEGER_RE.fullmatch(value):
            return int(value)
    return value


def read_word(value: Any) -> Any:
    """A YAML word lowercased, to compare with the allowed ones; else as found."""
    read = scalar(value)
    return read[1].strip().lower() if read is not None else value


def read_outcome(value: Any) -> Any:
    read = scalar(value)
    if read is None:
        return ""
    if isinstance(read[0], bool):  # YAML 1.1 reads an unquoted yes/no as a boolean
        return "yes" if read[0] else "no"
    return read[1].strip().lower()


def codebook(info: ValidationInfo) -> Codebook:
    return (info.context or {}).get("codebook", DEFAULT)


def read_estimate(value: Any, info: ValidationInfo) -> str:
    """The canonical estimative word (synonyms folded, case and spacing free)."""
    read = scalar(value)
    key = " ".join(read[1].strip().lower().split()) if read is not None else ""
    key = WORD_SYNONYMS.get(key, key)
    words = codebook(info).words
    if key not in words:
        raise says(
            "{found} is not an estimative word{hint}; use one of {words} "
            "(or an ICD-203 synonym: {synonyms})",
            hint=suggest(key, list(words) + list(WORD_SYNONYMS)),
            words=listing(words),
            synonyms=listing(WORD_SYNONYMS),
        )
    return key


def strength_ratio(book: Codebook, text: str) -> float | None:
    """The likelihood ratio a strength (a codebook word or a number) stands for."""
    ratio = book.ratio(text)
    return ratio if ratio is not None else parse_ratio(text)[0]


def read_strength(value: str, info: ValidationInfo) -> str:
    book = codebook(info)
    if value and (book.ratio(value) is not None or parse_ratio(value)[0] is not None):
        return value
    words = listing(book.strength_words())
    if not value:
        raise says(
            "missing strength: write a word ({words}) or a likelihood ratio such as 3, 0.25 or 1/4",
            words=words,
        )
    why = parse_ratio(value)[1]
    if any(c.isalpha() for c in value) and why == "is not a number":
        raise says(
            "unknown strength {text!r}{hint}; allowed words: {words}, or a likelihood "
            "ratio such as 3, 0.25 or 1/4",
            text=value,
            hint=suggest(value.lower(), book.strength_words()),
            words=words,
        )
    raise says(
        "strength {text!r} {why}; write a likelihood ratio > 0 such as 3, 0.25 or 1/4 "
        "(below 1 counts against), or a word ({words})",
        text=value,
        why=why,
        words=words,
    )


def read_reliability(value: str, info: ValidationInfo) -> str | float:
    """An Admiralty grade (upper case) or a fixed reliability in [0, 1]."""
    grades = listing(codebook(info).grades)
    if not value:
        raise says(
            "missing reliability: an Admiralty grade ({grades}) or a number in [0, 1]",
            grades=grades,
        )
    if len(value) == 1 and value.upper() in codebook(info).grades:
        return value.upper()
    number = parse_number(value)
    if number is not None and 0 <= number <= 1:
        return number
    raise says(
        "reliability {text!r} is neither an Admiralty grade ({grades}) nor a number in [0, 1]",
        text=value,
        grades=grades,
    )


# --- the types fields are built from ---------------------------------------------------

Text = Annotated[str, BeforeValidator(read_text)]
OptionalText = Annotated[str | None, BeforeValidator(read_optional_text)]
Number = Annotated[float, BeforeValidator(read_number)]
Date = Annotated[dt.date, BeforeValidator(read_date)]
# constraints come before the reader, so JSON Schema shows them
Slug = Annotated[str, Field(pattern=f"^{SLUG_RE.pattern}$"), BeforeValidator(read_text)]
RowId = Annotated[str, Field(pattern=f"^{ID_RE.pattern}$"), BeforeValidator(read_text)]
Positive = Annotated[float, Field(gt=0), BeforeValidator(read_number)]
Probability = Annotated[
    float,
    Field(gt=0, lt=1),
    BeforeValidator(read_number),
    Says(
        type="{target}: {key} must be a number between 0 and 1, found {found}",
        bad="{target}: {key} = {value} must be strictly between 0 and 1 (nothing is certain)",
    ),
]
Confidence = Annotated[
    Literal["high", "medium", "low"],
    BeforeValidator(read_word),
    Says(bad="{target}: confidence {found} is not allowed; use high, medium, low"),
]
Estimate = Annotated[
    str,
    BeforeValidator(read_estimate),
    Field(
        description="an ICD-203 estimative word (case and spacing free)",
        examples=list(DEFAULT.words) + list(WORD_SYNONYMS),
    ),
]
Count = Annotated[
    int,
    Field(ge=0, strict=True),
    BeforeValidator(read_whole),
    Says(
        bad="{key} {text!r} must be a whole number >= 0 (reports later found true / false), "
        "or empty for 0"
    ),
]
