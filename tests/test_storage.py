"""Stored runs: the compact trace, one copy per run, pruning, and reports at scale."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast import posterior, runs, trace
from forecast.cli import app
from forecast.workspace import load_workspace

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _generated(folder: Path, questions: int, items: int, seed: int) -> Path:
    """A workspace from benchmarks/bigworkspace.py, 2 chains x 150 draws, nothing resolved."""
    spec = importlib.util.spec_from_file_location(
        "bigworkspace", REPO / "benchmarks" / "bigworkspace.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_workspace(folder / "ws", questions, items, seed, draws=150, chains=2)


@pytest.fixture(scope="module")
def sampled(tmp_path_factory):
    """A generated workspace (drivers, corroborated clusters) and its full draws."""
    from forecast.inference import sample

    root = _generated(tmp_path_factory.mktemp("small"), questions=8, items=80, seed=3)
    ws = load_workspace(root)
    assert any(e.cluster != e.id for e in ws.evidence)  # some clusters hold two items
    assert any(e.bears_on.startswith("driver") for e in ws.evidence)
    idata, diagnostics = sample(ws)
    return ws, idata, diagnostics


@pytest.fixture(scope="module")
def stored(sampled, tmp_path_factory):
    ws, idata, _ = sampled
    path = tmp_path_factory.mktemp("trace") / "trace.nc"
    trace.write(trace.compact(idata, ws), path)
    return trace.read(path), path


def test_compact_trace_keeps_probabilities_to_float32_precision(sampled, stored):
    ws, full, _ = sampled
    back, _ = stored
    for var in ("prob", "prob_prior", "theta", "z"):
        assert back.posterior[var].dtype == np.float32
        a = full.posterior[var].values
        b = back.posterior[var].values.astype(float)
        assert np.all(np.abs(b - a) <= 1e-6 * np.abs(a) + 1e-30), var
    # per-item draws are gone; what is read of them is kept as summaries
    for var in ("w", "lam", "rho", "rho_item"):
        assert var not in back.posterior
    w = full.posterior["w"].values.reshape(-1, full.posterior["w"].shape[-1])
    kept = back["summary"]["w"]
    assert np.allclose(kept.sel(stat="mean").values, w.mean(axis=0))
    assert np.allclose(kept.sel(stat="q95").values, np.quantile(w, 0.95, axis=0))


def test_summaries_give_what_the_full_draws_gave(sampled, stored):
    ws, full, _ = sampled
    back, _ = stored
    pd.testing.assert_frame_equal(
        posterior.contributions(full, ws), posterior.contributions(back, ws), check_dtype=False
    )
    for q in ws.questions:
        pd.testing.assert_frame_equal(
            posterior.explain(full, ws, q.id), posterior.explain(back, ws, q.id),
            check_dtype=False,
        )  # fmt: skip
    a, b = posterior.forecast_table(full, ws), posterior.forecast_table(back, ws)
    assert np.allclose(a["posterior"], b["posterior"], rtol=1e-6, atol=0)
    assert np.allclose(a["lo"], b["lo"], rtol=1e-6, atol=0)
    # diagnostics come from the float64 draws, not from the rounded ones
    assert np.array_equal(a["rhat"], b["rhat"])
    assert np.array_equal(a["ess_bulk"], b["ess_bulk"])


def test_leave_one_out_of_a_corroborated_item_by_hand(sampled):
    """An item taken out of a two-item cluster: w - log(1 + rho_other * (e^lam - 1))."""
    ws, full, _ = sampled
    pair = next(c for c in {e.cluster for e in ws.evidence}
                if sum(e.cluster == c for e in ws.evidence) == 2)  # fmt: skip
    a, b = [e for e in ws.evidence if e.cluster == pair]
    q = a.bears_on if a.bears_on.startswith("q") else next(
        q.id for q in ws.questions if a.bears_on in q.drivers)  # fmt: skip
    load = 1.0 if a.bears_on == q else ws.question(q).drivers[a.bears_on]
    post = full.posterior
    w = post["w"].sel(cluster=pair).values.ravel()
    lam = post["lam"].sel(cluster=pair).values.ravel()
    rho_b = post["rho_item"].sel(evidence=b.id).values.ravel()
    theta = post["theta"].sel(question=q).values.ravel()
    contrib = load * (w - np.log(1 + rho_b * (np.exp(lam) - 1)))
    without = 1 / (1 + np.exp(-(theta - contrib)))
    row = posterior.explain(full, ws, q).set_index("id").loc[a.id]
    assert row["mean"] == pytest.approx(contrib.mean(), rel=1e-9)
    assert row["prob_without"] == pytest.approx(without.mean(), rel=1e-9)


def test_trace_is_smaller(sampled, stored, tmp_path):
    _, full, _ = sampled
    _, path = stored
    old = tmp_path / "old.nc"
    full.to_netcdf(str(old))
    assert os.path.getsize(path) < 0.5 * os.path.getsize(old)


def test_old_format_run_still_reads(sampled, tmp_path):
    """A run stored before the compact format (full float64 draws) reads as before."""
    ws, full, diagnostics = sampled
    run = runs.save_run(ws, ws.settings, full, diagnostics)
    # as the old code stored it: every draw, no summary group
    trace.Trace({g: full[g] for g in full.groups() if g != "summary"}).to_netcdf(
        run.path / "trace.nc"
    )
    again = runs.load_run(ws, run.run_id)
    assert "w" in again.idata.posterior and "summary" not in again.idata.groups()
    pd.testing.assert_frame_equal(
        posterior.contributions(again.idata, ws), posterior.contributions(full, ws)
    )


def test_a_run_sampled_now_holds_what_is_stored(sampled, tmp_path):
    """In memory (no ArviZ) the run's trace has the numbers ArviZ reads back from trace.nc."""
    import shutil

    import arviz as az

    ws0, full, diagnostics = sampled
    root = tmp_path / "ws"
    shutil.copytree(ws0.root, root, ignore=shutil.ignore_patterns(".forecast", "reports"))
    ws = load_workspace(root)
    run = runs.save_run(ws, ws.settings, full, diagnostics)
    held = run.trace
    assert isinstance(held, trace.Trace) and held.groups() == ["posterior", "summary"]
    back = az.from_netcdf(str(run.path / "trace.nc"))
    assert set(back.groups()) == {"posterior", "summary"}
    for group in ("posterior", "summary"):
        for name, var in held[group].data_vars.items():
            assert var.dtype == back[group][name].dtype, name
            np.testing.assert_array_equal(var.values, back[group][name].values)
    assert isinstance(run.idata, az.InferenceData)
    pd.testing.assert_frame_equal(
        posterior.forecast_table(held, ws), posterior.forecast_table(back, ws)
    )


