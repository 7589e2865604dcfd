"""`forecast batch`: a grid of seeded runs on Dask, stored as `forecast run` stores them.

The cluster tests start a real scheduler and two workers as separate
processes (as a team's cluster runs them) and check the numbers against
`forecast run` called cell by cell on this machine: same seed and inputs,
same numbers, to the last bit.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast.batch.cells import Cell, materialise, workspace_files
from forecast.batch.execute import results_frame, run_cells
from forecast.batch.page import colour, page
from forecast.batch.spec import read_spec
from forecast.cli import app
from forecast.errors import RunError, WorkspaceError
from forecast.ledger import open_ledger
from forecast.runs import list_runs
from forecast.workspace import load_workspace

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()
TINY = "draws = 200\nchains = 2\ntune = 200\n"


def shipped_copy(root: Path, toml_extra: str = "") -> Path:
    """The shipped workspace (priors, evidence, forecast.toml) copied to ``root``."""
    root.mkdir(parents=True)
    for name in ("priors", "evidence"):
        shutil.copytree(REPO / name, root / name)
    text = (REPO / "forecast.toml").read_text(encoding="utf-8")
    (root / "forecast.toml").write_text(text + toml_extra, encoding="utf-8")
    return root


def write_spec(folder: Path, body: str) -> Path:
    spec = folder / "sweep.toml"
    spec.write_text(body, encoding="utf-8")
    return spec


SWEEP = f"""\
workspaces = ["ws"]
[settings]
{TINY}
[grid]
coding_sd = [0.2, 0.8]
seed = [1, 2]
"""


# --- the spec ---------------------------------------------------------------------------


def test_a_bad_spec_is_refused_with_every_problem_on_its_line(tmp_path):
    shipped_copy(tmp_path / "ws")
    spec = write_spec(
        tmp_path,
        'workspaces = ["ws", "missing"]\n'  # line 1
        "[settings]\n"
        "draws = 0\n"  # line 3
        "[grid]\n"
        "seed = [1, -2]\n"  # line 5
        "coding_sd = 0.3\n"  # line 6
        "as_of = [2999-01-01]\n"  # line 7
        "colour = [1]\n",  # line 8
    )
    result = runner.invoke(app, ["batch", str(spec)])
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert f"{spec}:3: draws 0 must be a whole number > 0" in lines
    assert f"{spec}:5: seed -2 must be a whole number >= 0" in lines
    assert any(line.startswith(f"{spec}:6: [grid] coding_sd must be a list") for line in lines)
    assert any(line.startswith(f"{spec}:7: as_of 2999-01-01 is in the future") for line in lines)
    assert any(line.startswith(f"{spec}:8: unknown key 'colour' in [grid]") for line in lines)
    assert "Traceback" not in result.output
    assert not (tmp_path / "sweep-results").exists()


def test_a_missing_workspace_and_a_value_in_both_tables_are_refused(tmp_path):
    (tmp_path / "ws").mkdir()
    spec = write_spec(
        tmp_path,
        'workspaces = ["nowhere", "ws", "./ws"]\n[settings]\nseed = 3\n[grid]\nseed = [1, 2]\n',
    )
    with pytest.raises(WorkspaceError) as err:
        read_spec(spec)
    text = str(err.value)
    assert f"{spec}:1: workspaces[0] 'nowhere': no such folder" in text
    assert f"{spec}:1: workspaces[2] './ws' names a folder already listed" in text
    assert f"{spec}:5: seed is in both [settings] and [grid]" in text


def test_a_workspace_with_errors_stops_the_batch_before_any_cell(tmp_path):
    ws = shipped_copy(tmp_path / "ws")
    (ws / "priors" / "questions.yaml").write_text("questions: 3\n", encoding="utf-8")
    spec = write_spec(tmp_path, SWEEP)
    result = runner.invoke(app, ["batch", str(spec)])
    assert result.exit_code == 2
    assert f"{ws / 'priors' / 'questions.yaml'}:1:" in result.output
    assert not (ws / ".forecast").exists()


def test_an_output_folder_that_cannot_be_written_stops_before_any_cell(tmp_path):
    ws = shipped_copy(tmp_path / "ws")
    spec = write_spec(tmp_path, SWEEP)
    (tmp_path / "taken").write_text("a file, not a folder", encoding="utf-8")
    result = runner.invoke(app, ["batch", str(spec), "--out", str(tmp_path / "taken")])
    assert result.exit_code == 2
    assert "cannot write the results in" in result.output
    assert not (ws / ".forecast").exists()


def test_the_grid_is_every_combination_in_the_order_written(tmp_path):
    shipped_copy(tmp_path / "ws")
    spec = read_spec(
        write_spec(tmp_path, SWEEP.replace("[grid]", "[grid]\nas_of = [2026-07-05, '2026-07-08']"))
    )
    points = list(spec.points())
    assert spec.keys == ("as_of", "coding_sd", "seed")
    assert len(points) == spec.size == 8
    assert [p["seed"] for p in points[:2]] == [1, 2]
    assert str(points[-1]["as_of"]) == "2026-07-08"
    assert spec.settings == {"draws": 200, "chains": 2, "tune": 200}


def test_what_travels_is_bytes_that_rebuild_the_same_workspace(tmp_path):
    ws = load_workspace(shipped_copy(tmp_path / "ws"))
    files = workspace_files(ws)
    assert set(files) == set(ws.file_hashes)
    assert all(isinstance(b, bytes) for b in files.values())
    materialise(files, tmp_path / "there")
    assert load_workspace(tmp_path / "there").content_hash() == ws.content_hash()
    with pytest.raises(RunError, match="outside"):
        materialise({"../evil.yaml": b"x"}, tmp_path / "there")


def test_the_cell_key_changes_with_files_settings_and_date():
    base = Cell("ws", {"a.csv": b"1"}, {"seed": 1})
    assert base.key == Cell("other", {"a.csv": b"1"}, {"seed": 1}).key  # a name is no input
    assert base.key != Cell("ws", {"a.csv": b"2"}, {"seed": 1}).key
    assert base.key != Cell("ws", {"a.csv": b"1"}, {"seed": 2}).key
    import datetime as dt

    assert base.key != Cell("ws", {"a.csv": b"1"}, {"seed": 1}, as_of=dt.date(2026, 7, 5)).key


def test_the_page_colours_escapes_and_lists_failed_cells():
    assert colour(0.5)[0] == "#f7f7f7"  # white at even odds
    assert colour(0.0)[0] == "#b2182b" and colour(1.0)[0] == "#2166ac"
    good = Cell("ws", {}, {"seed": 1}, values={"seed": 1})
    bad = Cell("ws", {}, {"seed": 2}, values={"seed": 2})
    from forecast.batch.execute import Outcome

    row = {
        "question": "q1", "title": "<script>alert(1)</script>", "prior": 0.3, "forecast": 0.6,
        "lo": 0.4, "hi": 0.8, "rhat": 1.0, "ess_bulk": 900.0, "ess_tail": 900.0,
        "diagnostics_ok": True, "outcome": "", "seconds": 1.0, "worker_peak_mib": 1.0,
    }  # fmt: skip
    frame = results_frame(
        [Outcome(good, run_id="r1", rows=[row]), Outcome(bad, error="UsageError: boom")], ("seed",)
    )
    assert list(frame["status"]) == ["done", "failed"]
    html = page(frame, ("seed",), "sweep.toml")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "UsageError: boom" in html
    assert "60%" in html and 'http-equiv="Content-Security-Policy" content="default-src' in html


# --- on a cluster ---------------------------------------------------------------------------


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "OPENBLAS_NUM_THREADS": "1",
    }


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """A Dask scheduler and two one-thread workers, each its own process."""
    from distributed import Client

    folder = tmp_path_factory.mktemp("dask")
    info = folder / "scheduler.json"
    log = (folder / "log.txt").open("w")
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(info),
            ],
            env=_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=folder,
        )  # fmt: skip
    ]
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        for n in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "distributed.cli.dask_worker",
                        address,
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--name",
                        f"w{n}",
                    ],
                    env=_env(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=folder,
                )  # fmt: skip
            )
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=90)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


def alone_copy(root: Path, coding_sd: float) -> Path:
    """A copy whose forecast.toml sets what a cell of SWEEP changes, for `forecast run`."""
    alone = shipped_copy(root)
    toml = (alone / "forecast.toml").read_text(encoding="utf-8")
    assert "coding_sd = 0.4" in toml and "draws = 1000\nchains = 4" in toml
    toml = toml.replace("coding_sd = 0.4", f"coding_sd = {coding_sd}")
    toml = toml.replace("draws = 1000\nchains = 4", "draws = 200\nchains = 2\ntune = 200")
    (alone / "forecast.toml").write_text(toml, encoding="utf-8")
    return alone


def _trace_prob(run_path: Path) -> np.ndarray:
    import arviz as az

    return az.from_netcdf(run_path / "trace.nc").posterior["prob"].values


@pytest.mark.slow
def test_a_sweep_on_a_cluster_gives_the_numbers_of_forecast_run(tmp_path, scheduler):
    ws = shipped_copy(tmp_path / "ws")
    spec = write_spec(tmp_path, SWEEP)
    result = runner.invoke(app, ["batch", str(spec), "--scheduler", scheduler, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["cells"] == 4 and payload["failed"] == 0
    frame = pd.read_csv(tmp_path / "sweep-results" / "results.csv")
    assert len(frame) == 4 * 6 and set(frame["status"]) == {"done"}
    assert (tmp_path / "sweep-results" / "batch.html").is_file()
    # each cell stored in the workspace and its ledger, as `forecast run` does
    stored = {r.run_id: r for r in list_runs(load_workspace(ws))}
    assert set(stored) == set(frame["run_id"])
    with open_ledger(ws) as led:
        assert {r["run_id"] for r in led.runs()} == set(stored)

    # the same four cells, one `forecast run` after another on this machine
    for (coding_sd, seed), cell in frame.groupby(["coding_sd", "seed"]):
        alone = alone_copy(tmp_path / f"alone-{coding_sd}-{seed}", coding_sd)
        done = runner.invoke(app, ["run", str(alone), "--seed", str(seed)])
        assert done.exit_code == 0, done.output
        (run,) = list_runs(load_workspace(alone))
        want = pd.DataFrame(run.manifest["forecasts"]).set_index("id")
        got = cell.set_index("question")
        for col, theirs in (("prior", "prior"), ("forecast", "posterior"), ("lo", "lo"),
                            ("hi", "hi")):  # fmt: skip
            assert got[col].to_dict() == want[theirs].to_dict(), (coding_sd, seed, col)
        # the same settings (set by the spec there, by forecast.toml here), the same draws
        batch_run = stored[cell["run_id"].iloc[0]]
        assert batch_run.manifest["settings"] == run.manifest["settings"]
        assert np.array_equal(_trace_prob(batch_run.path), _trace_prob(run.path))

    # the coding sd moves the forecasts (the seed alone moves them too, less)
    assert frame.groupby("coding_sd")["forecast"].mean().nunique() == 2

    # run again: every cell is taken from the cache, nothing sampled or stored anew
    again = runner.invoke(app, ["batch", str(spec), "--scheduler", scheduler, "--json"])
    assert again.exit_code == 0, again.output
    rows = pd.DataFrame(json.loads(again.stdout)["rows"])
    assert set(rows["status"]) == {"cached"}
    assert rows["forecast"].tolist() == frame["forecast"].tolist()
    assert len(list_runs(load_workspace(ws))) == 4

    # a run removed from the workspace: its cell runs again, the others stay cached
    gone = frame["run_id"].iloc[0]
    shutil.rmtree(ws / ".forecast" / "runs" / gone)
    third = runner.invoke(app, ["batch", str(spec), "--scheduler", scheduler, "--json"])
    assert third.exit_code == 0, third.output
    rows = pd.DataFrame(json.loads(third.stdout)["rows"]).drop_duplicates("cell")
    assert rows["status"].tolist() == ["done", "cached", "cached", "cached"]
    assert len(list_runs(load_workspace(ws))) == 4


@pytest.mark.slow
def test_a_failed_cell_is_a_row_and_runs_again_next_time(tmp_path, scheduler):
    ws = shipped_copy(tmp_path / "ws")
    spec = write_spec(
        tmp_path,
        f'workspaces = ["ws"]\n[settings]\n{TINY}\n[grid]\npooling = ["hierarchical", "direct"]\n',
    )
    out = tmp_path / "out"
    result = runner.invoke(app, ["batch", str(spec), "--scheduler", scheduler, "--out", str(out)])
    assert result.exit_code == 1, result.output
    # three analysts on one question cannot be taken "as is": the engine says so
    assert "failed: ws pooling=direct: UsageError" in result.output
    frame = pd.read_csv(out / "results.csv")
    failed = frame[frame["status"] == "failed"]
    assert len(failed) == 1 and "takes one analyst" in failed["error"].iloc[0]
    assert (frame["status"] == "done").sum() == 6  # the other cell's six questions
    assert "takes one analyst" in (out / "batch.html").read_text(encoding="utf-8")
    assert len(list_runs(load_workspace(ws))) == 1
    again = runner.invoke(app, ["batch", str(spec), "--scheduler", scheduler, "--out", str(out)])
    assert again.exit_code == 1
    assert "1 finished before, 1 failed" in again.output


@pytest.mark.slow
def test_run_cells_reports_a_broken_cell_and_runs_the_rest(tmp_path, scheduler):
    from distributed import Client

    ws = load_workspace(shipped_copy(tmp_path / "ws"))
    files = workspace_files(ws)
    good = Cell("ws", files, {"draws": 100, "chains": 2, "tune": 100, "seed": 5})
    broken = Cell("ws", {k: v for k, v in files.items() if k != "priors/questions.yaml"}, {})
    with Client(scheduler) as client:
        outcomes = {o.cell.key: o for o in run_cells([good, broken], client)}
    assert outcomes[good.key].ok and len(outcomes[good.key].result["table"]) == 6
    assert outcomes[good.key].result["peak_rss"] > 50 * 2**20  # a worker holds PyMC
    assert outcomes[broken.key].error.startswith("WorkspaceError: priors/questions.yaml")


@pytest.mark.slow
def test_without_a_scheduler_the_sweep_runs_on_a_local_cluster(tmp_path):
    shipped_copy(tmp_path / "ws")
    spec = write_spec(tmp_path, SWEEP)
    result = runner.invoke(app, ["batch", str(spec)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(tmp_path / "sweep-results" / "results.csv")
    assert len(frame) == 24 and set(frame["status"]) == {"done"}
    assert "4 cells: 4 run now" in result.output
    assert "connecting to a local cluster of" in result.output
    # off a terminal the summary is a plain (Markdown) table, one question a line
    (line,) = [x for x in result.output.splitlines() if x.startswith("| ws ") and "mou-in" in x]
    assert line.endswith("|") and "pts" in line
    # the same numbers as `forecast run --seed 1` with coding_sd 0.8
    alone = alone_copy(tmp_path / "alone", 0.8)
    assert runner.invoke(app, ["run", str(alone), "--seed", "1"]).exit_code == 0
    (run,) = list_runs(load_workspace(alone))
    want = {f["id"]: f["posterior"] for f in run.manifest["forecasts"]}
    cell = frame[(frame["coding_sd"] == 0.8) & (frame["seed"] == 1)]
    assert dict(zip(cell["question"], cell["forecast"], strict=True)) == want


def _benchmark(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_a_tiny_sbc_through_the_batch_path_matches_the_fits_made_here(scheduler):
    """Each round's world is drawn here, its workspace fitted on a worker from files
    (NUTS: a question is resolved); the intervals' hits equal those of fitting the
    same workspace in memory, as the benchmark does without --dask."""
    from argparse import Namespace

    sbc = _benchmark("sbc")
    args = Namespace(rounds=2, questions=3, analysts=2, resolved=1, seed=4, scheduler=scheduler)
    settings = {"draws": 150, "tune": 150, "chains": 2, "seed": args.seed}
    via_dask = list(sbc.dask_rounds(args, settings))
    here = [sbc.one_round(args.seed * 100_003 + r, 3, 2, 1, settings) for r in range(args.rounds)]
    assert len(via_dask) == 2
    # rounds come back in any order: compare as a multiset of (hits, diagnostics ok)
    key = lambda pair: (tuple(pair[0].tolist()), bool(pair[1]))  # noqa: E731
    assert sorted(map(key, via_dask)) == sorted(map(key, here))


@pytest.mark.slow
def test_a_backtest_grid_is_forecast_run_as_of_each_date(tmp_path, scheduler):
    ws = shipped_copy(tmp_path / "ws")
    spec = write_spec(
        tmp_path,
        f'workspaces = ["ws"]\n[settings]\n{TINY}seed = 9\n[grid]\n'
        "as_of = [2026-07-04, 2026-07-08]\n",
    )
    result = runner.invoke(app, ["batch", str(spec), "--scheduler", scheduler])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(tmp_path / "sweep-results" / "results.csv")
    alone = alone_copy(tmp_path / "alone", 0.4)
    for day in ("2026-07-04", "2026-07-08"):
        done = runner.invoke(app, ["run", str(alone), "--as-of", day, "--seed", "9"])
        assert done.exit_code == 0, done.output
    with open_ledger(alone) as led:
        want = {(f["as_of"], f["question"]): f["forecast"] for f in led.forecasts()}
    got = {(a, q): f for a, q, f in zip(frame["as_of"], frame["question"], frame["forecast"],
                                         strict=True)}  # fmt: skip
    assert got == want
    # fewer items known on 4 July: the two dates' forecasts differ
    by_day = frame.pivot(index="question", columns="as_of", values="forecast")
    assert (by_day["2026-07-04"] != by_day["2026-07-08"]).any()
    with open_ledger(ws) as led:
        assert sorted(r["as_of"] for r in led.runs()) == ["2026-07-04", "2026-07-08"]
