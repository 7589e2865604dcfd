"""Plots of a run, readable at a glance: probabilities on the axes, titles not ids.

Every function returns a ``matplotlib.figure.Figure`` built without pyplot
(so nothing depends on a display or a global backend); :func:`png` turns one
into PNG bytes. In a notebook a returned figure shows itself.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from forecast.posterior import INTERVAL

if TYPE_CHECKING:
    import arviz as az
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from forecast.posterior import Joint
    from forecast.workspace import Question

# A quiet palette that survives greyscale printing and colour-blindness.
PRIOR = "#8c96a3"
POSTERIOR = "#1f5f99"
FOR = "#2e8b57"
AGAINST = "#c0392b"
INK = "#1d2430"
MUTED = "#5b6573"
GRID = "#e3e7ec"
PROB_TICKS = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig


def _style(ax: Axes) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(MUTED)
    ax.tick_params(colors=INK, labelsize=9)
    ax.grid(True, color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)


def png(fig: Figure, dpi: int = 120, colors: int = 128) -> bytes:
    """The figure as PNG bytes on white, in a palette of ``colors`` (0: full colour).

    The plots use a few flat colours and antialiased edges: a palette of 128
    keeps them indistinguishable from full colour at a third of the size.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    fig.set_dpi(dpi)
    fig.set_facecolor("white")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    image = image.convert("RGB")
    if colors:
        image = image.quantize(colors=colors, method=Image.Quantize.FASTOCTREE)
        palette = image.getpalette() or []  # the background stays pure white, not 254
        image.putpalette([255 if min(palette[i - i % 3 : i - i % 3 + 3]) >= 250 else v
                          for i, v in enumerate(palette)])  # fmt: skip
    buf = io.BytesIO()
    image.save(buf, format="PNG", dpi=(dpi, dpi))
    return buf.getvalue()


def _plain(text: str) -> str:
    """User text as matplotlib shows it literally: a '$' would start mathtext."""
    return text.replace("$", r"\$")


def wrap(text: str, width: int = 70, lines: int = 3) -> str:
    """User text wrapped to ``width`` columns (at most ``lines``), safe for matplotlib."""
    text = " ".join(str(text).split())
    rows = textwrap.wrap(text, width) or [text]
    if len(rows) > lines:
        rows = rows[:lines]
        rows[-1] = rows[-1][: width - 1].rstrip() + "…"
    return _plain("\n".join(rows))


def short(text: str, width: int) -> str:
    """User text cut to ``width`` characters, safe to hand to matplotlib."""
    text = " ".join(str(text).split())
    if len(text) > width:  # cut at a word when one ends late enough
        cut = text[: width - 1]
        word = cut.rsplit(" ", 1)[0]
        text = (word if len(word) > width * 0.6 else cut).rstrip(",;:. ") + "…"
    return _plain(text)


def _draws(idata: az.InferenceData, var: str, **sel: str) -> np.ndarray:
    return np.asarray(idata.posterior[var].sel(**sel).values, dtype=float).ravel()


def _sigmoid(x: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def _logit(p: Any) -> Any:
    p = np.clip(np.asarray(p, dtype=float), 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def _hdi_free_interval(x: np.ndarray) -> tuple[float, float]:
    a = (1 - INTERVAL) / 2
    return float(np.quantile(x, a)), float(np.quantile(x, 1 - a))


def _density(x: np.ndarray, points: int = 400) -> tuple[np.ndarray, np.ndarray] | None:
    """Gaussian KDE on [0, 1], reflected at both ends so no mass leaks past them.

    Binned on the plotting grid and convolved with the kernel (exact to a
    fraction of a grid step, and as fast for any number of draws). None when
    the draws do not vary (a fixed probability is drawn as a line).
    """
    x = x[np.isfinite(x)]
    if x.size < 2 or np.ptp(x) < 1e-9:
        return None
    sd = min(np.std(x), (np.quantile(x, 0.75) - np.quantile(x, 0.25)) / 1.34) or np.std(x)
    bw = max(0.9 * sd * min(x.size, 4000) ** (-0.2), 1e-3)
    grid = np.linspace(0.0, 1.0, points)
    step = grid[1]
    edges = np.linspace(-step / 2, 1 + step / 2, points + 1)
    counts = np.histogram(np.clip(x, 0.0, 1.0), edges)[0].astype(float)
    # mirrored at 0 and at 1: count i sits at i * step, its mirrors at -i * step and 2 - i * step
    mirrored = np.concatenate([counts[:0:-1], counts, counts[-2::-1]])
    half = int(np.ceil(4 * bw / step))
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) * step / bw) ** 2)
    smooth = np.convolve(mirrored, kernel)[half + points - 1 : half + 2 * points - 1]
    return grid, smooth / (x.size * bw * math.sqrt(2 * math.pi))


