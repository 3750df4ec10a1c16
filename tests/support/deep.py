"""How long the contracts' state machines run: a quick default for every test run, and a deep profile on demand.

``RWA_DEEP=1`` selects the deep profile (Morpho's habit for invariant tests): about 1,000 runs, every run from the
same chain snapshot; ``RWA_DEEP_RUNS=N`` sets another number of runs (a shorter soak, or a longer one). Hypothesis
draws each run's length up to its step count, so the deep profile allows 50 steps for most runs to reach 30 or
more. Without it the machines keep the handful of runs that fits the ordinary suite.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

DEEP_RUNS = 1_000
DEEP_STEPS = 50


def deep() -> bool:
    """Whether the deep profile was asked for (``RWA_DEEP=1``)."""
    return os.environ.get("RWA_DEEP", "") == "1"


def machine_settings(runs: int, steps: int) -> settings:
    """Hypothesis settings for a state machine: ``runs`` runs of ``steps`` steps, or the deep profile's."""
    if deep():
        runs = int(os.environ.get("RWA_DEEP_RUNS") or DEEP_RUNS)
        steps = max(steps, DEEP_STEPS)
    return settings(
        max_examples=runs,
        stateful_step_count=steps,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
