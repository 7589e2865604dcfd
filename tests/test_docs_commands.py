"""Every `forecast ...` line in README.md and docs/*.md runs, as written, on the shipped workspace.

Lines come from code blocks (fenced, or indented by four spaces): a leading
`$ ` prompt and a trailing `# comment` are dropped, `\\` continuations
joined, and of `a && b` only the `forecast` commands are kept. The one
placeholder the docs use, `path/to/ws`, becomes the workspace copy. The copy
samples with tiny settings, so every sampling command shares one stored run
(but `whatif`, which samples its hypothetical workspace, and a command giving
its own `--draws`); commands that edit files (and `batch`, whose spec sets
its own settings) run on a copy of their own, so they do not change the
inputs the others share. The copy holds the example batch spec
(`examples/batch/`), whose workspace is the copy itself.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from forecast.cli.engine_cmds import WHATIF_FILE, _with_whatif_source
from forecast.workspace import SOURCES_FILE, init_workspace, load_workspace

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
PLACEHOLDERS = {"path/to/ws": "{ws}"}
# commands that write workspace files, and batch, which stores runs of other settings
EDITS = ("evidence add", "init", "resolve", "batch")
SHELLS = ("", "console", "bash", "sh", "shell")


def _blocks(text: str) -> list[str]:
    """The text of every shell code block: fenced ones, and indented ones outside fences."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        fence = re.match(r"^(```+|~~~+)\s*(\S*)", lines[i])
        if fence:
            end = next(
                (j for j in range(i + 1, len(lines)) if lines[j].startswith(fence.group(1))),
                len(lines),
            )
            if fence.group(2) in SHELLS:
                blocks.append("\n".join(lines[i + 1 : end]))
            i = end + 1
            continue
        if lines[i].startswith("    ") and (i == 0 or not lines[i - 1].strip()):
            end = i
            while end < len(lines) and (lines[end].startswith("    ") or not lines[end].strip()):
                end += 1
            blocks.append("\n".join(line[4:] for line in lines[i:end]))
            i = end
            continue
        i += 1
    return blocks


def doc_commands() -> list[tuple[str, list[str]]]:
    """(where, argv) for every `forecast` command line in the docs, in order."""
    found = []
    for path in DOCS:
        for block in _blocks(path.read_text(encoding="utf-8")):
            joined = re.sub(r"\\\n\s*", " ", block)
            for line in joined.splitlines():
                line = re.sub(r"^\s*\$\s+", "", line)
                try:
                    words = shlex.split(line, comments=True)
                except ValueError:
                    continue
                while words:
                    cut = words.index("&&") if "&&" in words else len(words)
                    part, words = words[:cut], words[cut + 1 :]
                    if part and part[0] == "forecast":
                        found.append((f"{path.relative_to(REPO)}: {line.strip()}", part[1:]))
    return found


def test_the_docs_hold_the_daily_loop():
    """The extraction finds the commands it should (a test of the test)."""
    names = {" ".join(argv[:2]) if argv[0] == "evidence" else argv[0] for _, argv in doc_commands()}
    assert {"validate", "evidence add", "report", "explain", "joint", "whatif"} <= names
    lines = [where for where, _ in doc_commands()]
    assert any("--citation" in w and "README" in w for w in lines)  # a `\\` continuation


def _copy(root: Path) -> Path:
    root.mkdir(parents=True)
    for name in ("priors", "evidence", "examples/batch"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("*-results"))
    toml = (REPO / "forecast.toml").read_text(encoding="utf-8")
    toml = "\n".join(
        line
        for line in toml.splitlines()
        if not line.strip().startswith(("draws", "chains", "tune"))
    ).replace("[sampler]", "[sampler]\ndraws = 60\nchains = 2\ntune = 100")
    (root / "forecast.toml").write_text(toml + "\n", encoding="utf-8")
    return root


@pytest.mark.slow
def test_every_command_line_in_the_docs_runs_as_written(tmp_path):
    shared = _copy(tmp_path / "shared")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    failures = []
    for n, (where, argv) in enumerate(doc_commands()):
        edits = any(" ".join(argv).startswith(e) for e in EDITS)
        ws = _copy(tmp_path / f"edit{n}") if edits else shared
        args = [PLACEHOLDERS.get(a, a).format(ws=ws) for a in argv]
        out = subprocess.run(
            [sys.executable, "-m", "forecast", *args],
            cwd=ws, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
            timeout=900,
        )  # fmt: skip
        if out.returncode != 0:
            failures.append(f"{where}\n  exit {out.returncode}: {out.stderr.strip()[-600:]}")
    assert not failures, "\n".join(failures)


def test_whatif_hypothetical_source_fits_the_sources_file_of_a_new_workspace(tmp_path):
    """The row `whatif` adds to sources.csv has that file's columns (here: init's)."""
    root = tmp_path / "ws"
    init_workspace(root)
    ws = load_workspace(root)
    question = ws.questions[0].id
    source_csv = _with_whatif_source(root / SOURCES_FILE)
    evidence = (
        "id,date,bears_on,source,strength,credibility,cluster,summary,citation\n"
        f"W1,2026-07-08,{question},whatif,strong-against,1,,hypothetical,\n"
    )
    after = load_workspace(
        root, overrides={SOURCES_FILE: source_csv, WHATIF_FILE: evidence.encode()}
    )
    [added] = [s for s in after.sources if s.id == "whatif"]
    assert added.reliability == 1.0
    assert len(after.sources) == len(ws.sources) + 1
    assert len(after.evidence) == len(ws.evidence) + 1
