"""Shared test configuration: hypothesis profiles and the array backends the suites run on.

The ``default`` profile is deterministic for everyone: examples derive from each test's
own seed, and no example database is read, so a fresh clone, a developer's machine and CI
test the same values. ``HYPOTHESIS_PROFILE=explore`` draws more examples from random seeds
(and remembers failures in ``.hypothesis/``) to find new failures; see README's Development
section. Warnings are errors (pyproject's ``filterwarnings``).
"""
from __future__ import annotations

import gc
import os

import pytest
from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,  # timings on shared CI machines are noisy; speed is measured by bench/
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}

settings.register_profile("default", max_examples=20, derandomize=True, database=None, **_COMMON)
settings.register_profile("explore", max_examples=200, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_collection_finish(session):
    # What collection made (the modules, the op tables, ~13,000 test items) lives to the end of
    # the run. Frozen, the cycle collector stops walking it on each full collection: a test that
    # allocates millions of objects (deep graphs, tracemalloc loops with gc.collect()) would
    # otherwise pay for the whole suite's objects many times over.
    gc.collect()
    gc.freeze()


def pytest_sessionstart(session):
    # Library code reads device values only through backend.to_host: on the strict backend an
    # implicit bool()/float()/int() made by functrans's own code raises, in every test.
    from functrans.testing.strict import forbid_implicit_reads_in_library
    forbid_implicit_reads_in_library()


def pytest_configure(config):
    # Hypothesis's failure report imports mypy_extensions when it is installed, which warns; as
    # an error that warning would replace the report of the actual failure.
    config.addinivalue_line(
        "filterwarnings", "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning")


# -- array backends: the suites run on NumPy and on the strict test backend --------------------

from backends import BACKENDS, ArrayBackend  # noqa: E402


@pytest.fixture(params=list(BACKENDS), scope="session")
def backend(request) -> ArrayBackend:
    """The array library a test runs on: NumPy, then the strict backend (CuPy-like, no GPU)."""
    return BACKENDS[request.param]
