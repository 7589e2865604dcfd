"""Reading a workspace's files: bytes, text, and nodes that keep their lines.

:class:`Reader` finds and reads the files (or the overrides standing in for
them), hashes every byte read, and parses YAML, CSV and TOML with
:mod:`forecast.formats`, reporting each problem it meets. It checks no field:
that is the schema's job.
"""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path
from typing import Any

from forecast.errors import Problem
from forecast.formats import CsvTable, YNode, decode, parse_csv, parse_toml, parse_yaml

QUESTIONS_FILE = "priors/questions.yaml"
SOURCES_FILE = "evidence/sources.csv"
SETTINGS_FILE = "forecast.toml"


class Reader:
    """The files of the workspace at ``root``, with ``overrides`` (relative posix
    path -> bytes) read instead of the file on disk or as an extra file."""

    def __init__(self, root: Path, overrides: dict[str, bytes] | None = None):
        self.root = root
        self.overrides = dict(overrides or {})
        self.problems: list[Problem] = []
        self.hashes: dict[str, str] = {}
        self.order: dict[str, int] = {}  # files in the order they were met

    # --- reporting -------------------------------------------------------------------
    def error(self, path: str, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message))

    def warn(self, path: str, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message, severity="warning"))

    def meet(self, rel: str) -> None:
        """Note a file (read or missing), so its problems are listed in reading order."""
        self.order.setdefault(rel, len(self.order))

    # --- files -----------------------------------------------------------------------
    def exists(self, rel: str) -> bool:
        try:
            return rel in self.overrides or (self.root / rel).is_file()
        except OSError:  # e.g. a folder without read permission: let read() say so
            return True

    def files(self, folder: str, suffix: str) -> list[str]:
        """Files directly in ``folder`` ending in ``suffix`` (hidden files skipped)."""
        found: set[str] = set()
        directory = self.root / folder
        if directory.is_dir():
            try:
                for p in directory.iterdir():
                    if not p.name.endswith(suffix) or p.name.startswith("."):
                        continue
                    if p.is_file():
                        found.add(f"{folder}/{p.name}")
                    elif p.is_symlink():  # dangling, or a loop: is_file() says False
                        self.warn(f"{folder}/{p.name}", 0, _broken_link(p))
            except OSError as exc:
                self.error(folder, 0, f"cannot list the folder: {exc.strerror or exc}")
        prefix = folder + "/"
        found.update(
            k
            for k in self.overrides
            if k.startswith(prefix) and "/" not in k[len(prefix) :] and k.endswith(suffix)
        )
        return sorted(found)

    def read(self, rel: str, expected: str) -> str | None:
        """The file's text, or None (the problem reported); ``expected`` says what
        it should hold, for the message about an empty file."""
        self.meet(rel)
        if rel in self.overrides:
            data = self.overrides[rel]
        else:
            try:
                data = (self.root / rel).read_bytes()
            except OSError as exc:
                self.error(rel, 0, f"cannot read the file: {exc.strerror or exc}")
                return None
        self.hashes[rel] = hashlib.sha256(data).hexdigest()
        return decode(rel, data, self.problems, expected)

    def yaml(self, rel: str, expected: str) -> YNode | None:
        """The file's top-level mapping, or None (the problem already reported)."""
        text = self.read(rel, expected)
        if text is None:
            return None
        before = len(self.problems)
        node = parse_yaml(rel, text, self.problems)
        if node is None:
            if len(self.problems) == before:
                self.error(rel, 1, f"file holds only comments; expected {expected}")
            return None
        if node.kind != "map":
            self.error(rel, node.line, f"expected {expected}, found {node.describe()}")
            return None
        return node

    def csv(
        self, rel: str, expected: str, required: tuple[str, ...], optional: tuple[str, ...]
    ) -> CsvTable | None:
        text = self.read(rel, expected)
        if text is None:
            return None
        return parse_csv(rel, text, self.problems, required, optional)

    def toml(self, rel: str, expected: str) -> tuple[dict[str, Any], dict] | None:
        text = self.read(rel, expected)
        if text is None:
            return None
        return parse_toml(rel, text, self.problems)


def _broken_link(path: Path) -> str:
    """Why a symbolic link that leads to no file is skipped."""
    try:
        path.resolve(strict=True)
        reason = "does not lead to a file"
    except RuntimeError:  # Python 3.11-3.12 raise this on a loop
        reason = "is a loop of links"
    except OSError as exc:
        loop = exc.errno == errno.ELOOP
        reason = (
            "is a loop of links" if loop else f"points to {os.readlink(path)!r}, which is missing"
        )
    return f"symbolic link {reason}: skipped; fix or remove it"


def data_of(node: YNode) -> Any:
    """A YAML tree as the schema reads it: mappings and lists as dicts and lists,
    each scalar kept as its node (value, text as written and line)."""
    if node.kind == "map":
        return {key: data_of(value) for key, value in node.value.items()}
    if node.kind == "seq":
        return [data_of(item) for item in node.value]
    return node