def _percent_axis(ax: Axes, axis: str = "x") -> None:
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    fmt = FuncFormatter(lambda v, _: f"{v * 100:.0f}%")
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_formatter(fmt)
    target.set_major_locator(MultipleLocator(0.1))


# --- prior vs posterior -----------------------------------------------------
def prior_posterior(
    idata: az.InferenceData, question: Question, *, ax: Axes | None = None
) -> Figure:
    """Density of the question's probability before and after the evidence.

    Shaded bands under the curves mark each 90 % interval; the legend gives
    the means. A resolved question shows its outcome as a marker.
    """
    fig = ax.figure if ax is not None else _figure(8.4, 3.1)
    ax = ax if ax is not None else fig.add_subplot()
    _style(ax)
    top = 0.0
    series = []
    if "prob_prior" in idata.posterior:
        series.append(("Prior", _draws(idata, "prob_prior", question=question.id), PRIOR))
    series.append(("Forecast", _draws(idata, "prob", question=question.id), POSTERIOR))
    curves = []
    for name, x, colour in series:
        mean = float(np.mean(x))
        lo, hi = _hdi_free_interval(x)
        label = f"{name}: {mean * 100:.0f}%  (90%: {lo * 100:.0f}–{hi * 100:.0f}%)"
        dens = _density(x)
        if dens is None:
            ax.axvline(mean, color=colour, lw=2.2, label=label)
            continue
        grid, pdf = dens
        top = max(top, float(pdf.max()))
        curves.append((grid, pdf, colour, mean, lo, hi, label, name))
    for grid, pdf, colour, mean, lo, hi, label, name in curves:
        inside = (grid >= lo) & (grid <= hi)
        alpha = 0.18 if name == "Prior" else 0.28
        ax.fill_between(grid, pdf, where=inside, color=colour, alpha=alpha, lw=0)
        ax.plot(grid, pdf, color=colour, lw=2.0 if name == "Forecast" else 1.6, label=label,
                ls="-" if name == "Forecast" else "--")  # fmt: skip
        ax.vlines(mean, 0, np.interp(mean, grid, pdf), color=colour, lw=1.2, ls=":")
    if question.resolution is not None and question.resolution.outcome in ("yes", "no"):
        x = 1.0 if question.resolution.outcome == "yes" else 0.0
        ax.axvline(x, color=INK, lw=1.5)
        ax.annotate(
            f"resolved {question.resolution.outcome}", (x, 1),
            xycoords=("data", "axes fraction"), ha="right" if x else "left", va="top",
            fontsize=8, color=INK, xytext=(-4 if x else 4, -2), textcoords="offset points",
        )  # fmt: skip
    ax.set_xlim(0, 1)
    ax.set_ylim(0, top * 1.12 if top > 0 else 1)
    _percent_axis(ax)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.set_xlabel("Probability the outcome is yes", fontsize=9, color=INK)
    ax.set_ylabel("Belief (density)", fontsize=9, color=MUTED)
    ax.set_title(wrap(question.title, 90), fontsize=10.5, color=INK, loc="left")
    ax.legend(frameon=False, fontsize=8.5, loc="upper left", handlelength=2.2)
    return fig


