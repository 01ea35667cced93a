"""Dagster's own floor: one asset that does nothing, for `dagster asset materialize -f`."""

import dagster as dg


@dg.asset
def triviaal() -> None:
    """Does nothing; what remains is process start-up, loading and one run."""
