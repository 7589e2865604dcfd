"""The review notebook: committed without outputs, and it runs end to end."""

from __future__ import annotations

import re
import shutil

import nbformat
from test_report_helpers import REPO, SMALL, shipped_copy

NOTEBOOK = REPO / "notebooks" / "review_posteriors.ipynb"


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]
    # the library finds the workspace: no paths typed into the notebook
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "load_workspace" in source and "ensure_run" in source
    assert not re.search(r"""["'](/|~|[A-Za-z]:\\)""", source), "a typed-in absolute path"


def test_notebook_runs_end_to_end(tmp_path_factory, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    ws = shipped_copy(tmp_path_factory)
    monkeypatch.setenv("FORECAST_WORKSPACE", str(ws))
    for key, value in SMALL.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    copy = tmp_path / NOTEBOOK.name
    shutil.copy(NOTEBOOK, copy)
    nb = nbformat.read(copy, as_version=4)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 5  # forest, posteriors, prior/posterior, waterfall, joint, ranks
    tables = [o for o in outputs if "text/html" in o.get("data", {})]
    assert len(tables) >= 3  # forecast table, influence table, diagnostics summary
    text = "".join(o.get("text", "") for o in outputs)
    assert "run " in text and "6 questions" in text
    # the history from the ledger: its table lists the run, its timeline is drawn
    (moved,) = [c for c in nb.cells if c.cell_type == "code" and "timeline(moves)" in c.source]
    shown = "".join(o.get("data", {}).get("text/html", "") for o in moved.outputs)
    run_dirs = sorted(p.name for p in (ws / ".forecast" / "runs").iterdir())
    assert run_dirs and any(run_id in shown for run_id in run_dirs)
    assert any("image/png" in o.get("data", {}) for o in moved.outputs)
