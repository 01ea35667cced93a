"""The Dagster instance the command line uses: `DAGSTER_HOME` and its `dagster.yaml`.

`DAGSTER_HOME` defaults to `.dagster_home/` in the working directory, created with the packaged
`dagster.yaml` (the writers' pool limit, one run at a time, telemetry off) when it has none, and
brought up to date when its `dagster.yaml` is an older copy of ours. One an operator wrote is
kept as it is.
"""

import os
import shutil
from pathlib import Path

from lks_pipeline.core.files import package_file

# A range run's materializations, one per partition, go to PostgreSQL in one INSERT instead of
# one each (dagster-postgres' store_event_batch); SQLite stores them one by one either way. A
# no-op run over 365 partitions on PostgreSQL: 15 s without, 5.4 s with. deploy/ sets the same.
EVENT_BATCH_SIZE = "1000"


def instance_config() -> Path:
    """The packaged `dagster.yaml`: the instance settings this project needs."""
    return package_file(__package__, "dagster.yaml")


def dagster_home() -> Path:
    """The folder DAGSTER_HOME names, or `.dagster_home/` of the working directory."""
    return Path(os.environ.get("DAGSTER_HOME", ".dagster_home")).resolve()


def ensure_dagster_home() -> Path:
    """Point DAGSTER_HOME at a persistent folder that carries our instance settings."""
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(dagster_home())))
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    config = home / "dagster.yaml"
    ours = instance_config().read_text()
    if not config.exists() or (
        config.read_text().startswith(ours.splitlines()[0]) and config.read_text() != ours
    ):
        shutil.copyfile(instance_config(), config)
    return home