def test_a_run_too_large_to_hold_is_summarised_as_drawn(sampled, monkeypatch):
    """Per-cluster and per-item draws made a chunk of clusters at a time give the same run."""
    from forecast import forward, inference

    ws, full, _ = sampled
    monkeypatch.setattr(inference, "PER_ITEM_BUDGET", 0)
    monkeypatch.setattr(forward, "CLUSTER_CHUNK", 300 * 7)  # 7 clusters a chunk (2 x 150 draws)
    streamed, diagnostics = inference.sample(ws)
    assert not {"w", "lam", "rho", "rho_item", "coding"} & set(streamed.posterior.data_vars)
    assert diagnostics.method == "forward"
    a, b = trace.compact(full, ws), trace.compact(streamed, ws)
    assert sorted(a["summary"].data_vars) == sorted(b["summary"].data_vars)
    for name, var in a["summary"].data_vars.items():
        got = b["summary"][name].values
        if var.dtype.kind != "f":
            assert (var.values == got).all(), name
        elif not name.startswith("prob_"):  # the sums' order differs: a last-digit difference
            np.testing.assert_allclose(got, var.values, rtol=1e-9, atol=1e-12, err_msg=name)
    for name, var in a["posterior"].data_vars.items():
        np.testing.assert_allclose(b["posterior"][name].values, var.values, rtol=1e-6)
    pd.testing.assert_frame_equal(posterior.contributions(a, ws), posterior.contributions(b, ws))
    # R-hat's folded ranks tie at the median: a last-digit difference may break the tie
    np.testing.assert_allclose(
        b["summary"]["prob_rhat"].values, a["summary"]["prob_rhat"].values, rtol=1e-2
    )


# --- prune -----------------------------------------------------------------------------------
def _age(run: runs.Run, days: float) -> None:
    """Make a stored run look ``days`` old (its manifest's creation time)."""
    path = run.path / "manifest.json"
    m = json.loads(path.read_text())
    m["created"] = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat()
    path.write_text(json.dumps(m))


@pytest.fixture
def five_runs(sampled, tmp_path):
    """A copy of the workspace with five stored runs, 50 to 10 days old."""
    import shutil

    ws0, idata, diagnostics = sampled
    root = tmp_path / "ws"
    shutil.copytree(ws0.root, root, ignore=shutil.ignore_patterns(".forecast", "reports"))
    ws = load_workspace(root)
    made = []
    for n, days in enumerate((50, 40, 30, 20, 10)):
        settings = dataclasses.replace(ws.settings, seed=100 + n)  # none is the current run
        run = runs.save_run(ws, settings, idata, diagnostics)
        _age(run, days)
        made.append(run.run_id)
    return ws, made


def test_prune_keeps_the_newest_and_what_is_in_use(five_runs):
    ws, made = five_runs
    # a report made from the oldest run points at its trace: that run stays
    report = Path(ws.root) / "reports" / made[0]
    report.mkdir(parents=True)
    (report / "manifest.json").write_text(json.dumps({"run_id": made[0]}))
    plan = runs.plan_prune(ws, keep=2)
    kept = dict(plan.kept)
    assert set(kept) == {made[0], made[3], made[4]}
    assert "points at its trace" in kept[made[0]] and "newest" in kept[made[4]]
    assert [r for r, _ in plan.deleted] == [made[1], made[2]]
    assert all(size > 0 for _, size in plan.deleted)
    runs.prune(ws, plan)
    assert [r.run_id for r in runs.list_runs(ws)] == [made[0], made[3], made[4]]
    assert sorted(p.name for p in runs.runs_dir(ws).iterdir()) == sorted(
        [made[0], made[3], made[4]]
    )  # nothing half-deleted left behind


