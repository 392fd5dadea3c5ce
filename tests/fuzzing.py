"""Hypothesis settings shared by the fuzz tests: moderate example counts, no deadline
(a shared CI machine has slow moments that are not bugs), and with CI set derandomized
and without an example database, so a CI run is reproducible."""

import os

from hypothesis import HealthCheck, settings

CI = bool(os.environ.get("CI"))


def fuzz_settings(max_examples: int, *health_checks: HealthCheck):
    """Moderate example counts keep each fuzz file near 15 s on two cores."""
    extra = {"derandomize": True, "database": None} if CI else {}
    return settings(
        max_examples=max_examples,
        deadline=None,
        print_blob=True,
        suppress_health_check=list(health_checks),
        **extra,
    )
