"""A small synthetic run for the report tests: no sampling, numbers built by hand.

Three questions, one driver shared by the first two, seven evidence items in
six clusters (one cluster corroborated by two items), and a title and a
summary carrying markup that every view must show as text.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from forecast.posterior import Joint
from forecast.workspace import (
    Analyst,
    Driver,
    EvidenceItem,
    Question,
    Resolution,
    Settings,
    Source,
    Workspace,
)

XSS = "<script>alert(1)</script>"
CHAINS, DRAWS = 4, 250


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def workspace(root: Path) -> Workspace:
    questions = (
        Question(
            "lebanon-withdrawal",
            "Israel publicly commits to an initial withdrawal from southern Lebanon by 31 Oct 2026",
            resolution_criteria="An official Israeli statement naming a date or phase.",
            close_date=dt.date(2026, 10, 31),
            drivers=MappingProxyType({"us-leverage": 1.0}),
        ),
        Question(
            "iran-mou",
            "The US-Iran MoU is still in force on 31 Dec 2026",
            resolution_criteria="Neither party has declared the MoU void.",
            close_date=dt.date(2026, 12, 31),
            drivers=MappingProxyType({"us-leverage": 0.8}),
        ),
        Question(
            "aid-package",
            f'A new US aid package {XSS} & "more" is announced',
            resolution_criteria=f"Criteria with markup {XSS}",
            close_date=dt.date(2026, 9, 30),
            resolution=Resolution("yes", dt.date(2026, 7, 20)),
        ),
    )
    sources = (
        Source("reuters", "Reuters", grade="B"),
        Source("idf", "IDF spokesperson", grade="C"),
        Source("blog", "Anonymous blog", grade="E"),
    )

    def item(i, bears_on, source, strength, ratio, cred, cluster, summary):
        return EvidenceItem(
            id=f"e{i}",
            date=dt.date(2026, 7, i),
            bears_on=bears_on,
            source=source,
            strength=strength,
            ratio=ratio,
            credibility=cred,
            cluster=cluster,
            summary=summary,
            citation="https://example.org/a",
            path="evidence/items.csv",
            line=i + 1,
        )

    evidence = (
        item(1, "lebanon-withdrawal", "reuters", "strong-for", 10, 2, "c1",
             "US envoy says a phased pullback is agreed in principle"),
        item(2, "lebanon-withdrawal", "idf", "moderate-for", 4, 3, "c1",
             "IDF briefs reporters on a phased pullback plan"),
        item(3, "lebanon-withdrawal", "blog", "moderate-against", 0.25, 4, "e3",
             "Blog claims cabinet hardliners will veto any pullback"),
        item(4, "us-leverage", "reuters", "strong-for", 10, 2, "e4",
             "White House ties the next aid tranche to progress on Lebanon"),
        item(5, "iran-mou", "reuters", "weak-against", 0.5, 3, "e5",
             "Tehran accuses Washington of violating the MoU"),
        item(6, "aid-package", "idf", "moderate-for", 4, 2, "e6",
             "Defence ministry expects an announcement after the summit"),
        item(7, "aid-package", "blog", "weak-for", 2, 6, "e7", XSS),
    )  # fmt: skip
    return Workspace(
        root=root,
        questions=questions,
        drivers=(Driver("us-leverage", "US leverage over Israel"),),
        analysts=(Analyst("alice", "priors/alice.yaml"),),
        sources=sources,
        evidence=evidence,
        settings=Settings(draws=DRAWS, chains=CHAINS),
    )


# cluster -> (bears on, mean log-ratio weight, sd, items)
CLUSTERS = {
    "c1": ("lebanon-withdrawal", 1.1, 0.35, ["e1", "e2"]),
    "e3": ("lebanon-withdrawal", -0.3, 0.25, ["e3"]),
    "e4": ("us-leverage", 0.9, 0.3, ["e4"]),
    "e5": ("iran-mou", -0.25, 0.2, ["e5"]),
    "e6": ("aid-package", 0.8, 0.3, ["e6"]),
    "e7": ("aid-package", 0.2, 0.2, ["e7"]),
}
PRIOR_MEAN = {"lebanon-withdrawal": -0.9, "iran-mou": 0.6, "aid-package": 0.2}


def run(ws: Workspace, seed: int = 1, bad_chain: bool = False):
    """(idata, manifest, forecasts, contributions, joints) for ``ws``."""
    import arviz as az

    rng = np.random.default_rng(seed)
    qids = [q.id for q in ws.questions]
    loading = {q.id: dict(q.drivers) for q in ws.questions}
    shape = (CHAINS, DRAWS)
    theta_prior = np.stack([rng.normal(PRIOR_MEAN[q], 0.7, shape) for q in qids], axis=-1)
    w = {c: rng.normal(m, sd, shape) for c, (_, m, sd, _) in CLUSTERS.items()}
    z_prior = rng.normal(0.0, 0.5, shape)
    z = z_prior + w["e4"]
    theta = theta_prior.copy()
    reach = []  # (question, cluster, via, loading)
    for c, (target, *_rest) in CLUSTERS.items():
        for j, q in enumerate(qids):
            if target == q:
                theta[..., j] += w[c]
                reach.append((q, c, "", 1.0))
            elif target in loading[q]:
                theta[..., j] += loading[q][target] * w[c]
                reach.append((q, c, target, loading[q][target]))
    for j, q in enumerate(qids):
        b = loading[q].get("us-leverage", 0.0)
        theta_prior[..., j] += b * z_prior
        theta[..., j] += b * z_prior
    if bad_chain:
        theta[0] += 2.0
    prob = sigmoid(theta)
    prob_prior = sigmoid(theta_prior)
    idata = az.from_dict(
        posterior={
            "theta": theta,
            "prob": prob,
            "theta_prior": theta_prior,
            "prob_prior": prob_prior,
            "z": z[..., None],
            "z_prior": z_prior[..., None],
            "w": np.stack([w[c] for c in CLUSTERS], axis=-1),
        },
        coords={"question": qids, "driver": ["us-leverage"], "cluster": list(CLUSTERS)},
        dims={
            "theta": ["question"],
            "prob": ["question"],
            "theta_prior": ["question"],
            "prob_prior": ["question"],
            "z": ["driver"],
            "z_prior": ["driver"],
            "w": ["cluster"],
        },  # fmt: skip
    )
    rhat = az.rhat(idata, var_names=["prob"])["prob"]
    ess_b = az.ess(idata, var_names=["prob"], method="bulk")["prob"]
    ess_t = az.ess(idata, var_names=["prob"], method="tail")["prob"]
    summary = {e.id: e.summary for e in ws.evidence}
    src = {e.id: e.source for e in ws.evidence}
    outcome = {q.id: (q.resolution.outcome if q.resolution else "") for q in ws.questions}
    forecasts = pd.DataFrame(
        [
            {
                "id": q.id,
                "title": q.title,
                "prior": float(prob_prior[..., j].mean()),
                "posterior": float(prob[..., j].mean()),
                "lo": float(np.quantile(prob[..., j], 0.05)),
                "hi": float(np.quantile(prob[..., j], 0.95)),
                "change_from_prior": float(prob[..., j].mean() - prob_prior[..., j].mean()),
                "rhat": float(rhat.sel(question=q.id)),
                "ess_bulk": float(ess_b.sel(question=q.id)),
                "ess_tail": float(ess_t.sel(question=q.id)),
                "outcome": outcome[q.id],
            }
            for j, q in enumerate(ws.questions)
        ]
    )
    rows = []
    for q, c, via, load in reach:
        j = qids.index(q)
        contrib = load * w[c]
        without = sigmoid(theta[..., j] - contrib).mean()
        items = CLUSTERS[c][3]
        rows.append(
            {
                "question": q,
                "cluster": c,
                "items": ", ".join(items),
                "via": via,
                "loading": load,
                "mean": float(contrib.mean()),
                "lo": float(np.quantile(contrib, 0.05)),
                "hi": float(np.quantile(contrib, 0.95)),
                "prob_without": float(without),
                "prob_shift": float(prob[..., j].mean() - without),
                "summary": summary[items[0]],
                "source": ", ".join(dict.fromkeys(src[i] for i in items)),
            }
        )
    contributions = pd.DataFrame(rows)
    contributions = (
        contributions.assign(_k=contributions["mean"].abs())
        .sort_values(["question", "_k"], ascending=[True, False])
        .drop(columns="_k")
        .reset_index(drop=True)
    )
    pa, pb = prob[..., 0], prob[..., 1]
    p_ab = float((pa * pb).mean())
    joints = [
        Joint(
            a=qids[0],
            b=qids[1],
            p_a=float(pa.mean()),
            p_b=float(pb.mean()),
            p_ab=p_ab,
            p_a_given_b=p_ab / float(pb.mean()),
            p_b_given_a=p_ab / float(pa.mean()),
            independent=float(pa.mean() * pb.mean()),
        )  # fmt: skip
    ]
    ok = not bad_chain
    manifest = {
        "run_id": "20260712T090000Z-abc123" if ok else "20260712T100000Z-bad999",
        "created": "2026-07-12T09:00:00Z",
        "seed": 20260707,
        "settings": {"draws": DRAWS, "chains": CHAINS, "tune": 500, "pooling": "hierarchical"},
        "versions": {"forecast": "0.1.0", "pymc": "5.28.0", "arviz": "0.23.4"},
        "input_hash": "f" * 64,
        "files": {"priors/questions.yaml": "0" * 64},
        "diagnostics": {
            "method": "nuts",
            "divergences": 0 if ok else 12,
            "max_rhat": float(rhat.max()),
            "min_ess_bulk": float(ess_b.min()),
            "min_ess_tail": float(ess_t.min()),
            "ok": ok,
            "problems": []
            if ok
            else [
                f"12 divergences {XSS}: raise target_accept in forecast.toml to 0.95",
                "R-hat above 1.01: run more tuning steps (tune = 2000)",
            ],
        },
        "forecasts": [
            {k: r[k] for k in ("id", "prior", "posterior", "lo", "hi")}
            for r in forecasts.to_dict("records")
        ],
    }
    return idata, manifest, forecasts, contributions, joints


def explain_frame(ws: Workspace, contributions: pd.DataFrame, qid: str) -> pd.DataFrame:
    """An explain table as forecast.posterior.explain documents it."""
    sources = {s.id: s for s in ws.sources}
    items = {e.id: e for e in ws.evidence}
    rows = []
    for r in contributions[contributions["question"] == qid].to_dict("records"):
        members = r["items"].split(", ")
        if len(members) > 1:
            rows.append(
                {
                    "kind": "cluster",
                    "id": r["cluster"],
                    "cluster": r["cluster"],
                    "via": r["via"],
                    "source": r["source"],
                    "grade": "",
                    "credibility": "",
                    "strength": "",
                    "summary": r["summary"],
                    "mean": r["mean"],
                    "lo": r["lo"],
                    "hi": r["hi"],
                    "prob_shift": r["prob_shift"],
                    "prob_without": r["prob_without"],
                }  # fmt: skip
            )
        for k, i in enumerate(members):
            e = items[i]
            share = 1.0 if len(members) == 1 else (0.7 if k == 0 else 0.3)
            rows.append(
                {
                    "kind": "item",
                    "id": i,
                    "cluster": r["cluster"],
                    "via": r["via"],
                    "source": e.source,
                    "grade": sources[e.source].grade,
                    "credibility": e.credibility,
                    "strength": e.strength,
                    "summary": e.summary,
                    "mean": r["mean"] * share,
                    "lo": r["lo"] * share,
                    "hi": r["hi"] * share,
                    "prob_shift": r["prob_shift"] * share,
                    "prob_without": r["prob_without"],
                }  # fmt: skip
            )
    df = pd.DataFrame(rows)
    return (
        df.assign(_k=df["prob_shift"].abs()).sort_values("_k", ascending=False).drop(columns="_k")
    )


def track_of(ws: Workspace, root: Path):
    """The track record of ``ws`` after two recorded runs (made while its resolved
    question was still open), from a ledger under ``root``."""
    from forecast.asof import as_of
    from forecast.ledger import RunRow, open_ledger
    from forecast.report.track import build_track_record

    with open_ledger(root) as led:
        for run_id, day, shift in (("r1", 5, 0.0), ("r2", 12, 0.05)):
            seen = as_of(ws, dt.date(2026, 7, day))
            row = RunRow(
                run_id=run_id, created=f"2026-07-{day:02d}T09:00:00+00:00", kind="run",
                input_hash="h", run_key="k", git_commit=None, git_dirty=None,
                settings={}, diagnostics={"ok": True}, files={}, as_of=None,
            )  # fmt: skip
            forecasts = {
                q.id: {"prior": 0.4, "posterior": 0.5 + shift, "lo": 0.2, "hi": 0.8 + shift}
                for q in seen.questions
            }
            led.record(seen, row, forecasts)
        return build_track_record(ws, led)


def report(root: Path, *, bad: bool = False, previous: bool = True, track: bool = False):
    """A full synthetic :class:`~forecast.report.tables.Report`; with ``track``, with
    a track record (two runs, one question resolved after them)."""
    from forecast.report.tables import JointView, assemble_report

    ws = workspace(root)
    idata, manifest, forecasts, contributions, joints = run(ws, bad_chain=bad)
    prev = None
    if previous:
        prev = {
            "run_id": "20260711T090000Z-prev01",
            "forecasts": [
                {"id": r["id"], "posterior": r["posterior"] - d}
                for r, d in zip(forecasts.to_dict("records"), (0.08, -0.03, 0.0), strict=True)
            ],
        }
    q = {x.id: x for x in ws.questions}
    views = [JointView(q[j.a], q[j.b], "US leverage over Israel", j) for j in joints]
    return ws, assemble_report(
        workspace="summit-2026",
        manifest=manifest,
        questions=ws.questions,
        forecasts=forecasts,
        contributions=contributions,
        joints=views,
        previous_manifest=prev,
        drivers={d.id: d.title for d in ws.drivers},
        idata=idata,
        track=track_of(ws, root) if track else None,
    )


# --- the shipped workspace, copied and sampled small, once per test session ---
REPO = Path(__file__).resolve().parents[1]
SMALL = {"FORECAST_DRAWS": "60", "FORECAST_CHAINS": "2", "FORECAST_TUNE": "100"}
_COPIES: dict[str, Path] = {}


def shipped_copy(tmp_path_factory, *, xss: bool = True) -> Path:
    """A copy of the repository's workspace with small sampler settings.

    With ``xss`` the first evidence summary becomes markup, which every
    report must show as text. The copy is made once per session; its stored
    run is sampled by the first command run on it and reused after.
    """
    key = f"xss={xss}"
    if key in _COPIES:
        return _COPIES[key]
    import shutil

    root = tmp_path_factory.mktemp("shipped") / "ws"
    root.mkdir()
    for name in ("priors", "evidence"):
        shutil.copytree(REPO / name, root / name)
    toml = (REPO / "forecast.toml").read_text(encoding="utf-8")
    toml = "\n".join(
        line
        for line in toml.splitlines()
        if not line.strip().startswith(("draws", "chains", "tune"))
    )
    toml = toml.replace("[sampler]", "[sampler]\ndraws = 60\nchains = 2\ntune = 100")
    if "[sampler]" not in toml:
        toml += "\n[sampler]\ndraws = 60\nchains = 2\ntune = 100\n"
    (root / "forecast.toml").write_text(toml + "\n", encoding="utf-8")
    if xss:
        path = next(p for p in sorted((root / "evidence").glob("*.csv")) if p.name != "sources.csv")
        lines = path.read_text(encoding="utf-8").splitlines()
        import csv
        import io

        rows = list(csv.reader(io.StringIO("\n".join(lines))))
        col = rows[0].index("summary")
        rows[1][col] = f"{XSS} & a summary with markup"
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        path.write_text(buf.getvalue(), encoding="utf-8")
        import re

        qfile = root / "priors" / "questions.yaml"
        text = qfile.read_text(encoding="utf-8")
        text, n = re.subn(
            r"^(\s+title: )(.+)$",
            lambda m: f'{m.group(1)}"{XSS} {m.group(2).strip(chr(34))}"',
            text,
            count=1,
            flags=re.M,
        )
        assert n == 1, "the first question's title was not found"
        qfile.write_text(text, encoding="utf-8")
    _COPIES[key] = root
    return root