def test_prune_keeps_the_latest_run_the_ledger_recorded(five_runs):
    from forecast import ledger

    ws, made = five_runs
    ledger.record_run(ws, runs.load_run(ws, made[1]))
    plan = runs.plan_prune(ws, keep=1)
    assert dict(plan.kept) == {
        made[1]: "the latest run in the ledger",
        made[4]: "the newest",
    }
    assert [r for r, _ in plan.deleted] == [made[0], made[2], made[3]]


def test_prune_older_than_and_dry_run_from_the_cli(five_runs):
    ws, made = five_runs
    result = runner.invoke(
        app, ["runs", "prune", "--keep", "0", "--older-than", "25", "--dry-run", "-w", str(ws.root)]
    )
    assert result.exit_code == 0, result.output
    assert f"would delete {made[0]}" in result.output and f"would delete {made[2]}" in result.output
    assert f"kept     {made[3]}  (younger than 25 days)" in result.output
    assert len(runs.list_runs(ws)) == 5  # a dry run deletes nothing
    result = runner.invoke(app, ["runs", "prune", "--keep", "0", "--older-than", "25",
                                 "-w", str(ws.root)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Deleted 3 runs" in result.output
    assert [r.run_id for r in runs.list_runs(ws)] == made[3:]


def test_prune_is_atomic_per_run(five_runs, monkeypatch):
    """A removal cut short leaves a hidden folder no reader sees; the next prune clears it."""
    import shutil

    ws, made = five_runs
    real = shutil.rmtree
    monkeypatch.setattr(runs.shutil, "rmtree", lambda *a, **k: None)  # killed mid-removal
    runs.prune(ws, runs.plan_prune(ws, keep=4))
    assert [r.run_id for r in runs.list_runs(ws)] == made[1:]
    assert (runs.runs_dir(ws) / f".{made[0]}{runs.PRUNING}").is_dir()
    monkeypatch.setattr(runs.shutil, "rmtree", real)
    runs.prune(ws, runs.plan_prune(ws, keep=4))
    assert sorted(p.name for p in runs.runs_dir(ws).iterdir()) == sorted(made[1:])


# --- reports at scale ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """`forecast report` on a generated workspace of 36 questions."""
    root = _generated(tmp_path_factory.mktemp("many"), questions=36, items=500, seed=5)
    result = runner.invoke(app, ["report", str(root)])
    assert result.exit_code == 0, result.output
    (folder,) = (root / "reports").iterdir()
    return root, folder


def test_report_of_many_questions_stays_light(many):
    from forecast.report import figures as fig

    root, folder = many
    html = (folder / "report.html").read_text(encoding="utf-8")
    # the figures are capped (three a question for the most moved: prior, waterfall,
    # timeline; the overview, at most four joints, the rank plots), so the page does not
    # grow with them: 36 questions under 2 MB, where embedding every question's plots took 8
    images = html.count("data:image/png;base64,")
    assert images == len(list((folder / "plots").glob("*.png"))) <= 3 * fig.PLOTTED + 1 + 4 + 1
    assert len(list((folder / "plots").glob("timeline-*.png"))) == fig.PLOTTED
    assert len(html.encode()) < 2_000_000
    assert html.count("<details") == 36 and "<details open" not in html
    pngs = {p.name for p in (folder / "plots").glob("*.png")}
    assert "forecasts.png" in pngs  # the overview of every question
    assert len([p for p in pngs if p.startswith("prior-")]) == fig.PLOTTED
    assert not list(folder.rglob("*.nc"))  # the trace stays in the run's folder
    (run,) = (root / ".forecast" / "runs").iterdir()
    assert (run / "trace.nc").is_file()


def test_figure_cache_skips_drawing_again(many, monkeypatch):
    from forecast.report import figures as fig
    from forecast.report.tables import build_report

    root, folder = many
    ws = load_workspace(root)
    run = runs.latest_run(ws)
    report = build_report(ws, run, track=True)  # as forecast report builds it
    drawn = []
    real = fig.draw
    monkeypatch.setattr(fig, "draw", lambda r, s: drawn.append(s.path) or real(r, s))
    cache = run.path / "figures"
    assert len(list(cache.glob("*.png"))) == len(list((folder / "plots").glob("*.png")))
    again = fig.render(report, cache=cache, workers=1)
    assert drawn == []  # every figure came from the cache the report filled
    assert again == {f"plots/{p.name}": p.read_bytes() for p in (folder / "plots").glob("*.png")}
    fig.render(report, dpi=60, cache=cache, workers=1)  # other inputs: drawn anew
    assert sorted(drawn) == sorted(again)
