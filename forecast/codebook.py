"""Codebook defaults: every number a forecaster's words are translated into.

Each value carries a one-line reason. ``forecast.toml`` may override any of
them (see ``docs/workspace.md``); nothing else in the package hard-codes a
translation from words to numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

# --- Verbal strength -> likelihood ratio (P(report | yes) / P(report | no)) ---
# A Jeffreys-style ladder: each rung roughly doubles to triples the log-ratio,
# so coders can rank evidence without claiming more precision than they have.
STRENGTHS: Mapping[str, float] = MappingProxyType(
    {
        "weak": 2.0,  # barely worth mentioning: odds move by a factor of 2
        "moderate": 4.0,  # substantial: what one credible statement of intent does
        "strong": 10.0,  # strong: an official act or a costly signal
        "very-strong": 30.0,  # very strong: near-decisive, e.g. a signed text
    }
)
# Directions a strength word combines with: "<word>-for" multiplies the odds by
# the ratio, "<word>-against" divides them; "neutral" is a ratio of exactly 1.
DIRECTIONS = ("for", "against")
NEUTRAL = "neutral"

# --- Admiralty source-reliability grade -> Beta(a, b) prior on reliability r ---
# r is the probability a report from the source reflects what it claims
# (Schum's discounting: an unreliable report is as likely under yes as no).
GRADES: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "A": (18.0, 2.0),  # completely reliable: mean 0.90, history of near-full validity
        "B": (8.0, 2.0),  # usually reliable: mean 0.80, minor doubts
        "C": (6.0, 4.0),  # fairly reliable: mean 0.60, doubts, but valid in the past
        "D": (3.0, 5.0),  # not usually reliable: mean 0.375, significant doubts
        "E": (1.5, 6.0),  # unreliable: mean 0.20, lacking authenticity or competence
        "F": (1.0, 1.0),  # cannot be judged: uniform, no basis for a grade
    }
)
GRADE_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "A": "completely reliable",
        "B": "usually reliable",
        "C": "fairly reliable",
        "D": "not usually reliable",
        "E": "unreliable",
        "F": "reliability cannot be judged",
    }
)

# --- Admiralty information-credibility digit -> multiplier k on reliability ---
CREDIBILITY: Mapping[int, float] = MappingProxyType(
    {
        1: 1.0,  # confirmed by other sources: full weight (exactly 1, never discounted)
        2: 0.9,  # probably true: consistent with what is known
        3: 0.7,  # possibly true: plausible, not corroborated
        4: 0.4,  # doubtful: possible but contradicts some of what is known
        5: 0.15,  # improbable: contradicted; kept only as a faint signal
        6: 0.5,  # truth cannot be judged: halfway, no reason to favour or dismiss it
    }
)
CREDIBILITY_NAMES: Mapping[int, str] = MappingProxyType(
    {
        1: "confirmed",
        2: "probably true",
        3: "possibly true",
        4: "doubtful",
        5: "improbable",
        6: "cannot be judged",
    }
)

# --- Estimative words (ICD-203) -> probability interval ---
WORDS: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "almost no chance": (0.01, 0.05),  # ICD-203 "remote"
        "very unlikely": (0.05, 0.20),  # ICD-203 "highly improbable"
        "unlikely": (0.20, 0.45),  # ICD-203 "improbable"
        "roughly even chance": (0.45, 0.55),  # ICD-203 "roughly even odds"
        "likely": (0.55, 0.80),  # ICD-203 "probable"
        "very likely": (0.80, 0.95),  # ICD-203 "highly probable"
        "almost certain": (0.95, 0.99),  # ICD-203 "nearly certain"
    }
)
# ICD-203's paired terms mean the same band as the word they stand beside.
WORD_SYNONYMS: Mapping[str, str] = MappingProxyType(
    {
        "remote": "almost no chance",
        "highly improbable": "very unlikely",
        "improbable": "unlikely",
        "roughly even odds": "roughly even chance",
        "even chance": "roughly even chance",
        "probable": "likely",
        "highly probable": "very likely",
        "nearly certain": "almost certain",
        "almost certainly": "almost certain",
    }
)

# --- Analytic confidence -> spread ---
# For an estimative word, the band is read as a central interval of this level:
# the less confident the analyst, the more of their belief lies outside it.
CONFIDENCE_LEVELS: Mapping[str, float] = MappingProxyType(
    {
        "high": 0.90,  # the band holds 90 % of belief
        "medium": 0.70,  # 70 %: the usual hedge of a working analyst
        "low": 0.50,  # 50 %: the band is only the analyst's best half
    }
)
# For ``{p, confidence}``: the standard deviation of the log-odds.
CONFIDENCE_SD: Mapping[str, float] = MappingProxyType(
    {
        "high": 0.5,  # p = 0.7 -> 90 % within about 0.52..0.83
        "medium": 1.0,  # p = 0.7 -> 90 % within about 0.31..0.93
        "low": 1.6,  # close to flat on the probability scale around p
    }
)

# --- Defaults for the model ---
# Prior log-odds of a question nobody stated: Normal(0, 1.6) is close to flat
# on the probability scale (it is the logistic's own sd / 1.13) without piling
# mass at 0 and 1.
DEFAULT_PRIOR_SD = 1.6
# Coding uncertainty: the sd of the log of a coded log-ratio's size. Rungs of
# the ladder sit a factor 1.5-2 apart in log-ratio, so 0.4 says "the coder is
# within one rung two times out of three".
DEFAULT_CODING_SD = 0.4


@dataclass(frozen=True)
class Codebook:
    """The translation tables in force for one workspace (defaults + overrides)."""

    strengths: Mapping[str, float] = field(default_factory=lambda: STRENGTHS)
    grades: Mapping[str, tuple[float, float]] = field(default_factory=lambda: GRADES)
    credibility: Mapping[int, float] = field(default_factory=lambda: CREDIBILITY)
    words: Mapping[str, tuple[float, float]] = field(default_factory=lambda: WORDS)
    confidence_levels: Mapping[str, float] = field(default_factory=lambda: CONFIDENCE_LEVELS)
    confidence_sd: Mapping[str, float] = field(default_factory=lambda: CONFIDENCE_SD)

    def with_overrides(self, **tables: Mapping) -> Codebook:
        """A copy with each named table updated key by key."""
        merged = {
            name: MappingProxyType({**getattr(self, name), **table})
            for name, table in tables.items()
            if table
        }
        return replace(self, **merged)

    def strength_words(self) -> list[str]:
        """Every strength word a coder may write, in ladder order."""
        words = [NEUTRAL]
        for base in sorted(self.strengths, key=self.strengths.__getitem__):
            words += [f"{base}-{d}" for d in DIRECTIONS]
        return words

    def ratio(self, word: str) -> float | None:
        """Likelihood ratio of a strength word, or None if it is not one."""
        word = word.strip().lower()
        if word == NEUTRAL:
            return 1.0
        base, _, direction = word.rpartition("-")
        if direction not in DIRECTIONS or base not in self.strengths:
            return None
        lr = float(self.strengths[base])
        return lr if direction == "for" else 1.0 / lr

    def word_band(self, word: str) -> tuple[float, float] | None:
        """Probability band of an estimative word (synonyms folded), or None."""
        key = " ".join(word.strip().lower().split())
        key = WORD_SYNONYMS.get(key, key)
        return self.words.get(key)


DEFAULT = Codebook()