# --- evidence waterfall -----------------------------------------------------
def waterfall(
    idata: az.InferenceData,
    contributions: pd.DataFrame,
    question: Question,
    *,
    top: int = 10,
    drivers: Mapping[str, str] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Evidence waterfall on the log-odds scale, probabilities on the top axis.

    The first bar is the team's prior; each following bar is one evidence
    cluster's mean contribution, with its 90 % interval as a whisker, starting
    where the previous one ended; the last bar is the forecast. Clusters past
    the ``top`` most influential are summed into one bar. ``drivers`` maps
    driver ids to titles, for clusters that reach the question through one.
    """
    df = contributions[contributions["question"] == question.id].copy()
    df = df.assign(_k=df["mean"].abs()).sort_values("_k", ascending=False)
    shown, rest = df.iloc[:top], df.iloc[top:]

    theta = _draws(idata, "theta", question=question.id)
    if "theta_prior" in idata.posterior:
        prior = _draws(idata, "theta_prior", question=question.id)
    else:
        prior = _logit(_draws(idata, "prob_prior", question=question.id))
    p_lo, p_hi = _hdi_free_interval(prior)
    t_lo, t_hi = _hdi_free_interval(theta)

    if "prob_prior" in idata.posterior:
        p_prior = float(_draws(idata, "prob_prior", question=question.id).mean())
    else:
        p_prior = float(_sigmoid(prior).mean())
    names = drivers or {}
    labels = [f"Prior (team): {p_prior * 100:.0f}%"]
    bars = [(0.0, float(prior.mean()), p_lo, p_hi, PRIOR)]
    level = float(prior.mean())
    for r in shown.to_dict("records"):
        mean = float(r["mean"])
        who = str(r.get("items") or r.get("cluster") or "")
        what = str(r.get("summary") or "")
        via = f"via {short(names.get(r['via'], r['via']), 34)}; " if r.get("via") else ""
        shift = r.get("prob_shift")
        moved = f", {points_label(shift)}" if shift is not None and math.isfinite(shift) else ""
        first = short(what, 50) if what else short(who, 50)
        labels.append(f"{first}\n({via}{short(who, 30)}{moved})")
        bars.append((level, level + mean, level + float(r["lo"]), level + float(r["hi"]),
                     FOR if mean >= 0 else AGAINST))  # fmt: skip
        level += mean
    if len(rest):
        mean = float(rest["mean"].sum())
        labels.append(f"{len(rest)} other cluster{'s' * (len(rest) != 1)} (sum)")
        bars.append((level, level + mean, math.nan, math.nan, FOR if mean >= 0 else AGAINST))
        level += mean
    labels.append(f"Forecast: {float(np.mean(_sigmoid(theta))) * 100:.0f}%")
    bars.append((0.0, float(theta.mean()), t_lo, t_hi, POSTERIOR))

    n = len(bars)
    owns = ax is None
    fig = ax.figure if ax is not None else _figure(8.4, 1.5 + 0.5 * n)
    ax = ax if ax is not None else fig.add_subplot()
    _style(ax)
    ax.grid(True, axis="x", color=GRID)
    ax.grid(False, axis="y")
    ys = np.arange(n)[::-1]
    start, end, lo, hi = (np.array([b[k] for b in bars], dtype=float) for k in range(4))
    ax.barh(ys, end - start, left=start, height=0.62, color=[b[4] for b in bars], alpha=0.9, lw=0)
    whisker = np.isfinite(lo) & np.isfinite(hi)
    if whisker.any():  # one call for every whisker: drawing is the slow part of a report
        ax.errorbar(end[whisker], ys[whisker], fmt="none", ecolor=INK, elinewidth=1.0,
                    capsize=2.5, xerr=[np.maximum(end - lo, 0)[whisker],
                                       np.maximum(hi - end, 0)[whisker]])  # fmt: skip
    if n > 2:  # connectors: each bar starts where the last one ended
        ax.vlines(start[1:-1], ys[:-2] - 0.31, ys[1:-1] + 0.31, color=MUTED, lw=0.7, ls=":")
    ax.axvline(0, color=MUTED, lw=0.9)
    ax.set_yticks(ys, labels, fontsize=8.2)
    for tick, (_, _, _, _, colour) in zip(ax.get_yticklabels(), bars, strict=True):
        tick.set_color(INK if colour in (PRIOR, POSTERIOR) else MUTED)
    ends = [v for b in bars for v in b[:4] if math.isfinite(v)]
    lim = max(3.0, max(abs(v) for v in ends) * 1.08)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlabel("Log-odds of yes (bars: mean; whiskers: 90% interval)", fontsize=9, color=INK)
    sec = ax.secondary_xaxis("top", functions=(_sigmoid, _logit))
    ticks = [p for p in PROB_TICKS if abs(_logit(p)) <= lim]
    sec.set_xticks(ticks, [f"{p * 100:g}%" for p in ticks])
    sec.tick_params(labelsize=8.5, colors=INK)
    sec.set_xlabel("Probability of yes", fontsize=9, color=INK)
    sec.spines["top"].set_color(MUTED)
    if owns:
        fig.suptitle(wrap(question.title, 100), fontsize=10.5, color=INK, x=0.01, ha="left")
    else:
        ax.set_title(wrap(question.title, 70), fontsize=10.5, color=INK, loc="left")
    return fig


def points_label(delta: float) -> str:
    return f"{delta * 100:+.1f} pts"


# --- joint forecast ---------------------------------------------------------
def joint(
    idata: az.InferenceData,
    a: Question,
    b: Question,
    joint: Joint | None = None,
    *,
    driver: str = "",
) -> Figure:
    """Joint forecast of two questions: their probabilities draw by draw, and
    the four combined outcomes with their probabilities."""
    from matplotlib.ticker import MultipleLocator

    pa = _draws(idata, "prob", question=a.id)
    pb = _draws(idata, "prob", question=b.id)
    if joint is not None:
        p_a, p_b, p_ab = joint.p_a, joint.p_b, joint.p_ab
    else:
        p_a, p_b, p_ab = float(pa.mean()), float(pb.mean()), float(np.mean(pa * pb))
    cells = np.array([[p_ab, p_a - p_ab], [p_b - p_ab, 1 - p_a - p_b + p_ab]])

    fig = _figure(8.4, 3.6)
    gs = fig.add_gridspec(1, 2, width_ratios=[1.15, 1])
    ax = fig.add_subplot(gs[0])
    _style(ax)
    rng = np.random.default_rng(0)
    idx = rng.choice(pa.size, size=min(pa.size, 1500), replace=False)
    ax.scatter(pa[idx], pb[idx], s=5, alpha=0.25, color=POSTERIOR, lw=0)
    ax.axvline(p_a, color=MUTED, lw=0.8, ls=":")
    ax.axhline(p_b, color=MUTED, lw=0.8, ls=":")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    _percent_axis(ax, "x")
    _percent_axis(ax, "y")
    ax.xaxis.set_major_locator(MultipleLocator(0.2))
    ax.yaxis.set_major_locator(MultipleLocator(0.2))
    ax.set_xlabel(wrap(f"A: {a.title}", 48, 2), fontsize=8.5, color=INK)
    ax.set_ylabel(wrap(f"B: {b.title}", 40, 2), fontsize=8.5, color=INK)
    r = float(np.corrcoef(pa, pb)[0, 1]) if np.std(pa) > 0 and np.std(pb) > 0 else math.nan
    ax.set_title(
        "Probability of each, draw by draw" + (f" (corr. {r:+.2f})" if math.isfinite(r) else ""),
        fontsize=9.5, color=INK, loc="left",
    )  # fmt: skip

    hx = fig.add_subplot(gs[1])
    hx.imshow(cells, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for (i, j), v in np.ndenumerate(cells):
        hx.text(j, i, f"{v * 100:.0f}%", ha="center", va="center", fontsize=13,
                color="white" if v > 0.55 else INK, fontweight="bold")  # fmt: skip
    hx.set_xticks([0, 1], ["B yes", "B no"], fontsize=9)
    hx.set_yticks([0, 1], ["A yes", "A no"], fontsize=9)
    hx.tick_params(length=0)
    for s in hx.spines.values():
        s.set_visible(False)
    indep = p_a * p_b
    cond = p_ab / p_b if p_b > 0 else math.nan
    hx.set_title(
        f"Both: {p_ab * 100:.0f}% (if independent {indep * 100:.0f}%)\n"
        f"P(A | B) = {cond * 100:.0f}%   vs   P(A) = {p_a * 100:.0f}%",
        fontsize=9, color=INK, loc="left",
    )  # fmt: skip
    if driver:
        fig.suptitle(f"Sharing the driver: {driver}", fontsize=10.5, color=INK, x=0.01, ha="left")
    return fig


# --- overview -------------------------------------------------------------------
def overview(forecasts: pd.DataFrame, *, width: int = 64) -> Figure:
    """Every question's forecast with its 90 % interval, and its prior, one row each.

    ``forecasts`` is the report's forecast table (``id, title, prior,
    posterior, lo, hi``); rows are sorted by forecast, highest on top, so a
    page of many questions reads at a glance.
    """
    from matplotlib.figure import Figure

    df = forecasts.sort_values("posterior", kind="stable").reset_index(drop=True)
    n = len(df)
    height = 1.1 + 0.19 * n
    fig = Figure(figsize=(8.4, height), dpi=100)  # fixed margins: a layout engine would
    fig.subplots_adjust(left=0.5, right=0.97, top=1 - 0.72 / height, bottom=0.42 / height)
    ax = fig.add_subplot()  # measure every label, slowly
    _style(ax)
    ax.grid(False, axis="y")
    y = np.arange(n)
    post, prior = df["posterior"].astype(float), df["prior"].astype(float)
    lo, hi = df["lo"].astype(float), df["hi"].astype(float)
    ax.hlines(y, lo, hi, color=POSTERIOR, alpha=0.35, lw=3.2)
    ax.scatter(prior, y, s=16, facecolors="white", edgecolors=PRIOR, lw=1.1, zorder=3,
               label="Prior (team)")  # fmt: skip
    ax.scatter(post, y, s=18, color=POSTERIOR, zorder=4, label="Forecast (bar: 90% interval)")
    labels = [f"{short(t, width)}  ({short(i, 24)})" for t, i in zip(df["title"], df["id"],
                                                                      strict=True)]  # fmt: skip
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlim(-0.015, 1.015)  # a forecast at 0 or 100 % shows whole
    _percent_axis(ax)
    ax.tick_params(axis="x", labeltop=True, top=True)
    ax.set_xlabel("Probability the outcome is yes", fontsize=9, color=INK)
    fig.legend(frameon=False, fontsize=8, loc="upper right", bbox_to_anchor=(0.97, 1.0), ncols=2)
    return fig


# --- diagnostics --------------------------------------------------------------
def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of every draw among all chains' draws, ties given their average rank."""
    flat = np.asarray(values).ravel()
    _, where, counts = np.unique(flat, return_inverse=True, return_counts=True)
    average = np.cumsum(counts) - (counts - 1) / 2
    return average[where.ravel()].reshape(np.shape(values))


