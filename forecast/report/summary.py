"""What every view says in words and numbers, without pandas or NumPy.

The number formats the terminal, the pages and the batch views share, and
:class:`RunFacts`: what a report says about its run, read from the run's
manifest alone. A report read back from its folder
(:class:`forecast.report.reuse.StoredReport`) prints through these, so
``forecast report`` can show an unchanged report without loading anything
heavy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any


# --- number formatting shared by every view ---------------------------------
def pct(p: float | None) -> str:
    """A probability as a whole percentage; '<1%' and '>99%' at the ends."""
    if p is None or not math.isfinite(p):
        return "—"
    if p < 0.005:
        return "<1%"
    if p > 0.995:
        return ">99%"
    return f"{p * 100:.0f}%"


def interval(lo: float | None, hi: float | None) -> str:
    """A 90 % interval on the probability scale, e.g. '41–80%'."""
    return f"{pct(lo).rstrip('%')}–{pct(hi)}"


def points(delta: float | None, *, none: str = "—") -> str:
    """A change of probability in percentage points, signed: '+5.2 pts'."""
    if delta is None or not math.isfinite(delta):
        return none
    v = delta * 100
    if abs(v) < 0.05:
        return "±0.0 pts"
    return f"{v:+.1f} pts"


def logodds(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "—"
    return f"{x:+.2f}"


def shorten(text: str, width: int = 60) -> str:
    """One line, at most ``width`` characters, cut at a word with an ellipsis."""
    text = " ".join(str(text).split())
    if len(text) <= width:
        return text
    cut = text[: width - 1].rsplit(" ", 1)[0] or text[: width - 1]
    return cut.rstrip(",;:.") + "…"


def short_title(title: str) -> str:
    """'US leverage over Israel (Washington can ...)' -> 'US leverage over Israel'."""
    head = str(title).split(" (", 1)[0].strip()
    return head or str(title)


def _num(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v


class RunFacts:
    """What a report says about its run, read from the run's manifest alone.

    Shared by :class:`forecast.report.tables.Report` and by a report read back
    from its folder (:class:`forecast.report.reuse.StoredReport`), so both
    print alike.
    """

    manifest: Mapping[str, Any]

    @property
    def diagnostics(self) -> Mapping[str, Any]:
        return self.manifest.get("diagnostics", {}) or {}

    @property
    def ok(self) -> bool:
        return bool(self.diagnostics.get("ok", not self.problems))

    @property
    def problems(self) -> list[str]:
        return [str(p) for p in self.diagnostics.get("problems", []) or []]

    def summary_line(self) -> str:
        """Run essentials in one line: method, draws, seed, divergences."""
        d = self.diagnostics
        s = self.manifest.get("settings", {}) or {}
        parts = []
        if d.get("method"):
            parts.append("NUTS" if d["method"] == "nuts" else "exact forward draws")
        if s.get("chains") and s.get("draws"):
            parts.append(f"{s['chains']} chains × {s['draws']} draws")
        if "seed" in self.manifest:
            parts.append(f"seed {self.manifest['seed']}")
        if d.get("divergences") is not None:
            n = int(d["divergences"])
            parts.append(f"{n} divergence{'s' * (n != 1)}")
        if d.get("max_rhat") is not None and math.isfinite(_num(d["max_rhat"])):
            parts.append(f"max R-hat {float(d['max_rhat']):.3f}")
        if d.get("min_ess_bulk") is not None and math.isfinite(_num(d["min_ess_bulk"])):
            parts.append(f"min ESS {float(d['min_ess_bulk']):.0f}")
        return ", ".join(parts)


def report_json(
    rows: Iterable[Mapping[str, Any]], manifest: Mapping[str, Any]
) -> dict[str, Any]:
    """The machine-readable form ``forecast report --json`` prints, from the forecast
    table's rows (:func:`forecast.posterior.forecast_table`, or a report's
    ``posteriors.csv`` read back as text).

    ``{"questions": [{id, title, prior, posterior, lo, hi, rhat, ess_bulk,
    ess_tail}], "diagnostics": {divergences, ok}, "run_id"}``.
    """

    def number(x: Any) -> float | None:
        v = _num(x)
        return v if math.isfinite(v) else None

    questions = [
        {
            "id": str(r["id"]),
            "title": str(r["title"]),
            **{
                k: number(r.get(k))
                for k in ("prior", "posterior", "lo", "hi", "rhat", "ess_bulk", "ess_tail")
            },
        }
        for r in rows
    ]
    diag = manifest.get("diagnostics", {}) or {}
    return {
        "questions": questions,
        "diagnostics": {
            "divergences": int(diag.get("divergences", 0) or 0),
            "ok": bool(diag.get("ok", not diag.get("problems"))),
        },
        "run_id": str(manifest.get("run_id", "")),
    }
