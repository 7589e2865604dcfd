"""Rich renderables of a report for the terminal.

Functions here build tables and text; the CLI prints them on its consoles.
On a terminal the tables are boxed and coloured; off one (a pipe, a log
file) they are Markdown tables, and ``NO_COLOR`` drops colour everywhere.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from forecast.report.summary import interval, logodds, pct, points, shorten

if TYPE_CHECKING:
    from forecast.report.explanation import Explanation
    from forecast.report.reuse import StoredReport
    from forecast.report.tables import Report


def _num(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _signed(text: str, delta: float) -> Text:
    if not math.isfinite(delta) or abs(delta) < 0.0005:
        return Text(text, style="dim")
    return Text(text, style="green" if delta > 0 else "red")


def _table(console: Console, **kwargs: Any) -> Table:
    if console.is_terminal:
        return Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, **kwargs)
    return Table(box=box.MARKDOWN, header_style="", **kwargs)


# Off a terminal a text column is cut to this many characters (with an
# ellipsis) unless its table sets its own cap; numbers are never cut.
TEXT_MAX = 40


def show(console: Console, renderable: RenderableType) -> None:
    """Print on a terminal as is; elsewhere as plain lines, one table row a line.

    Off a terminal nothing wraps (a log line per row, grep-able, and the
    tables are valid Markdown): numeric (right-aligned) columns keep their
    full width, text columns are cut with an ellipsis at their cap, so a
    5,000-character summary cannot squeeze the numbers out. Text around the
    tables wraps at the console's width; blank edge lines are dropped.
    """
    if console.is_terminal:
        console.print(renderable)
        return
    parts = renderable.renderables if isinstance(renderable, Group) else [renderable]
    for part in parts:
        if isinstance(part, Table):
            _print_plain_table(console, part)
        else:
            console.print(part)


def _print_plain_table(console: Console, table: Table) -> None:
    for column in table.columns:
        column.no_wrap = True
        column.min_width = None
        column.ratio = None
        if column.justify != "right":
            column.overflow = "ellipsis"
            column.max_width = column.max_width or TEXT_MAX
    # a console of its own: the shared one caps rendering at its own width
    wide = Console(
        file=io.StringIO(), width=4000, color_system=None, markup=False, emoji=False,
        highlight=False,
    )  # fmt: skip
    wide.print(table, crop=False)
    lines = [line.rstrip() for line in wide.file.getvalue().splitlines()]
    text = "\n".join(line for line in lines if line.strip())
    console.print(Text(text), soft_wrap=True)  # a Text: never read as markup or emoji


def one_line(text: object) -> str:
    """Text on one line (newlines and runs of spaces as one space), for plain tables."""
    return " ".join(str(text).split())


def cut_left(text: str, width: int) -> str:
    """At most ``width`` characters, keeping the end (a path's file and line)."""
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def forecast_table(report: Report | StoredReport, console: Console) -> Table:
    """Question, prior -> forecast, 90 % interval, change since the previous run,
    the evidence that moved it most, and a diagnostics flag (of a report, or of
    one read back from its folder)."""
    tty = console.is_terminal
    t = _table(console)
    # on a terminal: two-line headers and folding cells, so it fits 80 columns
    t.add_column("Question", overflow="fold", min_width=15, max_width=None if tty else 80)
    if not tty:
        t.add_column("ID", no_wrap=True)
    t.add_column("Prior →\nForecast" if tty else "Prior → Forecast", justify="right", no_wrap=True)
    t.add_column("90%\ninterval" if tty else "90% interval", justify="right", no_wrap=True)
    # the change since the previous run (posteriors.csv: since_previous), not
    # the forecast minus the prior (posteriors.csv: change_from_prior)
    t.add_column("Since\nprevious" if tty else "Since previous", justify="right", no_wrap=True)
    t.add_column("Moved most by", overflow="fold", min_width=12 if tty else None,
                 max_width=None if tty else 72)  # fmt: skip
    t.add_column("Diag.", overflow="fold", no_wrap=not tty, max_width=12 if tty else None)
    for row in report.forecast_rows():
        title = Text(str(row["title"]) if tty else one_line(row["title"]))
        outcome = str(row.get("outcome") or "")
        if outcome:
            title.append(f" [resolved {outcome}]" if outcome != "annulled" else " [annulled]",
                         style="dim")  # fmt: skip
        if tty:
            title.append(f"\n{row['id']}", style="dim")
        delta = _num(row["since_previous"])
        change = (
            _signed(points(delta, none="new"), delta)
            if report.previous_run_id
            else Text("—", style="dim")
        )
        moved = Text()
        if row.get("moved_by"):
            shift = _num(row.get("moved_by_shift"))
            ids = str(row["moved_by"])
            moved.append(ids if tty else shorten(ids, 28))  # off a terminal: room for the shift
            if math.isfinite(shift):
                moved.append(" ")
                moved.append_text(_signed(points(shift), shift))
            summary = shorten(str(row.get("moved_by_summary") or ""), 48)
            if summary:
                moved.append(("\n" if tty else ": ") + summary, style="dim")
        flag = str(row.get("flag") or "")
        diag = Text(f"⚠ {flag}", style="bold red") if flag else Text("ok", style="green")
        cells: list[RenderableType] = [title]
        if not tty:
            cells.append(Text(str(row["id"])))
        cells += [
            Text.assemble(pct(_num(row["prior"])), " → ", (pct(_num(row["posterior"])), "bold")),
            interval(_num(row["lo"]), _num(row["hi"])),
            change,
            moved,
            diag,
        ]
        t.add_row(*cells, end_section=tty)
    return t


def run_status(report: Report | StoredReport, *, reused: bool) -> RenderableType:
    """One line on the run, then the diagnostics verdict (problems listed if it failed)."""
    line = Text()
    line.append(f"Run {report.run_id}", style="bold")
    line.append(" (stored run reused: inputs unchanged)" if reused else " (new run)", style="dim")
    if report.previous_run_id:
        line.append(f"; change since run {report.previous_run_id}", style="dim")
    parts: list[RenderableType] = [line, Text(report.summary_line(), style="dim")]
    if report.ok:
        parts.append(Text("Diagnostics ok.", style="green"))
    else:
        parts.append(Text("Diagnostics FAILED: do not use these numbers yet.", style="bold red"))
        for p in report.problems or ["the sampler's checks failed"]:
            parts.append(Text(f"  - {p}", style="red"))
    return Group(*parts)


def explanation(exp: Explanation, console: Console, drivers: dict[str, str] | None = None) -> Group:
    """The question, its forecast, and every item and cluster by influence."""
    names = drivers or {}
    tty = console.is_terminal
    q = exp.question
    head = Text()
    head.append(q.title if tty else shorten(q.title, 100), style="bold")
    head.append(f"  [{q.id}]", style="dim")
    line = Text.assemble(
        "Prior ", pct(exp.prior), " → forecast ", (pct(exp.posterior), "bold"),
        f" (90%: {interval(exp.lo, exp.hi)})",
    )  # fmt: skip
    if exp.run_id:
        line.append(f"   run {exp.run_id}", style="dim")
    t = _table(console)
    t.add_column("#", justify="right", no_wrap=True, style="dim")
    if tty:  # the summary under the id, the coding in one column: fits 100 columns
        t.add_column("Evidence", overflow="fold", min_width=16)
        t.add_column("Coded as", overflow="fold", max_width=16)
    else:  # one field a column, one line a row: for logs and tools
        for name in ("Evidence", "Source", "Grade", "Cred.", "Strength"):
            t.add_column(name, no_wrap=True)
    t.add_column("Log-odds (90%)" if not tty else "Log-odds", justify="right", no_wrap=True)
    t.add_column("Δ forecast", justify="right", no_wrap=True)
    t.add_column("Without", justify="right", no_wrap=True)
    if not tty:
        t.add_column("Where", no_wrap=True, max_width=48)
        t.add_column("Summary", no_wrap=True, max_width=80)
    rank = 0
    rows = exp.rows()
    for n, r in enumerate(rows):
        child = r["depth"] > 0
        last_of_group = n + 1 == len(rows) or rows[n + 1]["depth"] == 0
        if not child:
            rank += 1
        kind = str(r.get("kind"))
        ident = Text(("└ " if child else "") + str(r.get("id")))
        if kind == "cluster":
            ident.append(f" ({r['n_items']} items)", style="dim")
        elif r.get("cluster") and str(r["cluster"]) != str(r["id"]) and not child:
            ident.append(f" [{r['cluster']}]", style="dim")
        via = str(r.get("via") or "")
        src = str(r.get("source") or "")
        grade = str(r.get("grade") or "") if kind == "item" else ""
        cred = r.get("credibility")
        cred_s = (
            ""
            if kind != "item"
            or cred in (None, "")
            or (isinstance(cred, float) and math.isnan(cred))
            else str(int(cred) if isinstance(cred, float) else cred)
        )
        strength = str(r.get("strength") or "") if kind == "item" else ""
        mean, lo, hi = _num(r.get("mean")), _num(r.get("lo")), _num(r.get("hi"))
        shift = _num(r.get("prob_shift"))
        summary = Text(str(r.get("summary") or "") if tty else one_line(r.get("summary") or ""))
        if via:
            summary.append(f" (via {names.get(via, via)})", style="dim")
        cells: list[RenderableType] = ["" if child else str(rank)]
        if tty:
            if r.get("where"):
                ident.append(f"  {r['where']}", style="dim")
            ident.append("\n")
            ident.append_text(summary)
            coded = Text(src)
            if grade:
                coded.append(f" ({grade})", style="dim")
            if cred_s:
                coded.append(f", cred. {cred_s}")
            if strength:
                coded.append(f"\n{strength}")
            cells += [ident, coded]
        else:
            cells += [ident, Text(src), Text(grade), Text(cred_s), Text(strength)]
        cells += [
            _signed(
                f"{logodds(mean)}{chr(10) if tty else ' '}[{logodds(lo)}, {logodds(hi)}]", mean
            ),
            _signed(points(shift), shift),
            pct(_num(r.get("prob_without"))),
        ]
        if not tty:
            cells += [Text(cut_left(str(r.get("where") or ""), 48)), summary]
        t.add_row(*cells, end_section=tty and last_of_group)
    n_items = sum(1 for r in rows if r.get("kind") == "item")
    n_clusters = len({str(r.get("cluster")) for r in rows})
    note = Text(
        f"{n_items} item{'s' * (n_items != 1)} in {n_clusters} cluster{'s' * (n_clusters != 1)}, "
        "most influential first. Log-odds: mean contribution and its 90% interval. "
        "Δ forecast: the forecast minus the forecast without it (leave-one-out). "
        "Source (grade): Admiralty reliability A-F; cred.: information credibility "
        "1 (confirmed) to 6 (cannot be judged).",
        style="dim",
    )
    parts: list[RenderableType] = [head, line]
    if not exp.ok:
        parts.append(Text("Diagnostics of this run FAILED: the numbers are not yet reliable.",
                          style="bold red"))  # fmt: skip
    if rows:
        parts += [t, note]
    else:
        parts.append(Text("No evidence bears on this question or its drivers yet.", style="dim"))
    return Group(*parts)


# --- a question's history as a text timeline -------------------------------------------

STRIP = 21  # characters of the 0-100 % strip: one per 5 points
EVIDENCE_A_LINE = 5  # evidence ids on one line of the timeline (fits 80 columns)


def strip(prior: float, forecast: float, lo: float, hi: float, width: int = STRIP) -> str:
    """A probability strip on a fixed 0-100 % scale: ``━`` the 90 % interval,
    ``○`` the pooled prior, ``●`` the forecast (over the prior where they meet),
    ``·`` the rest; ``┊`` marks 50 % where nothing else is."""

    def at(p: float) -> int | None:
        if not math.isfinite(p):
            return None
        return round(min(max(p, 0.0), 1.0) * (width - 1))

    cells = ["·"] * width
    cells[(width - 1) // 2] = "┊"
    a, b = at(lo), at(hi)
    if a is not None and b is not None:
        for i in range(a, b + 1):
            cells[i] = "━"
    for p, mark in ((prior, "○"), (forecast, "●")):
        i = at(p)
        if i is not None:
            cells[i] = mark
    return "".join(cells)


def history_view(h: Any, width: int = 80) -> Group:
    """One question's history (:class:`forecast.history.QuestionHistory`) as a
    timeline read top to bottom, at most ``width`` columns: each recorded run
    with its pooled prior, forecast, 90 % interval, a strip drawing them on
    0-100 %, the change since the run before and, under it, what changed; the
    dates of the evidence items and of the resolutions between the runs."""
    import datetime as dt

    label = max([len(s.run_id) for s in h.steps] + [10])
    pad = " " * label
    title = shorten(h.title, max(width - len(h.question) - 2, 20))
    lines: list[Text] = [Text.assemble((h.question, "bold"), "  ", title)]
    scale = "0%".ljust((STRIP - 3) // 2) + "50%" + "100%".rjust(STRIP - (STRIP - 3) // 2 - 3)
    lines.append(Text(f"{pad} prior  fore-   90%    {scale}  change", style="dim"))
    lines.append(Text(f"{pad}        cast  interval {'':{STRIP}}  (pts)", style="dim"))
    events: list[tuple[dt.datetime, int, Text]] = []
    by_day: dict[dt.date, list[Any]] = {}
    for e in h.evidence:
        by_day.setdefault(e.date, []).append(e)
    for day, items in by_day.items():
        marks = [(f"▲ {e.id}" if e.ratio >= 1 else f"▼ {e.id}") for e in items]
        for i in range(0, len(marks), EVIDENCE_A_LINE):
            text = Text(f"{day.isoformat():<{label}}  evidence " if i == 0 else f"{pad}           ")
            for j, m in enumerate(marks[i : i + EVIDENCE_A_LINE]):
                text.append(("  " if j else "") + m, style="green" if m[0] == "▲" else "red")
            events.append((dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC), 0, text))
    previous = None
    for s in h.steps:
        delta = (
            ""
            if previous is None or not _finite(s.forecast, previous)
            else (f"{100 * (s.forecast - previous):+.1f}")
        )
        iv = interval(s.lo, s.hi) if s.kind == "run" and _finite(s.lo, s.hi) else "—"
        row = Text(f"{s.run_id:<{label}} {pct(s.prior):>5}  ")
        row.append(f"{pct(s.forecast):>4}", style="bold")
        row.append(f"  {iv:>7}  ")
        row.append(strip(s.prior, s.forecast, s.lo, s.hi), style="cyan")
        if delta:
            row.append(f"  {delta:>5}", style=_signed("", s.forecast - (previous or 0)).style)
        change = s.change_text or ("first run" if previous is None else "")
        if s.as_of is not None:
            change = f"{s.as_of} (as of)" + (f"; {change}" if change else "")
        elif not s.ok and s.kind == "run":
            change = (change + "; " if change else "") + "failed its checks"
        text = Text.assemble(row)
        if change:
            text.append("\n   " + change, style="dim")
        events.append((s.when, 1, text))
        if _finite(s.forecast):
            previous = s.forecast
    for r in h.resolutions:
        note = f" ({r.note})" if r.note else ""
        recorded = f", recorded {r.recorded[:10]}{' (forced)' if r.forced else ''}"
        text = Text(f"{r.date.isoformat():<{label}}  ")
        text.append(f"resolved {r.outcome}", style="bold")
        text.append(f"{note}{recorded}")
        events.append((dt.datetime.combine(r.date, dt.time(23, 59), tzinfo=dt.UTC), 2, text))
    lines += [t for _, _, t in sorted(events, key=lambda e: (e[0], e[1]))]
    lines.append(
        Text("━ 90 % interval  ○ pooled prior  ● forecast  ▲ evidence for  ▼ against", style="dim")
    )
    return Group(*lines)


def _finite(*xs: float | None) -> bool:
    return all(x is not None and math.isfinite(x) for x in xs)