def rank_bars(ax: Axes, draws: np.ndarray) -> None:
    """A rank plot of ``draws`` (chain, draw) as stacked bars, one row a chain.

    Each chain's histogram (a density) of its draws' ranks among all draws,
    in twice Sturges' number of bins, its rows a small gap apart, with a
    dashed line at the height uniform ranks would give (the layout of
    ArviZ's ``plot_rank(kind="bars")``, drawn without ArviZ).
    """
    from matplotlib import rcParams

    r = ranks(draws)
    chains, n = r.shape
    bins = int(np.ceil(2 * np.log2(n)) + 1)
    edges = np.histogram_bin_edges(r, bins=bins, range=(0, r.size))
    width, centres = edges[1] - edges[0], (edges[1:] + edges[:-1]) / 2
    gap = 2 / r.size
    colours = rcParams["axes.prop_cycle"].by_key()["color"]
    edge = ax.get_facecolor()
    for c in range(chains):
        counts, _ = np.histogram(r[c], bins=edges)
        density = counts / (counts.sum() * np.diff(edges))
        ax.bar(centres, density, bottom=c * gap, color=colours[c % len(colours)],
               align="center", width=width, edgecolor=edge)  # fmt: skip
        ax.axhline(y=c * gap + density.mean(), linestyle="--", color="k")
    ax.set_yticks([c * gap for c in range(chains)])
    ax.set_yticklabels(np.arange(chains))


