"""Every figure of a report, rendered once as PNG and named by its file path.

The HTML page embeds the bytes, the Markdown page links the files; both look
them up by the same relative path (``plots/prior-<question>.png`` ...).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from forecast.report.tables import Report

DIAGNOSTICS = "plots/diagnostics.png"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "x"


def prior_path(qid: str) -> str:
    return f"plots/prior-{_slug(qid)}.png"


def waterfall_path(qid: str) -> str:
    return f"plots/waterfall-{_slug(qid)}.png"


def joint_path(a: str, b: str) -> str:
    return f"plots/joint-{_slug(a)}--{_slug(b)}.png"


def render(report: Report, dpi: int = 120) -> dict[str, bytes]:
    """PNG bytes of every figure the report shows, keyed by relative path.

    The track record's figures (:meth:`forecast.report.track.TrackRecord.figures`:
    the reliability diagram, each question's timeline) come with them when the
    report carries one. Nothing else when it carries no trace
    (``report.idata`` is None).
    """
    out: dict[str, bytes] = report.track.figures(dpi) if report.track is not None else {}
    if report.idata is None:
        return out
    from forecast.report import plots  # figures are drawn without pyplot: no backend needed

    idata = report.idata
    short = {d: report.driver_name(d) for d in report.drivers}
    for q in report.questions:
        if q.id not in idata.posterior["prob"].coords["question"].values:
            continue
        out[prior_path(q.id)] = plots.png(plots.prior_posterior(idata, q), dpi)
        if report.contributions_for(q.id).empty:
            continue  # no evidence: a waterfall would only repeat the prior
        out[waterfall_path(q.id)] = plots.png(
            plots.waterfall(idata, report.contributions, q, drivers=short), dpi
        )
    for j in report.joints:
        out[joint_path(j.a.id, j.b.id)] = plots.png(
            plots.joint(idata, j.a, j.b, j.joint, driver=j.driver), dpi
        )
    chains = idata.posterior.sizes.get("chain", 1)
    if chains > 1:  # rank plots compare chains; one chain has nothing to compare
        out[DIAGNOSTICS] = plots.png(plots.diagnostics(idata, report.questions), dpi)
    return out
