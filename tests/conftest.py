"""Shared test configuration: hypothesis profiles.

``ci`` (chosen when the environment variable ``CI`` is set) is derandomized, so a CI run
is reproducible, and keeps the number of examples modest; ``dev`` explores more, with fresh
random examples on each run. ``HYPOTHESIS_PROFILE=<name>`` picks one explicitly. Warnings are
errors (pyproject's ``filterwarnings``).
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = dict(
    deadline=None,  # timings on shared CI machines are noisy; speed is measured by bench/
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)

settings.register_profile("ci", max_examples=20, derandomize=True, **_COMMON)
settings.register_profile("dev", max_examples=60, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


def pytest_configure(config):
    # Hypothesis's failure report imports mypy_extensions when it is installed, which warns; as
    # an error that warning would replace the report of the actual failure.
    config.addinivalue_line(
        "filterwarnings", "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning")


# -- array backends: the suites run on NumPy and on the strict test backend --------------------

import pytest  # noqa: E402

from backends import BACKENDS, ArrayBackend  # noqa: E402


@pytest.fixture(params=list(BACKENDS), scope="session")
def backend(request) -> ArrayBackend:
    """The array library a test runs on: NumPy, then the strict backend (CuPy-like, no GPU)."""
    return BACKENDS[request.param]
