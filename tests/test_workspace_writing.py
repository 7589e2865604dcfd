"""A workspace built in memory, written as files, reads back as the same workspace."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest

from forecast.batch.cells import materialise
from forecast.model import model_data
from forecast.workspace import (
    Analyst,
    Question,
    Resolution,
    Settings,
    Statement,
    Workspace,
    load_workspace,
)
from forecast.workspace.writing import workspace_bytes

REPO = Path(__file__).resolve().parents[1]


def _plain(ws: Workspace) -> tuple:
    """What a workspace says, without where it was written."""
    return (
        tuple(replace(q, line=0) for q in ws.questions),
        tuple(replace(d, line=0) for d in ws.drivers),
        tuple(
            (a.name, tuple(replace(s, path="", line=0) for s in a.statements)) for a in ws.analysts
        ),
        tuple(replace(s, line=0) for s in ws.sources),
        tuple(replace(e, path="", line=0) for e in ws.evidence),
        ws.settings,
    )


def test_the_shipped_workspace_reads_back_the_same(tmp_path):
    ws = load_workspace(REPO)
    materialise(workspace_bytes(ws), tmp_path)
    again = load_workspace(tmp_path)
    assert _plain(again) == _plain(ws)
    assert model_data(again).__repr__() == model_data(ws).__repr__()


def test_a_simulated_workspace_reads_back_with_every_float_exact(tmp_path):
    p = 1 / 3
    questions = (
        Question("q0", "q0", resolution=Resolution("yes")),
        Question("q1", "q1", drivers=MappingProxyType({})),
    )
    analysts = (
        Analyst("a0", "a0", (Statement("a0", "q0", "point", p=1.522997951276035e-08),
                             Statement("a0", "q1", "point", p=p))),
        Analyst("a1", "a1", (Statement("a1", "q0", "interval", p=p, lo=0.1, hi=0.7, level=0.9),
                             Statement("a1", "q1", "beta", a=2.5, b=7.0))),
    )  # fmt: skip
    ws = Workspace(Path("."), questions, (), analysts, (), (), settings=Settings(draws=50, seed=3))
    materialise(workspace_bytes(ws), tmp_path)
    again = load_workspace(tmp_path)
    assert _plain(again) == _plain(ws)
    assert again.analysts[0].statements[1].p == p  # not 0.3333333333


def test_analysts_keep_their_order(tmp_path):
    names = ["f2", "f10", "f1"]  # name order would be f1, f10, f2
    analysts = tuple(Analyst(n, n, (Statement(n, "q", "point", p=0.5),)) for n in names)
    ws = Workspace(Path("."), (Question("q", "q"),), (), analysts, (), ())
    materialise(workspace_bytes(ws), tmp_path)
    assert [a.name for a in load_workspace(tmp_path).analysts] == names


def test_codebook_overrides_are_refused(minimal_workspace):
    with pytest.raises(ValueError, match="codebook"):
        workspace_bytes(load_workspace(minimal_workspace))
