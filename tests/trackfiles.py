"""A small workspace for track-record tests: direct pooling, nothing observed,
so a run is exact forward draws (fast, no NUTS)."""

from __future__ import annotations

TRACK_FILES: dict[str, str] = {
    "priors/questions.yaml": """\
# Questions of a small test case.
questions:
  - id: deal
    title: A deal is signed
    resolution_criteria: Both sides sign.   # signed, not initialled
    close_date: 2026-09-30

  # the visit question
  - id: visit
    title: A visit happens
    resolution_criteria: The president lands.
    close_date: 2026-08-31
  - id: strike
    title: A strike happens
    resolution_criteria: Either side strikes.
    close_date: 2026-12-31
""",
    "priors/ana.yaml": """\
analyst: Ana
priors:
  deal: {p: 0.3, lo: 0.1, hi: 0.6}
  visit: {p: 0.5, lo: 0.3, hi: 0.7}
  strike: {p: 0.2, lo: 0.1, hi: 0.4}
""",
    "evidence/sources.csv": "id,name,reliability\nwire,A wire service,1\n",
    "evidence/items.csv": (
        "id,date,bears_on,source,strength,credibility,cluster,summary,citation\n"
        "E001,2026-07-04,deal,wire,3,1,,Talks resumed.,Wire 2026-07-04\n"
        "E002,2026-07-06,visit,wire,1/2,1,,Visit postponed.,Wire 2026-07-06\n"
    ),
    "forecast.toml": """\
[model]
pooling = "direct"
coding_sd = 0
[sampler]
draws = 500
chains = 2
seed = 5
""",
}
