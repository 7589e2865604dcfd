"""Starting a new workspace: ``forecast init``."""

from __future__ import annotations

from pathlib import Path

from forecast.errors import UsageError
from forecast.formats import listing
from forecast.io import atomic_write_bytes
from forecast.workspace.schema_json import SCHEMA_FOLDER, write_schemas


def init_workspace(root: str | Path) -> list[str]:
    """Copy the starter workspace into ``root``; return the files written.

    Its YAML files start with a line pointing editors at the JSON Schema
    written next to them, in ``schema/``.

    Raises
    ------
    UsageError
        When ``root`` already holds ``priors/`` or ``evidence/`` (or any file
        the starter would write): nothing is overwritten.
    """
    from importlib.resources import files

    root = Path(root)
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} is a file, not a folder")
    template = files("forecast").joinpath("templates", "init")
    found = []
    stack = [(template, "")]
    while stack:
        node, rel = stack.pop()
        for child in node.iterdir():
            name = child.name
            if name.startswith(".") or name == "__pycache__":
                continue
            child_rel = f"{rel}{name}"
            if child.is_dir():
                stack.append((child, child_rel + "/"))
            else:
                found.append((child_rel, child))
    taken = [d for d in ("priors", "evidence", SCHEMA_FOLDER) if (root / d).exists()]
    taken += [rel for rel, _ in found if "/" not in rel and (root / rel).exists()]
    if taken:
        raise UsageError(
            f"{root} already holds {listing(taken)}; `forecast init` starts a new workspace "
            "and never overwrites one"
        )
    written = []
    for rel, child in sorted(found):
        atomic_write_bytes(root / rel, child.read_bytes())
        written.append(rel)
    for path in write_schemas(root / SCHEMA_FOLDER):
        written.append(path.relative_to(root).as_posix())
    return written
