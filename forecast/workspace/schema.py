"""The schema: one declarative model per kind of workspace file and entry.

Every rule a single field obeys lives here, once, with the message the user
reads when it is broken (:class:`~forecast.workspace.fields.Says`). The same
models give the JSON Schema editors use (``forecast schema``). Rules across
entries and files (unique ids, references, clusters, coverage) live in
:mod:`forecast.workspace.rules`.

A model's ``unknown`` is how a key it does not know is reported, and its
``shape`` how a value that is not a mapping at all is reported.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from forecast.codebook import CREDIBILITY, CREDIBILITY_NAMES
from forecast.formats import ID_RULE, SLUG_RULE, YNode, listing, suggest
from forecast.workspace.fields import (
    Confidence,
    Count,
    Date,
    Estimate,
    Number,
    OptionalText,
    Positive,
    Probability,
    RowId,
    Says,
    Slug,
    Text,
    read_outcome,
    read_reliability,
    read_strength,
    read_whole,
    says,
)

DEFAULT_LEVEL = 0.9  # an interval without a level is read as a central 90 % interval
DEFAULT_CONFIDENCE = "medium"  # an estimative word without a confidence


class Entry(BaseModel):
    """A mapping in a workspace file: unknown keys are errors; a key written
    with no value (YAML ``key:``) counts as absent unless ``empty_is_absent``
    is False (then the empty value is checked, and found wanting)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    unknown: ClassVar[str] = "unknown key {key!r}{hint}; allowed: {allowed}"
    shape: ClassVar[str] = "expected a mapping, found {found}"
    empty_is_absent: ClassVar[bool] = True

    @model_validator(mode="before")
    @classmethod
    def _absent(cls, data: Any) -> Any:
        if cls.empty_is_absent and isinstance(data, dict) and any(map(_null, data.values())):
            fields = cls.__pydantic_fields__
            return {k: v for k, v in data.items() if k not in fields or not _null(v)}
        return data


def _null(value: Any) -> bool:
    return isinstance(value, YNode) and value.kind == "scalar" and value.value is None


# --- priors/questions.yaml ---------------------------------------------------------------


class Resolution(Entry):
    """How a question resolved."""

    unknown = "unknown resolution key {key!r}{hint}; allowed: {allowed}"
    shape = (
        "resolution must be a mapping {{outcome: yes|no|annulled, date: YYYY-MM-DD, "
        "note: ...}}, found {found}"
    )
    outcome: Annotated[
        Literal["yes", "no", "annulled"],
        BeforeValidator(read_outcome),
        Says(
            missing="resolution: missing outcome (yes, no or annulled)",
            bad="resolution outcome {found} is not allowed; use yes, no or annulled",
            at="parent",
        ),
        Field(description="yes, no or annulled (an annulled question counts as unresolved)"),
    ]
    date: Annotated[
        Date | None, Says(bad="resolution date: {why}"), Field(description="YYYY-MM-DD")
    ] = None
    note: Annotated[OptionalText, Says(type="resolution: note must be text, found {found}")] = None


class Question(Entry):
    """A question with a yes/no outcome."""

    unknown = "unknown question key {key!r}{hint}; allowed: {allowed}"
    shape = (
        "a question must be a mapping with id, title, resolution_criteria, close_date, "
        "found {found}"
    )
    id: Annotated[
        Slug,
        Says(
            missing="this question: missing id",
            type="this question: id must be text, found {found}",
            bad=f"question id {{text!r}} is not a slug: use {SLUG_RULE}",
        ),
        Field(description="a slug, unique among questions and drivers"),
    ]
    title: Annotated[
        Text,
        Says(missing="{what}: missing title", type="{what}: title must be text, found {found}"),
        Field(description="one line, as reports show it"),
    ]
    resolution_criteria: Annotated[
        OptionalText,
        Says(type="{what}: resolution_criteria must be text, found {found}"),
        Field(description="what exactly counts as YES (a warning if absent)"),
    ] = None
    close_date: Annotated[
        Date | None,
        Says(bad="close_date: {why}"),
        Field(description="YYYY-MM-DD, the last day the outcome can happen"),
    ] = None
    drivers: Annotated[
        dict[
            str,
            Annotated[
                Number,
                Says(
                    type="loading of {key!r} must be a number (log-odds of the question per "
                    "log-odds of the driver), found {found}"
                ),
            ],
        ]
        | None,
        Says(
            type="drivers must map driver ids to loadings, e.g. {{us-leverage: 0.8}}, found {found}"
        ),
        Field(description="driver id -> loading: the question's log-odds per driver log-odds"),
    ] = None
    resolution: Annotated[Resolution | None, Field(description="once the outcome is known")] = None