def diagnostics(
    idata: Any,
    questions: Sequence[Question],
    *,
    limit: int = 8,
    rhat: Mapping[str, float] | None = None,
) -> Figure:
    """Rank plots of each question's probability, one panel a question.

    Uniform ranks in every chain mean the chains agree; a chain whose ranks
    pile up at one end has not mixed. With many questions the ``limit`` worst
    by R-hat are shown (``rhat``: question id -> R-hat, computed from the
    draws when not given).
    """
    qs = list(questions)
    prob = idata.posterior["prob"]
    if len(qs) > limit:
        if rhat is None:
            from forecast.posterior import prob_diagnostics

            ids = [str(q) for q in prob.coords["question"].values]
            rhat = dict(zip(ids, map(float, prob_diagnostics(idata)[0]), strict=True))
        worst = sorted(qs, key=lambda q: -float(rhat.get(q.id, 0.0)))
        qs = worst[:limit]
    ncols = 2 if len(qs) > 1 else 1
    nrows = math.ceil(len(qs) / ncols)
    fig = _figure(8.4, 0.4 + 2.0 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, q in zip(axes, qs, strict=False):
        draws = np.asarray(prob.sel(question=q.id).transpose("chain", "draw").values)
        rank_bars(ax, draws)
        ax.set_title(short(q.title, 58), fontsize=8.5, color=INK, loc="left")
        ax.set_xlabel("Rank of draw (all chains)", fontsize=8, color=MUTED)
        ax.set_ylabel("Chain", fontsize=8, color=MUTED)
        ax.tick_params(labelsize=7.5)
    for ax in axes[len(qs) :]:
        ax.set_visible(False)
    return fig
