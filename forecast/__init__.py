"""forecast: Bayesian forecasting of diplomatic summit outcomes.

Analysts state priors on binary questions, forecasters code evidence, and a
PyMC model combines the two into posterior probabilities.
"""

import os as _os

# Forked sampler chains crawl when each one spins up a full BLAS thread pool;
# this must be set before numpy is first imported, so it lives here.
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
