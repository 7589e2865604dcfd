"""Shared fixtures: small workspaces written into ``tmp_path``."""

from __future__ import annotations

from pathlib import Path

import pytest

# A small valid workspace using every file and every statement form. Line
# numbers matter: tests name them (see tests/test_validate.py).
MINIMAL_FILES: dict[str, str] = {
    "priors/questions.yaml": """\
questions:
  - id: lebanon-withdrawal
    title: Israel commits to an initial withdrawal from southern Lebanon
    resolution_criteria: An official Israeli statement announcing a withdrawal.
    close_date: 2026-10-31
    drivers: {us-leverage: 0.8, regional-escalation: -0.5}
  - id: mou-survives
    title: The US-Iran MoU is still in force on 31 Dec 2026
    resolution_criteria: Neither side has withdrawn from the MoU.
    close_date: "2026-12-31"
    resolution: {outcome: yes, date: 2026-10-02, note: "Both confirmed"}
drivers:
  - id: us-leverage
    title: US leverage over Israel
  - id: regional-escalation
    title: Regional escalation
""",
    "priors/dana-levi.yaml": """\
analyst: Dana Levi
priors:
  lebanon-withdrawal: {p: 0.35, lo: 0.15, hi: 0.60, level: 0.8}
  mou-survives: {beta: [6, 4]}
  us-leverage: likely
  regional-escalation: {estimate: highly improbable, confidence: high}
""",
    "priors/omar.yaml": """\
priors:
  lebanon-withdrawal: {p: 0.6, confidence: low}
""",
    "evidence/sources.csv": """\
id,name,reliability,verified,refuted
wh,White House,B,3,1
reuters,"Reuters, wire",a,,
poll,Opinion poll,0.75,,
""",
    "evidence/summit.csv": """\
id,date,bears_on,source,strength,credibility,cluster,summary,citation
E001,2026-07-05,lebanon-withdrawal,wh,moderate-for,2,,White House pressed.,"Flores, 5 July"
E002,2026-07-04,lebanon-withdrawal,reuters,1/4,1,north,Israel rejects a pull-back.,Reuters
E003,2026-07-05,lebanon-withdrawal,poll,0.25,3,north,Cabinet calls it a risk.,Poll
E004,2026-07-06,us-leverage,wh,3,2,,An arms pause is floated.,Axios
""",
    "forecast.toml": """\
[model]
pooling = "direct"
coding_sd = 0.5
[sampler]
draws = 200
chains = 2
[codebook.strengths]
weak = 2.5
""",
}


def write_workspace(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (relative path -> text or bytes) under ``root``."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))
    return root


@pytest.fixture
def minimal_workspace(tmp_path: Path) -> Path:
    """A small valid workspace: 2 questions, 2 drivers, 2 analysts, 3 sources, 4 items."""
    return write_workspace(tmp_path / "ws", MINIMAL_FILES)
