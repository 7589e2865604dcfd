"""Commands: priors, run, joint, whatif (the engine's verbs).

Heavy libraries load inside the commands, never at import.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import Annotated

import typer

from forecast.cli._app import (
    AsOfOpt,
    ChainsOpt,
    DrawsOpt,
    JsonOpt,
    SamplingProgress,
    SeedOpt,
    StrictOpt,
    WorkspaceArg,
    WorkspaceOpt,
    app,
    cut_to,
    friendly,
    settings_with,
    stderr,
    stdout,
    warn,
    warn_run,
    warn_workspace,
)
from forecast.errors import DiagnosticsError, Problem, RunError, UsageError, WorkspaceError


def _pct(p: float) -> str:
    return f"{100 * p:.1f}%"


def _diagnostics_note(diag, strict: bool) -> None:
    err = stderr()
    if diag.ok:
        err.print(
            f"diagnostics ok ({diag.method}): R-hat <= {diag.max_rhat:.3f}, "
            f"ESS >= {min(diag.min_ess_bulk, diag.min_ess_tail):.0f}, "
            f"{diag.divergences} divergences",
            style="green",
        )
        return
    err.print("diagnostics FAILED: do not trust these numbers yet", style="bold red")
    for problem in diag.problems:
        err.print(f"  - {problem}", style="red", markup=False)
    if strict:
        raise DiagnosticsError("the run failed its convergence checks (--strict)")


@app.command()
@friendly
def priors(workspace: WorkspaceArg = Path(".")) -> None:
    """Show each analyst's prior as fitted: its 5/50/95 % probabilities.

    Check that the fit says what you meant; an interval, a Beta, a verbal
    confidence and an estimative word all become a logit-normal.
    """
    from rich.table import Table

    from forecast.elicit import DEFAULT_PRIOR, describe, fit
    from forecast.report.terminal import show
    from forecast.workspace import load_workspace

    ws = load_workspace(workspace)
    table = Table(title="Priors as fitted (logit-normal)", title_justify="left")
    for col in ("analyst", "on", "as stated", "5%", "50%", "95%", "mean"):
        table.add_column(col, justify="right" if col in ("5%", "50%", "95%", "mean") else "left")
    stated = set()
    for s in ws.statements:
        f = fit(s, ws.codebook)
        stated.add(s.target)
        lo, mid, hi = f.quantiles()
        table.add_row(
            s.analyst, s.target, describe(s), _pct(lo), _pct(mid), _pct(hi), _pct(f.mean())
        )
    for target in [q.id for q in ws.questions] + [d.id for d in ws.drivers]:
        if target not in stated:
            lo, mid, hi = DEFAULT_PRIOR.quantiles()
            table.add_row(
                "(nobody)", target, "default prior", _pct(lo), _pct(mid), _pct(hi),
                _pct(DEFAULT_PRIOR.mean()),
            )  # fmt: skip
    show(stdout(), table)


@app.command()
@friendly
def run(
    workspace: WorkspaceArg = Path("."),
    seed: SeedOpt = None,
    draws: DrawsOpt = None,
    chains: ChainsOpt = None,
    strict: StrictOpt = False,
    as_of: AsOfOpt = None,
) -> None:
    """Sample the model and store the run under .forecast/runs/<run-id>/.

    Exact NumPy draws where no outcome informs the model; NUTS (nutpie, on a
    numba-compiled density; PyMC's sampler where nutpie is missing) on the part
    resolved questions inform, reused from .forecast/nuts/ while that part is
    unchanged.
    """
    from rich.table import Table

    from forecast.inference import ensure_run
    from forecast.posterior import forecast_table
    from forecast.report.terminal import show
    from forecast.workspace import load_workspace

    ws = load_workspace(workspace)
    warn_workspace(ws)
    ws = cut_to(ws, as_of)
    settings = settings_with(ws, seed, draws, chains)
    with SamplingProgress() as progress:
        result = ensure_run(ws, settings, progress=progress, reuse=False)
    frame = forecast_table(result.trace, ws)
    table = Table(title=f"run {result.run_id}", title_justify="left")
    for col in ("question", "prior", "forecast", "90% interval", "R-hat", "ESS bulk/tail"):
        table.add_column(col, justify="left" if col == "question" else "right")
    for row in frame.itertuples():
        table.add_row(
            row.id, _pct(row.prior), _pct(row.posterior), f"{_pct(row.lo)} - {_pct(row.hi)}",
            f"{row.rhat:.3f}", f"{row.ess_bulk:.0f}/{row.ess_tail:.0f}",
        )  # fmt: skip
    show(stdout(), table)
    stderr().print(f"stored in {result.path}", markup=False)
    _diagnostics_note(result.diagnostics, strict)


@app.command()
@friendly
def joint(
    a: Annotated[str, typer.Argument(help="First question id.")],
    b: Annotated[str, typer.Argument(help="Second question id.")],
    workspace: WorkspaceOpt = Path("."),
    seed: SeedOpt = None,
    draws: DrawsOpt = None,
    chains: ChainsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Joint and conditional forecasts of two questions: P(A and B), P(A | B), P(B | A)."""
    from forecast.inference import ensure_run
    from forecast.posterior import joint as joint_of
    from forecast.posterior import same_question
    from forecast.report.tables import shorten
    from forecast.workspace import load_workspace

    ws = load_workspace(workspace)
    qa, qb = ws.question(a), ws.question(b)
    if a == b:  # before any sampling
        raise UsageError(same_question(a))
    settings = settings_with(ws, seed, draws, chains)
    with SamplingProgress() as progress:
        result = ensure_run(ws, settings, progress=progress)
    warn_run(result)
    j = joint_of(result.trace, a, b)
    if as_json:
        typer.echo(json.dumps({**asdict(j), "run_id": result.run_id}, indent=2))
        return
    out = stdout()
    # off a terminal one line each, titles cut: the numbers below stay readable
    for name, q in (("A", qa), ("B", qb)):
        title = q.title if out.is_terminal else shorten(q.title, 100)
        out.print(f"{name} = {q.id}: {title}", markup=False)
    rows = [
        ("P(A)", j.p_a), ("P(B)", j.p_b), ("P(A and B)", j.p_ab),
        ("P(A | B)", j.p_a_given_b), ("P(B | A)", j.p_b_given_a),
        ("P(A) x P(B)", j.independent),
    ]  # fmt: skip
    for label, value in rows:
        out.print(f"  {label:<12} {_pct(value):>7}")
    ratio = j.p_ab / j.independent if j.independent > 0 else float("nan")
    if abs(ratio - 1) < 0.01:
        verdict = "about as often as if they were independent"
    elif ratio > 1:
        verdict = "more often than if they were independent: they move together"
    else:
        verdict = "less often than if they were independent: they pull apart"
    out.print(f"Both happen {verdict} (x{ratio:.2f}).", markup=False)
    out.print(f"run {result.run_id}", style="dim")


def _hypothetical_csv(ws, rows: list[dict[str, str]]) -> bytes:
    from forecast.workspace import EVIDENCE_COLUMNS, next_evidence_id

    ids = [e.id for e in ws.evidence]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(EVIDENCE_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        row = {k: (v or "") for k, v in row.items() if k in EVIDENCE_COLUMNS}
        if not row.get("id"):
            row["id"] = next_evidence_id(ids)
        ids.append(row["id"])
        row.setdefault("date", dt.date.today().isoformat())
        row["date"] = row["date"] or dt.date.today().isoformat()
        row["source"] = row.get("source") or WHATIF_SOURCE
        row["credibility"] = row.get("credibility") or "1"
        row["summary"] = row.get("summary") or "hypothetical"
        writer.writerow(row)
    return out.getvalue().encode()


WHATIF_SOURCE = "whatif"
WHATIF_FILE = "evidence/.whatif.csv"


def _with_whatif_source(path: Path) -> bytes:
    """sources.csv with one more row, the hypothetical source, in the file's own columns."""
    sources = path.read_bytes()
    text = sources.decode("utf-8-sig", errors="replace")
    header = next(csv.reader(io.StringIO(text, newline="")), None) or ["id", "name", "reliability"]
    values = {"id": WHATIF_SOURCE, "name": "Hypothetical source taken at face value",
              "reliability": "1"}  # fmt: skip
    row = io.StringIO()
    csv.writer(row, lineterminator="\n").writerow(
        [values.get(col.strip().lower(), "") for col in header]
    )
    if sources and not sources.endswith(b"\n"):
        sources += b"\n"
    return sources + row.getvalue().encode()


@app.command()
@friendly
def whatif(
    workspace: WorkspaceArg = Path("."),
    bears_on: Annotated[
        str | None,
        typer.Option("--bears-on", help="Question or driver the hypothetical item bears on."),
    ] = None,
    strength: Annotated[
        str | None,
        typer.Option("--strength", help="Codebook word (moderate-for) or ratio (3, 1/4)."),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--source", help="Source id; default: a hypothetical source taken at face value."
        ),
    ] = None,
    credibility: Annotated[int, typer.Option("--credibility", help="Admiralty digit 1-6.")] = 1,
    cluster: Annotated[str | None, typer.Option("--cluster", help="Cluster id.")] = None,
    csv_file: Annotated[
        Path | None,
        typer.Option(
            "--csv", help="A CSV of hypothetical items (evidence columns; id, date optional)."
        ),
    ] = None,
    seed: SeedOpt = None,
    draws: DrawsOpt = None,
    chains: ChainsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Forecasts before and after hypothetical evidence. Writes nothing anywhere.

    Without --source the item is taken at face value (reliability 1, and
    credibility 1 unless given), so a ratio L multiplies the odds by L,
    blurred only by the coding uncertainty set in forecast.toml.
    """
    from forecast.inference import NUTS_CACHE, sample
    from forecast.posterior import forecast_table
    from forecast.runs import find_run, run_key
    from forecast.workspace import SOURCES_FILE, load_workspace

    ws = load_workspace(workspace)
    settings = settings_with(ws, seed, draws, chains)
    rows: list[dict[str, str]] = []
    label = WHATIF_FILE
    if csv_file is not None:
        try:
            text = csv_file.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{csv_file}: cannot read it as UTF-8 text ({exc})") from None
        rows = [dict(r) for r in csv.DictReader(io.StringIO(text, newline=""))]
        if not rows:
            raise UsageError(f"{csv_file}: no rows under the header")
        label = str(csv_file)
    if bears_on or strength:
        if not (bears_on and strength):
            raise UsageError("give both --bears-on and --strength (or a --csv of items)")
        rows.append({
            "bears_on": bears_on, "strength": strength, "source": source or "",
            "credibility": str(credibility), "cluster": cluster or "",
        })  # fmt: skip
    if not rows:
        raise UsageError("no hypothetical evidence: give --bears-on and --strength, or --csv FILE")

    overrides = {WHATIF_FILE: _hypothetical_csv(ws, rows)}
    if any(r.get("source", "") in ("", WHATIF_SOURCE) for r in rows):
        overrides[SOURCES_FILE] = _with_whatif_source(Path(ws.root) / SOURCES_FILE)
    try:
        after_ws = load_workspace(ws.root, overrides=overrides)
    except WorkspaceError as exc:
        problems = [
            Problem(label, p.line, p.message, p.severity) if p.path == WHATIF_FILE else p
            for p in exc.problems
            if p.severity == "error"
        ]
        raise WorkspaceError(problems) from None
    after_ws = replace(after_ws, settings=settings)

    with SamplingProgress() as progress:
        stored = find_run(ws, run_key(ws, settings))
        before_idata = None
        if stored is not None:
            try:
                before_idata = stored.trace
            except RunError as exc:  # sampled anew below, in memory only: say so
                warn(f"warning: stored run {stored.run_id} is damaged ({exc}); sampling it anew")
        # stored NUTS draws of the resolved part are reused, never written: whatif writes nothing
        cache = {"cache_dir": Path(ws.root) / NUTS_CACHE, "store": False}
        if before_idata is None:
            before_idata, _ = sample(ws, settings, progress, **cache)
        after_idata, diag = sample(after_ws, settings, progress, **cache)
    before = forecast_table(before_idata, ws).set_index("id")
    after = forecast_table(after_idata, after_ws).set_index("id")
    if as_json:
        rows = [
            {
                "id": qid,
                "before": float(before.loc[qid, "posterior"]),
                "after": float(after.loc[qid, "posterior"]),
                "lo": float(after.loc[qid, "lo"]),
                "hi": float(after.loc[qid, "hi"]),
            }
            for qid in before.index
        ]
        typer.echo(json.dumps({"questions": rows, "diagnostics": diag.to_dict()}, indent=2))
        return

    from rich.table import Table

    from forecast.report.terminal import show

    table = Table(title="What if (nothing was written)", title_justify="left")
    for col in ("question", "before", "after", "change", "after 90% interval"):
        table.add_column(col, justify="left" if col == "question" else "right")
    for qid in before.index:
        b, a = before.loc[qid], after.loc[qid]
        change = a["posterior"] - b["posterior"]
        table.add_row(
            qid, _pct(b["posterior"]), _pct(a["posterior"]),
            f"{100 * change:+.1f} pts", f"{_pct(a['lo'])} - {_pct(a['hi'])}",
        )  # fmt: skip
    show(stdout(), table)
    _diagnostics_note(diag, strict=False)
