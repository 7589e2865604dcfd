"""The schema of ``forecast.toml``: settings and codebook overrides.

The defaults are those of :class:`~forecast.workspace.objects.Settings` and
the codebook; every key a file names is checked here, with its message.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from forecast.codebook import CONFIDENCE_SD, CREDIBILITY, DIRECTIONS, GRADES, NEUTRAL, WORD_SYNONYMS
from forecast.formats import listing
from forecast.workspace.fields import Says, says
from forecast.workspace.objects import Settings
from forecast.workspace.schema import Entry


class Section(Entry):
    unknown = "unknown key {key!r} in [{parent}]{hint}; allowed keys: {allowed}"
    shape = "{key} must be a table [{key}], found {fmt}"


WholeAbove0 = Annotated[
    int, Field(gt=0, strict=True), Says(bad="{key} {fmt} must be a whole number > 0")
]


PoolingValue = Annotated[
    Literal["hierarchical", "direct"],
    Says(bad="pooling {fmt} is not allowed; use 'hierarchical', 'direct'"),
]
CodingSd = Annotated[
    float,
    Field(ge=0, strict=True, allow_inf_nan=False),
    Says(
        bad="coding_sd {fmt} must be a number >= 0 (coding uncertainty: the sd of the log "
        "of a coded log-ratio's size; 0 takes the coded ratios as exact)"
    ),
]
Seed = Annotated[int, Field(ge=0, strict=True), Says(bad="seed {fmt} must be a whole number >= 0")]
TargetAccept = Annotated[
    float,
    Field(gt=0, lt=1, strict=True, allow_inf_nan=False),
    Says(bad="target_accept {fmt} must be a number between 0 and 1 (exclusive), e.g. 0.9"),
]


class ModelSection(Section):
    """``[model]``"""

    pooling: PoolingValue = Settings.pooling
    coding_sd: CodingSd = Settings.coding_sd


class SamplerSection(Section):
    """``[sampler]``"""

    draws: WholeAbove0 = Settings.draws
    chains: WholeAbove0 = Settings.chains
    tune: WholeAbove0 = Settings.tune
    seed: Seed = Settings.seed
    target_accept: TargetAccept = Settings.target_accept


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class ReportSection(Section):
    """``[report]``"""

    output: Annotated[
        str,
        Field(min_length=1, strict=True),
        BeforeValidator(_strip),
        Says(bad='output {fmt} must be a folder name, e.g. "reports"'),
    ] = Settings.output


# --- [codebook.*] ------------------------------------------------------------------------


def _finite(value: Any) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _pair(ok: Callable[[list], bool]) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, list) and len(v) == 2 and all(map(_finite, v)) and ok(v)


def _table(
    name: str,
    normal: Callable[[str], str],
    key_ok: Callable[[str], bool],
    key_rule: str,
    value_ok: Callable[[Any], bool],
    value_rule: str,
) -> Any:
    """A ``[codebook.<name>]`` table: keys normalised and checked, values checked.

    The rules' messages may name ``{key}`` (as written) and ``{fmt}`` (the value).
    """
    where = f"[codebook.{name}]"

    def key(raw: str) -> str:
        word = normal(raw)
        if not key_ok(word):
            raise says(f"{where}: {key_rule}", key=raw)
        return word

    def value(raw: Any) -> Any:
        if not value_ok(raw):
            raise says(f"{where} {value_rule}")
        return raw

    return Annotated[
        dict[Annotated[str, BeforeValidator(key)], Annotated[Any, AfterValidator(value)]],
        Says(type="[codebook.{key}] must be a table, found {fmt}"),
    ]


def _words(key: str) -> str:
    word = " ".join(key.strip().lower().split())
    return WORD_SYNONYMS.get(word, word)


def _credibility_one(table: dict[str, Any]) -> dict[str, Any]:
    if "1" in table and table["1"] != 1:
        raise says(
            "[codebook.credibility] 1 = {fmt}: credibility 1 (confirmed) is always exactly 1, "
            "never discounted",
            at="1",
            fmt=f"{table['1']:g}" if isinstance(table["1"], float) else repr(table["1"]),
        )
    return table


_RUNG = re.compile(r"[a-z]+(?:-[a-z]+)*")
_ESTIMATE = re.compile(r"[a-z]+(?: [a-z]+)*")
_DIGITS = {str(d) for d in CREDIBILITY}


class CodebookSection(Section):
    """``[codebook.*]``: overrides of the codebook's tables, key by key."""

    strengths: _table(
        "strengths",
        lambda k: k.strip().lower(),
        lambda w: (
            bool(_RUNG.fullmatch(w)) and w != NEUTRAL and w.rpartition("-")[2] not in DIRECTIONS
        ),
        "{key!r} is not a strength word (lowercase words joined by '-', without "
        "-for/-against, e.g. strong)",
        lambda v: _finite(v) and v > 1,
        "{key} = {fmt}: a strength is a likelihood ratio > 1 (its -against form is 1 over it)",
    ) = {}
    grades: _table(
        "grades",
        lambda k: k.strip().upper(),
        lambda g: g in GRADES,
        f"{{key!r}} is not an Admiralty grade; use {listing(GRADES)}",
        _pair(lambda v: v[0] > 0 and v[1] > 0),
        "{key} = {fmt}: a grade is a Beta prior [a, b] of two numbers > 0, e.g. [8, 2]",
    ) = {}
    credibility: Annotated[
        _table(
            "credibility",
            lambda k: k.strip(),
            lambda d: d in _DIGITS,
            "{key!r} is not a credibility digit; use 1 to 6",
            lambda v: _finite(v) and 0 < v <= 1,
            "{key} = {fmt}: a credibility multiplier is a number in (0, 1]",
        ),
        AfterValidator(_credibility_one),
    ] = {}
    words: _table(
        "words",
        _words,
        lambda w: bool(_ESTIMATE.fullmatch(w)),
        "{key!r} is not an estimative word (lowercase words)",
        _pair(lambda v: 0 < v[0] < v[1] < 1),
        "{key!r} = {fmt}: a word's band is [lo, hi] with 0 < lo < hi < 1, e.g. [0.55, 0.80]",
    ) = {}
    confidence_sd: _table(
        "confidence_sd",
        lambda k: k.strip().lower(),
        lambda c: c in CONFIDENCE_SD,
        f"{{key!r}} is not a confidence; use {listing(CONFIDENCE_SD)}",
        lambda v: _finite(v) and v > 0,
        "{key} = {fmt}: a log-odds standard deviation is a number > 0",
    ) = {}
    confidence_levels: _table(
        "confidence_levels",
        lambda k: k.strip().lower(),
        lambda c: c in CONFIDENCE_SD,
        f"{{key!r}} is not a confidence; use {listing(CONFIDENCE_SD)}",
        lambda v: _finite(v) and 0 < v < 1,
        "{key} = {fmt}: a confidence level is a number between 0 and 1 (exclusive)",
    ) = {}


