"""The batch spec (``SPEC.toml``): which workspaces, which settings, which grid.

::

    workspaces = ["../.."]        # folders, relative to this file
    out = "sweep-results"         # optional; --out wins

    [settings]                    # every cell: over each workspace's forecast.toml
    draws = 200
    chains = 2

    [grid]                        # every combination of these is one cell
    coding_sd = [0.2, 0.4]
    seed = [1, 2]
    as_of = [2026-07-05, 2026-07-08]   # a backtest: each date's evidence cut-off

Every problem is reported as ``spec.toml:line: message``, all at once, by
the schema machinery the workspace files use.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field

from forecast.errors import Problem, WorkspaceError
from forecast.formats import parse_iso_date, parse_toml, toml_line
from forecast.workspace.fields import Says, says
from forecast.workspace.problems import TomlDocument, check
from forecast.workspace.schema import Entry
from forecast.workspace.settings import (
    CodingSd,
    PoolingValue,
    Seed,
    TargetAccept,
    WholeAbove0,
)

# The settings a cell may change, in the order a table shows them.
SETTINGS = ("pooling", "coding_sd", "seed", "draws", "chains", "tune", "target_accept")
AS_OF = "as_of"


def _as_of(value: Any) -> dt.date:
    """A TOML date, or a date written as a string; never in the future."""
    if isinstance(value, dt.datetime):
        raise says("as_of {fmt}: give a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, dt.date):
        day = value
    elif isinstance(value, str):
        day, why = parse_iso_date(value)
        if day is None:
            raise says("as_of: {why}", why=why)
    else:
        raise says("as_of {fmt} must be a date such as 2026-07-05")
    if day > dt.date.today():
        raise says("as_of {day} is in the future; a backtest replays a past date", day=day)
    return day


AsOf = Annotated[dt.date, BeforeValidator(_as_of)]


def _values(item: Any, key: str) -> Any:
    return Annotated[
        list[item],
        Field(min_length=1),
        Says(
            type=f"[grid] {key} must be a list of values, e.g. {key} = [...], found {{fmt}}",
            bad=f"[grid] {key} is empty: give one value or more, or leave the key out",
        ),
    ]


class _Section(Entry):
    unknown = "unknown key {key!r} in [{parent}]{hint}; allowed keys: {allowed}"
    shape = "{key} must be a table [{key}], found {fmt}"


class FixedSettings(_Section):
    """``[settings]``: applied to every cell, over each workspace's ``forecast.toml``."""

    pooling: PoolingValue | None = None
    coding_sd: CodingSd | None = None
    seed: Seed | None = None
    draws: WholeAbove0 | None = None
    chains: WholeAbove0 | None = None
    tune: WholeAbove0 | None = None
    target_accept: TargetAccept | None = None


class Grid(_Section):
    """``[grid]``: each key a list of values; every combination is one cell."""

    pooling: _values(PoolingValue, "pooling") | None = None
    coding_sd: _values(CodingSd, "coding_sd") | None = None
    seed: _values(Seed, "seed") | None = None
    draws: _values(WholeAbove0, "draws") | None = None
    chains: _values(WholeAbove0, "chains") | None = None
    tune: _values(WholeAbove0, "tune") | None = None
    target_accept: _values(TargetAccept, "target_accept") | None = None
    as_of: _values(AsOf, "as_of") | None = None


Folder = Annotated[
    str,
    Field(min_length=1, strict=True),
    Says(bad='workspaces holds {fmt}: each entry is a folder, e.g. "../.."'),
]


class SpecFile(Entry):
    """The whole spec."""

    unknown: ClassVar[str] = "unknown key {key!r}{hint}; allowed: {allowed}"
    workspaces: Annotated[
        list[Folder],
        Field(min_length=1),
        Says(
            missing="workspaces is missing: name the workspace folders, e.g. "
            'workspaces = ["../.."]',
            type='workspaces must be a list of folders, e.g. workspaces = ["../.."], found {fmt}',
            bad="workspaces is empty: name one workspace folder or more",
        ),
    ]
    out: Annotated[
        str,
        Field(min_length=1, strict=True),
        Says(bad='out {fmt} must be a folder name, e.g. "sweep-results"'),
    ] = ""
    settings: FixedSettings = FixedSettings()
    grid: Grid = Grid()


@dataclass(frozen=True)
class Spec:
    """A read and checked spec: paths resolved, grid in the order it is written."""

    path: Path
    workspaces: tuple[tuple[str, Path], ...]  # (as written, folder)
    settings: Mapping[str, Any]  # fixed settings for every cell
    grid: tuple[tuple[str, tuple[Any, ...]], ...]  # (key, values), as written
    out: Path | None

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.grid)

    def points(self) -> Iterator[dict[str, Any]]:
        """Every combination of the grid's values (one empty one for no grid)."""
        for combo in itertools.product(*(values for _, values in self.grid)):
            yield dict(zip(self.keys, combo, strict=True))

    @property
    def size(self) -> int:
        n = len(self.workspaces)
        for _, values in self.grid:
            n *= len(values)
        return n


def read_spec(path: str | Path) -> Spec:
    """Read and check ``path``.

    Raises
    ------
    WorkspaceError
        Listing every problem as ``path:line: message`` (exit status 2).
    """
    path = Path(path)
    label = str(path)
    problems: list[Problem] = []
    try:
        data = path.read_bytes()
    except OSError as exc:
        problem = Problem(label, 0, f"cannot read the spec: {exc.strerror or exc}")
        raise WorkspaceError([problem]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise WorkspaceError([Problem(label, 0, f"not UTF-8 text ({exc.reason})")]) from None
    parsed = parse_toml(label, text, problems)
    if parsed is None:
        raise WorkspaceError(problems)
    doc, lines = parsed
    model, found = check(SpecFile, doc, TomlDocument(doc, lines), label)
    problems += [f.problem for f in found]
    if model is None:
        raise WorkspaceError(sorted(problems, key=lambda p: p.line))
    assert isinstance(model, SpecFile)
    base = path.parent
    folders: list[tuple[str, Path]] = []
    for i, written in enumerate(model.workspaces):
        folder = base / written
        if any(folder.resolve() == other.resolve() for _, other in folders):
            problems.append(
                Problem(
                    label,
                    toml_line(lines, "workspaces"),
                    f"workspaces[{i}] {written!r} names a folder already listed",
                )
            )
        elif not folder.is_dir():
            problems.append(
                Problem(
                    label,
                    toml_line(lines, "workspaces"),
                    f"workspaces[{i}] {written!r}: no such folder (from {base or '.'}); "
                    "paths are relative to the spec file",
                )
            )
        folders.append((written, folder))
    written_keys = [k for k in doc.get("grid", {}) if k in Grid.model_fields]
    grid = tuple((k, tuple(getattr(model.grid, k))) for k in written_keys)
    for key, values in grid:
        if len(set(values)) != len(values):
            problems.append(
                Problem(label, toml_line(lines, "grid", key), f"[grid] {key} repeats a value")
            )
        if key in model.settings.model_fields_set:
            problems.append(
                Problem(
                    label,
                    toml_line(lines, "grid", key),
                    f"{key} is in both [settings] and [grid]: keep it in one",
                )
            )
    if problems:
        raise WorkspaceError(sorted(problems, key=lambda p: p.line))
    given = model.settings.model_fields_set
    fixed = {k: getattr(model.settings, k) for k in SETTINGS if k in given}
    return Spec(
        path=path,
        workspaces=tuple(folders),
        settings=fixed,
        grid=grid,
        out=(base / model.out) if model.out else None,
    )
