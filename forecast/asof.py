"""Forecasting as of a past date: the workspace as it stood on that day.

``forecast run --as-of D`` and ``forecast report --as-of D`` leave out every
evidence item dated after D and every resolution dated after D (or without a
date), so the run knows only what could be known on D; the ledger records
the run as a forecast made on D, and ``forecast score`` can score it against
outcomes that came later. This is how a record imported after the fact (or
a workspace's own past) is backtested.

What cannot be dated is used as it stands: analysts' statements, and the
verified / refuted counts of sources. Keep them as they were on D for a
clean backtest (an imported record's statements are, by construction, the
last forecasts made before each question resolved).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from types import MappingProxyType

from forecast.errors import UsageError
from forecast.formats import parse_iso_date
from forecast.workspace import Workspace

# The cut is part of a run's inputs: it enters the content hash (and so the
# run key) as this pseudo file, whose "hash" is the date.
AS_OF_KEY = "(as of)"


def parse_as_of(text: str, today: dt.date | None = None) -> dt.date:
    day, why = parse_iso_date(text)
    if day is None:
        raise UsageError(f"--as-of: {why}")
    if day > (today or dt.date.today()):
        raise UsageError(f"--as-of {day}: is in the future; give a past date (or leave it out)")
    return day


def as_of(ws: Workspace, day: dt.date) -> Workspace:
    """``ws`` as it stood on ``day``: later evidence and resolutions left out."""
    questions = tuple(
        replace(q, resolution=None)
        if q.resolution is not None and (q.resolution.date is None or q.resolution.date > day)
        else q
        for q in ws.questions
    )
    evidence = tuple(e for e in ws.evidence if e.date <= day)
    hashes = {**ws.file_hashes, AS_OF_KEY: day.isoformat()}
    return replace(ws, questions=questions, evidence=evidence, file_hashes=MappingProxyType(hashes))


def as_of_date(ws: Workspace) -> dt.date | None:
    """The date ``ws`` was cut to, or None for the workspace as it is."""
    text = ws.file_hashes.get(AS_OF_KEY)
    return dt.date.fromisoformat(text) if text else None