class Driver(Entry):
    """A latent factor several questions load on."""

    unknown = "unknown driver key {key!r}{hint}; allowed: {allowed}"
    shape = "a driver must be a mapping with id and title, found {found}"
    id: Annotated[
        Slug,
        Says(
            missing="this driver: missing id",
            type="this driver: id must be text, found {found}",
            bad=f"driver id {{text!r}} is not a slug: use {SLUG_RULE}",
        ),
        Field(description="a slug, unique among questions and drivers"),
    ]
    title: Annotated[
        Text,
        Says(missing="{what}: missing title", type="{what}: title must be text, found {found}"),
        Field(description="one line, as reports show it"),
    ]


class QuestionsFile(Entry):
    """``priors/questions.yaml``: the questions, and the drivers they share."""

    unknown = "unknown top-level key {key!r}{hint}; allowed: {allowed}"
    questions: Annotated[
        list[Question],
        Field(min_length=1, description="a non-empty list of questions"),
        Says(
            missing="no questions: add a 'questions:' list with at least one question",
            type="'questions' must be a list of questions (items starting with '- id: ...'), "
            "found {found}",
            bad="no questions: the 'questions' list is empty",
            at="value",
        ),
    ]
    drivers: Annotated[
        list[Driver],
        Says(
            type="'drivers' must be a list of drivers (items '- id: ...' with a title), "
            "found {found}"
        ),
        Field(description="latent factors several questions load on"),
    ] = []


# --- priors/<analyst>.yaml ---------------------------------------------------------------

FORMS = (
    "{p, lo, hi[, level]}, {beta: [a, b]}, {p, confidence}, {p}, "
    "{estimate, confidence} or an estimative word"
)


class PriorForm(Entry):
    """One of the forms of a prior: every key written must hold a value."""

    empty_is_absent = False


class IntervalPrior(PriorForm):
    """A probability with an interval: ``{p, lo, hi, level}``."""

    p: Probability
    lo: Probability
    hi: Probability
    level: Annotated[Probability, Field(description="how much belief [lo, hi] holds")] = (
        DEFAULT_LEVEL
    )

    @model_validator(mode="after")
    def _ordered(self) -> IntervalPrior:
        if self.lo >= self.hi:
            raise says(
                "{target}: lo = {lo:g} must be below hi = {hi:g}", at="lo", lo=self.lo, hi=self.hi
            )
        if not self.lo <= self.p <= self.hi:
            raise says(
                "{target}: p = {p:g} lies outside its interval [{lo:g}, {hi:g}]; it must "
                "satisfy lo <= p <= hi",
                at="p",
                p=self.p,
                lo=self.lo,
                hi=self.hi,
            )
        return self


class BetaPrior(PriorForm):
    """A Beta(a, b) distribution of the probability: ``{beta: [a, b]}``."""

    beta: Annotated[
        list[Positive],
        Field(min_length=2, max_length=2),
        Says(
            type="{target}: beta must be two numbers [a, b], e.g. [6, 4], found {found}",
            bad="{target}: beta {value} needs a > 0 and b > 0",
            typeish=("too_short", "too_long"),
        ),
    ]


class ConfidencePrior(PriorForm):
    """A probability with a verbal confidence: ``{p, confidence}``."""

    p: Probability
    confidence: Confidence


class PointPrior(PriorForm):
    """A bare probability with no stated spread: ``{p}``."""

    p: Probability


class WordsPrior(PriorForm):
    """An estimative word with a confidence: ``{estimate, confidence}``."""

    estimate: Estimate
    confidence: Confidence = DEFAULT_CONFIDENCE


# kind, keys allowed, keys required: the first form whose keys fit is the prior's form
_FORMS = tuple(
    (kind, set(m.model_fields), {k for k, f in m.model_fields.items() if f.is_required()})
    for kind, m in (
        ("beta", BetaPrior),
        ("words", WordsPrior),
        ("interval", IntervalPrior),
        ("confidence", ConfidencePrior),
        ("point", PointPrior),
    )
)
STATEMENT_KEYS = tuple(
    dict.fromkeys(
        k
        for m in (IntervalPrior, BetaPrior, ConfidencePrior, PointPrior, WordsPrior)
        for k in m.model_fields
    )
)


