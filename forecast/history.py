"""How each forecast moved, run by run, and why: read from the ledger.

For one question, every recorded run in time order with its pooled prior,
forecast and 90 % interval, and what changed since the run before: evidence
items added or removed (those bearing on the question or on a driver it
loads on), analysts' statements on it added, edited or removed, and its
resolution in the inputs. :func:`timeline` draws it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from forecast.ledger import Ledger, StoredResolution
    from forecast.workspace import Workspace


@dataclass(frozen=True)
class RunStep:
    run_id: str
    created: dt.datetime
    kind: str  # "run" or "import"
    as_of: dt.date | None  # a backtest's date: the run saw the workspace as of that day
    ok: bool
    prior: float  # nan when not recorded (an import)
    forecast: float
    lo: float
    hi: float
    outcome: str  # the resolution in the run's inputs, "" while open
    evidence_added: tuple[str, ...]
    evidence_removed: tuple[str, ...]
    priors_changed: tuple[str, ...]  # "Dana Levi: p=0.3 ... -> p=0.4 ..."
    priors_short: tuple[str, ...]  # the same, short: "Dana Levi 30%->40%"
    resolution_change: str  # "" or e.g. "resolved yes"

    @property
    def when(self) -> dt.datetime:
        """When the forecast stands: noon of the as-of day for a backtest."""
        if self.as_of is not None:
            return dt.datetime.combine(self.as_of, dt.time(12), tzinfo=dt.UTC)
        return self.created

    @property
    def change_text(self) -> str:
        parts = []
        if self.evidence_added:
            parts.append("+" + " +".join(self.evidence_added))
        if self.evidence_removed:
            parts.append("-" + " -".join(self.evidence_removed))
        parts += list(self.priors_short)
        if self.resolution_change:
            parts.append(self.resolution_change)
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        def num(x: float) -> float | None:
            return x if math.isfinite(x) else None

        return {
            "run_id": self.run_id,
            "created": self.created.isoformat(),
            "kind": self.kind,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "ok": self.ok,
            "prior": num(self.prior),
            "forecast": num(self.forecast),
            "lo": num(self.lo),
            "hi": num(self.hi),
            "outcome": self.outcome,
            "evidence_added": list(self.evidence_added),
            "evidence_removed": list(self.evidence_removed),
            "priors_changed": list(self.priors_changed),
            "resolution_change": self.resolution_change,
        }


@dataclass(frozen=True)
class EvidenceMark:
    id: str
    date: dt.date
    ratio: float
    bears_on: str


@dataclass(frozen=True)
class QuestionHistory:
    question: str
    title: str
    steps: tuple[RunStep, ...]
    evidence: tuple[EvidenceMark, ...]  # as the latest run saw it
    resolutions: tuple[StoredResolution, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.question,
            "title": self.title,
            "runs": [s.to_json() for s in self.steps],
            "evidence": [
                {"id": e.id, "date": e.date.isoformat(), "ratio": e.ratio, "bears_on": e.bears_on}
                for e in self.evidence
            ],
            "resolutions": [
                {
                    "outcome": r.outcome,
                    "date": r.date.isoformat(),
                    "note": r.note,
                    "recorded": r.recorded,
                    "forced": r.forced,
                }
                for r in self.resolutions
            ],
        }


def _pct(p: float) -> str:
    return f"{100 * p:.0f}%"


def _num(x: Any) -> float:
    return math.nan if x is None else float(x)


def question_history(ledger: Ledger, ws: Workspace, question: str) -> QuestionHistory:
    """The run-by-run history of one question (``UsageError`` for an unknown id)."""
    q = ws.question(question)
    relevant = {q.id, *q.drivers}
    steps: list[RunStep] = []
    before_ev: dict[str, dict[str, Any]] | None = None
    before_st: dict[str, tuple[str, float]] | None = None
    before_outcome = ""
    last_ev: dict[str, dict[str, Any]] = {}
    for row in ledger.forecasts(q.id):
        ev = {e["id"]: e for e in ledger.evidence(row["run_id"]) if e["bears_on"] in relevant}
        st = {
            s["analyst"]: (s["stated"], s["probability"])
            for s in ledger.statements(row["run_id"])
            if s["target"] == q.id
        }
        added = removed = ()
        changed: list[str] = []
        short: list[str] = []
        resolution = ""
        if before_ev is not None and before_st is not None:
            added = tuple(sorted(set(ev) - set(before_ev)))
            removed = tuple(sorted(set(before_ev) - set(ev)))
            for analyst in sorted(set(st) | set(before_st)):
                old, new = before_st.get(analyst), st.get(analyst)
                if old == new:
                    continue
                if old is None:
                    changed.append(f"{analyst} stated {new[0]}")
                    short.append(f"{analyst} stated {_pct(new[1])}")
                elif new is None:
                    changed.append(f"{analyst} withdrew {old[0]}")
                    short.append(f"{analyst} withdrew")
                else:
                    changed.append(f"{analyst}: {old[0]} -> {new[0]}")
                    short.append(
                        f"{analyst} {_pct(old[1])}->{_pct(new[1])}"
                        if _pct(old[1]) != _pct(new[1])
                        else f"{analyst} spread edited"
                    )
            if row["outcome"] != before_outcome:
                resolution = (
                    f"resolved {row['outcome']}" if row["outcome"] else "resolution removed"
                )
        elif row["outcome"]:
            resolution = f"resolved {row['outcome']}"
        steps.append(
            RunStep(
                run_id=row["run_id"],
                created=dt.datetime.fromisoformat(row["created"]),
                kind=row["kind"],
                as_of=dt.date.fromisoformat(row["as_of"]) if row.get("as_of") else None,
                ok=bool(row["ok"]),
                prior=_num(row["prior"]),
                forecast=_num(row["forecast"]),
                lo=_num(row["lo"]),
                hi=_num(row["hi"]),
                outcome=row["outcome"],
                evidence_added=added,
                evidence_removed=removed,
                priors_changed=tuple(changed),
                priors_short=tuple(short),
                resolution_change=resolution,
            )
        )
        before_ev, before_st, before_outcome, last_ev = ev, st, row["outcome"], ev
    marks = tuple(
        sorted(
            (
                EvidenceMark(e["id"], dt.date.fromisoformat(e["date"]), e["ratio"], e["bears_on"])
                for e in last_ev.values()
            ),
            key=lambda m: (m.date, m.id),
        )
    )
    return QuestionHistory(q.id, q.title, tuple(steps), marks, tuple(ledger.resolutions(q.id)))


def history(ledger: Ledger, ws: Workspace, question: str | None = None) -> list[QuestionHistory]:
    """Histories of one question, or of every question of the workspace."""
    ids = [question] if question else [q.id for q in ws.questions]
    return [question_history(ledger, ws, qid) for qid in ids]


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float]) -> str:
    """Probabilities as block characters on a fixed 0-100 % scale."""
    out = []
    for v in values:
        if not math.isfinite(v):
            out.append(" ")
        else:
            out.append(SPARKS[min(len(SPARKS) - 1, int(v * len(SPARKS)))])
    return "".join(out)


def timeline(h: QuestionHistory) -> Figure:
    """The forecast over time with its 90 % interval, the pooled prior dashed,
    evidence dates marked along the bottom (up: for, down: against) and the
    resolution as a vertical line."""
    import matplotlib.dates as mdates

    from forecast.report.plots import (
        AGAINST,
        FOR,
        INK,
        MUTED,
        POSTERIOR,
        PRIOR,
        _figure,
        _percent_axis,
        _style,
        wrap,
    )

    fig = _figure(7.5, 3.6)
    ax = fig.add_subplot()
    _style(ax)
    steps = [s for s in h.steps if math.isfinite(s.forecast)]
    if steps:
        x = [s.when for s in steps]
        ax.fill_between(
            x, [s.lo for s in steps], [s.hi for s in steps], color=POSTERIOR, alpha=0.18,
            step=None, linewidth=0, label="90 % interval",
        )  # fmt: skip
        # each run's interval as a bar too: runs made on one day leave no band to see
        ax.vlines(x, [s.lo for s in steps], [s.hi for s in steps], color=POSTERIOR, alpha=0.35,
                  linewidth=3)  # fmt: skip
        ax.plot(x, [s.forecast for s in steps], "-o", color=POSTERIOR, markersize=4,
                linewidth=1.8, label="forecast")  # fmt: skip
        if any(math.isfinite(s.prior) for s in steps):
            ax.plot(x, [s.prior for s in steps], "--", color=PRIOR, linewidth=1.2,
                    label="pooled prior")  # fmt: skip
    labelled: set[bool] = set()
    for e in h.evidence:
        when = dt.datetime.combine(e.date, dt.time(12), tzinfo=dt.UTC)
        up = e.ratio >= 1
        ax.plot(
            [when], [0.03], "^" if up else "v", color=FOR if up else AGAINST, markersize=6,
            label=None if up in labelled else f"evidence {'for' if up else 'against'}",
        )  # fmt: skip
        labelled.add(up)
    for r in h.resolutions[-1:]:
        when = dt.datetime.combine(r.date, dt.time(12), tzinfo=dt.UTC)
        ax.axvline(when, color=INK, linewidth=1, linestyle=":")
        ax.text(when, 0.97, f"resolved {r.outcome} ", color=INK, fontsize=8, va="top", ha="right")
    if not steps and not h.evidence:
        ax.text(0.5, 0.5, "no run recorded yet", ha="center", color=MUTED,
                transform=ax.transAxes)  # fmt: skip
    ax.set_ylim(0, 1)
    _percent_axis(ax, "y")
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_ylabel("probability of yes", color=INK)
    ax.set_title(wrap(h.title, 90, 2), color=INK, loc="left", fontsize=10)
    if steps or h.evidence:
        ax.legend(loc="upper left", fontsize=7, frameon=False, ncols=2)
    return fig
