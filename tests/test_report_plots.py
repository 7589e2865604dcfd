"""Plots: labelled in probabilities, titled by question, robust to odd inputs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_report_helpers import report

from forecast.report import plots


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    return report(tmp_path_factory.mktemp("plots"))


def _texts(fig) -> str:
    return "\n".join(t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text")))


def test_prior_posterior_reads_in_probabilities(synthetic):
    ws, rep = synthetic
    q = ws.questions[0]
    fig = plots.prior_posterior(rep.idata, q)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Probability the outcome is yes"
    assert ax.get_xlim() == (0.0, 1.0)
    title = ax.get_title(loc="left")
    assert title == q.title and q.id not in title
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0].startswith("Prior: ") and legend[1].startswith("Forecast: ")
    assert "90%" in legend[1]
    assert plots.png(fig).startswith(b"\x89PNG")


def test_resolved_question_is_marked(synthetic):
    ws, rep = synthetic
    fig = plots.prior_posterior(rep.idata, ws.questions[2])
    assert "resolved yes" in _texts(fig)


def test_waterfall_starts_at_the_prior_and_ends_at_the_forecast(synthetic):
    ws, rep = synthetic
    q = ws.questions[0]
    fig = plots.waterfall(rep.idata, rep.contributions, q, drivers=rep.drivers)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].startswith("Prior (team): ") and labels[-1].startswith("Forecast: ")
    assert len(labels) == 2 + 3  # prior, three clusters, forecast
    assert any("via US leverage over Israel" in x for x in labels)
    assert "Log-odds" in ax.get_xlabel()
    (secondary,) = ax.child_axes
    assert secondary.get_xlabel() == "Probability of yes"
    assert q.title in fig._suptitle.get_text()
    # the bars chain: the prior's end plus every cluster's mean is where the last one ends
    bars = ax.patches
    prior_end = bars[0].get_x() + bars[0].get_width()
    steps = sum(b.get_width() for b in bars[1:-1])
    means = rep.contributions[rep.contributions["question"] == q.id]["mean"].sum()
    assert steps == pytest.approx(means)
    assert bars[1].get_x() == pytest.approx(prior_end)


def test_waterfall_sums_the_tail_into_one_bar(synthetic):
    ws, rep = synthetic
    fig = plots.waterfall(rep.idata, rep.contributions, ws.questions[0], top=1)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[2] == "2 other clusters (sum)"


def test_joint_and_diagnostics(synthetic):
    ws, rep = synthetic
    view = rep.joints[0]
    fig = plots.joint(rep.idata, view.a, view.b, view.joint, driver=view.driver)
    text = _texts(fig)
    assert "Both:" in text and "P(A | B)" in text and "US leverage over Israel" in text
    assert fig.axes[0].get_xlabel().startswith("A: Israel publicly")
    fig = plots.diagnostics(rep.idata, ws.questions)
    titled = [a.get_title(loc="left") for a in fig.axes if a.get_visible()]
    assert len(titled) == len(ws.questions) and titled[0].startswith("Israel publicly")


def test_dollar_signs_and_constant_draws_do_not_break_plots(synthetic):
    ws, rep = synthetic
    q = dataclasses.replace(ws.questions[0], title="A $3.8bn package $ is announced")
    idata = rep.idata.copy()
    idata.posterior["prob_prior"] = idata.posterior["prob_prior"] * 0 + 0.3
    fig = plots.prior_posterior(idata, q)
    plots.png(fig)
    fig = plots.waterfall(idata, rep.contributions, q)
    plots.png(fig)
    assert np.isfinite(fig.axes[0].get_xlim()).all()


def test_ranks_average_ties_as_rank_plots_need():
    draws = np.array([[0.3, 0.1, 0.3], [0.2, 0.9, 0.3]])
    # sorted: 0.1 (1), 0.2 (2), 0.3 x3 (ranks 3, 4, 5: average 4), 0.9 (6)
    assert plots.ranks(draws).tolist() == [[4.0, 1.0, 4.0], [2.0, 6.0, 4.0]]


def test_rank_bars_are_each_chains_rank_histogram():
    """Chain 0 holds the 500 lowest draws, chain 1 the 500 highest: all of chain
    0's density sits in the lower half of the bins, chain 1's in the upper."""
    from matplotlib.figure import Figure

    draws = np.arange(1000.0).reshape(2, 500)
    ax = Figure().subplots()
    plots.rank_bars(ax, draws)
    bins = int(np.ceil(2 * np.log2(500)) + 1)  # twice Sturges' number: 19
    bars = ax.patches
    assert len(bars) == 2 * bins
    gap = 2 / 1000
    heights = np.array([b.get_height() for b in bars]).reshape(2, bins)
    width = 1000 / bins
    lower = np.array([b.get_x() + b.get_width() / 2 for b in bars[:bins]]) < 500
    # a density over the ranks: each chain's bars integrate to 1
    assert heights.sum(axis=1) * width == pytest.approx([1.0, 1.0])
    assert heights[0][~lower].sum() < heights[0][lower].sum() / 10
    assert heights[1][lower].sum() < heights[1][~lower].sum() / 10
    assert [b.get_y() for b in (bars[0], bars[bins])] == pytest.approx([0, gap])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1"]