def _form(value: Any) -> str | None:
    if isinstance(value, dict):
        keys = set(value)
        return next((kind for kind, allowed, need in _FORMS if need <= keys <= allowed), None)
    return "word"


def _check_form(value: Any) -> Any:
    """A prior is one of the forms; say which keys are wrong before reading it."""
    if isinstance(value, YNode):
        if isinstance(value.value, str):
            return value
        raise says(
            "{target}: {found} is not a prior; write one of {forms}, e.g. "
            "{{p: 0.3, confidence: medium}}",
            forms=FORMS,
        )
    if isinstance(value, list):
        raise says("{target}: a prior is one of {forms}, found {found}", forms=FORMS)
    if not isinstance(value, dict):
        return value
    unknown = sorted(set(value) - set(STATEMENT_KEYS))
    if unknown:
        raise says(
            "{target}: unknown key{s} {keys}{hint}; allowed keys: {allowed}",
            s="s" * (len(unknown) > 1),
            keys=listing(repr(k) for k in unknown),
            hint=suggest(unknown[0], STATEMENT_KEYS),
            allowed=listing(STATEMENT_KEYS),
        )
    if _form(value) is None:
        raise says(
            "{target}: keys {keys} do not make a prior; write one of {forms}",
            keys=listing(sorted(value)),
            forms=FORMS,
        )
    return value


Prior = Annotated[
    Annotated[IntervalPrior, Tag("interval")]
    | Annotated[BetaPrior, Tag("beta")]
    | Annotated[ConfidencePrior, Tag("confidence")]
    | Annotated[PointPrior, Tag("point")]
    | Annotated[WordsPrior, Tag("words")]
    | Annotated[Estimate, Tag("word")],
    Discriminator(_form),
    BeforeValidator(_check_form),
]


class AnalystFile(Entry):
    """``priors/<analyst>.yaml``: one analyst's priors, one per question or driver."""

    unknown = "unknown key {key!r}{hint}; allowed: {allowed}"
    analyst: Annotated[
        OptionalText,
        Says(type="analyst: analyst must be text, found {found}"),
        Field(description="the analyst's name; default: the file name without .yaml"),
    ] = None
    priors: Annotated[
        dict[str, Prior],
        Says(
            missing="missing 'priors:': map question or driver ids to this analyst's priors",
            type="'priors' must map question or driver ids to priors, found {found}",
        ),
        Field(description="question or driver id -> this analyst's prior"),
    ]


# --- evidence/*.csv and evidence/sources.csv -----------------------------------------------

_CREDIBILITY = ", ".join(f"{d} {n}" for d, n in CREDIBILITY_NAMES.items())


class EvidenceRow(Entry):
    """One coded evidence item (a row of an evidence CSV)."""

    id: Annotated[
        RowId,
        Says(missing="missing id", bad=f"evidence id {{text!r}} is not allowed: use {ID_RULE}"),
    ]
    date: Annotated[Date, Says(bad="date: {why}")]
    bears_on: Annotated[
        Text, Says(missing="missing bears_on: the question or driver id it bears on")
    ]
    source: Annotated[Text, Says(missing="missing source: a source id from evidence/sources.csv")]
    strength: Annotated[str, BeforeValidator(read_strength)]
    credibility: Annotated[
        int,
        Field(ge=min(CREDIBILITY), le=max(CREDIBILITY), strict=True),
        BeforeValidator(read_whole),
        Says(bad=f"credibility {{text!r}} must be a whole number 1-6 ({_CREDIBILITY})"),
    ]
    cluster: str = ""
    summary: str
    citation: str


class SourceRow(Entry):
    """One source (a row of ``evidence/sources.csv``)."""

    id: Annotated[
        RowId,
        Says(missing="missing id", bad=f"source id {{text!r}} is not allowed: use {ID_RULE}"),
    ]
    name: Annotated[Text, Says(missing="source {what!r}: missing name")]
    reliability: Annotated[str | float, BeforeValidator(read_reliability)]
    verified: Count = 0
    refuted: Count = 0
