"""What moved one question: the view behind ``forecast explain``.

:func:`build_explanation` turns a run's leave-one-out table for one question
into an :class:`Explanation`: every evidence item and cluster reaching it,
most influential first, each with the file and line it was coded at.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from forecast.report.tables import _num

if TYPE_CHECKING:
    import arviz as az
    import pandas as pd

    from forecast.workspace import Question, Workspace


@dataclass(frozen=True)
class Explanation:
    """What moved one question: its forecast and every item and cluster reaching it."""

    question: Question
    prior: float
    posterior: float
    lo: float
    hi: float
    table: pd.DataFrame  # forecast.posterior.explain, with ``where`` (file:line) added
    run_id: str = ""
    ok: bool = True

    def rows(self) -> list[dict[str, Any]]:
        """Rows to show, most influential first.

        A cluster of several items comes as its own row (``depth`` 0) followed by
        its items (``depth`` 1); a single-item cluster is shown as its item alone.
        """
        recs = self.table.to_dict("records")
        items = [r for r in recs if r.get("kind") == "item"]
        clusters = {str(r.get("id")): r for r in recs if r.get("kind") != "item"}
        members: dict[str, list[dict[str, Any]]] = {}
        for r in items:
            members.setdefault(str(r.get("cluster") or r.get("id")), []).append(r)
        groups: list[list[dict[str, Any]]] = []
        for cid, rs in members.items():
            rs = sorted(rs, key=lambda r: -influence(r))
            head = clusters.get(cid)
            if len(rs) == 1 or head is None:
                groups += [[{**r, "depth": 0, "n_items": 1}] for r in rs]
            else:
                groups.append(
                    [{**head, "depth": 0, "n_items": len(rs)}]
                    + [{**r, "depth": 1, "n_items": 1} for r in rs]
                )
        for cid, c in clusters.items():  # a cluster without item rows still shows
            if cid not in members:
                groups.append([{**c, "depth": 0, "n_items": 0}])
        groups.sort(key=lambda g: -influence(g[0]))
        return [r for g in groups for r in g]


def influence(row: Mapping[str, Any]) -> float:
    """How much a row moved the forecast: |prob_shift|, else |mean| log-odds, else 0."""
    for key in ("prob_shift", "mean"):
        v = _num(row.get(key))
        if math.isfinite(v):
            return abs(v)
    return 0.0


def build_explanation(
    ws: Workspace, idata: az.InferenceData, qid: str, *, run_id: str = "", ok: bool = True
) -> Explanation:
    """:class:`Explanation` of question ``qid`` (``UsageError`` if unknown)."""
    from forecast import posterior

    q = ws.question(qid)
    table = posterior.explain(idata, ws, qid)
    row = posterior.forecast_table(idata, ws).set_index("id").loc[qid]
    return explanation_from_frames(q, table, row, evidence=ws.evidence, run_id=run_id, ok=ok)


def explanation_from_frames(
    question: Question,
    table: pd.DataFrame,
    forecast_row: Mapping[str, Any],
    *,
    evidence: Sequence[Any] = (),
    run_id: str = "",
    ok: bool = True,
) -> Explanation:
    """:class:`Explanation` from an explain frame and the question's forecast row."""
    where = {e.id: (f"{e.path}:{e.line}" if e.path else "") for e in evidence}
    dates = {e.id: e.date.isoformat() for e in evidence if getattr(e, "date", None)}
    t = table.copy()
    t["where"] = [
        where.get(str(i), "") if k == "item" else ""
        for k, i in zip(t.get("kind", []), t.get("id", []), strict=False)
    ]
    t["date"] = [
        dates.get(str(i), "") if k == "item" else ""
        for k, i in zip(t.get("kind", []), t.get("id", []), strict=False)
    ]
    return Explanation(
        question=question,
        prior=_num(forecast_row.get("prior")),
        posterior=_num(forecast_row.get("posterior")),
        lo=_num(forecast_row.get("lo")),
        hi=_num(forecast_row.get("hi")),
        table=t,
        run_id=run_id,
        ok=ok,
    )