class SettingsFile(Entry):
    """``forecast.toml``: every key optional, every unknown one an error."""

    unknown = "unknown section [{key}]{hint}; allowed sections: {tables}"
    model: ModelSection = ModelSection()
    sampler: SamplerSection = SamplerSection()
    report: ReportSection = ReportSection()
    codebook: CodebookSection = CodebookSection()

    def settings(self) -> Settings:
        """The settings the file names, defaults for the rest."""
        values: dict[str, Any] = {}
        for section in (self.model, self.sampler, self.report):
            values.update(section.model_dump(include=section.model_fields_set))
        return Settings(**values)

    def tables(self) -> dict[str, dict]:
        """The codebook overrides, as :meth:`Codebook.with_overrides` takes them."""
        book = self.codebook
        out: dict[str, dict] = {
            "strengths": {k: float(v) for k, v in book.strengths.items()},
            "grades": {k: (float(v[0]), float(v[1])) for k, v in book.grades.items()},
            "credibility": {int(k): float(v) for k, v in book.credibility.items()},
            "words": {k: (float(v[0]), float(v[1])) for k, v in book.words.items()},
            "confidence_sd": {k: float(v) for k, v in book.confidence_sd.items()},
            "confidence_levels": {k: float(v) for k, v in book.confidence_levels.items()},
        }
        return {name: table for name, table in out.items() if name in book.model_fields_set}
