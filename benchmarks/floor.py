"""The numpy floor: a plain Monte Carlo of the model's forecasts, nothing else.

    python benchmarks/floor.py WORKSPACE

Reads the workspace, draws every free variable of the model from its prior
with one vectorised NumPy generator (no outcome conditioning, no per-entity
streams, no trace, no report) and prints the mean forecast of each
question. What `forecast run` does beyond this is the price of its
exactness, diagnostics and storage; `benchmarks/run.py` times both.
"""

from __future__ import annotations

import sys

import numpy as np

from forecast.forward import TEAM, deterministics, free_entities, prior_draws
from forecast.model import model_data
from forecast.workspace import load_workspace


def floor(root: str) -> dict[str, float]:
    ws = load_workspace(root)
    d = model_data(ws)
    s = ws.settings
    rng = np.random.default_rng(s.seed)
    shape = (s.chains, s.draws)
    free = {}
    for name, keys in free_entities(d).items():
        values = prior_draws(d, name, keys, rng, shape[0] * shape[1]).reshape(shape + (len(keys),))
        free[name] = values[..., 0] if name in TEAM else values
    prob = deterministics(d, free)["prob"]
    return dict(zip(d.questions, prob.mean(axis=(0, 1)).tolist(), strict=True))


if __name__ == "__main__":
    for q, p in floor(sys.argv[1] if len(sys.argv) > 1 else ".").items():
        print(f"{q}\t{p:.4f}")
