"""Settings from the environment (rules 3): the `LKS_*` variables and their demo defaults.

Every variable has a working default, so the demo needs nothing set. `definitions.py` builds the
resources from these; the command line and the portal read the data root and the warehouse path
here too, so all agree on where things are. Pure: the portal imports it without loading Dagster.
docs/operations.md lists every variable.
"""

import os
from pathlib import Path

# The analysts' copy next to the live warehouse (rules 6.4); the portal reads it too.
ANALYSE_FILE = "lks_analyse.duckdb"


def env_flag(name: str, default: bool) -> bool:
    """`1/true/ja/yes/on` or `0/false/nee/no/off`; anything else is a configuration error."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    flag = value.strip().lower()
    if flag in {"1", "true", "ja", "yes", "on"}:
        return True
    if flag in {"0", "false", "nee", "no", "off"}:
        return False
    raise ValueError(f"{name}={value!r}: verwacht 1 of 0")


def env_float(name: str, default: float) -> float:
    """A number from the environment (Dagster's EnvVar has no float form), else the default."""
    return float(os.environ[name]) if os.environ.get(name, "").strip() else default


def data_root() -> Path:
    """The data root: LKS_DATA_DIR, default `data/` of the working directory."""
    return Path(os.environ.get("LKS_DATA_DIR", "data")).resolve()


def default_warehouse() -> str:
    """`warehouse/lks.duckdb` under the data root (rules 3), as the environment says it."""
    return os.path.join(os.environ.get("LKS_DATA_DIR", "data"), "warehouse", "lks.duckdb")


def warehouse_path() -> Path:
    """The live warehouse file: LKS_DUCKDB_PATH, default under the data root."""
    return Path(os.environ.get("LKS_DUCKDB_PATH", default_warehouse())).resolve()


def warehouse_wait_seconds() -> float:
    """LKS_WAREHOUSE_WACHT: how long a step waits for another process to release the file."""
    return env_float("LKS_WAREHOUSE_WACHT", 600.0)


def analyse_path() -> Path:
    """The analysts' copy, `lks_analyse.duckdb` beside the live warehouse."""
    return warehouse_path().with_name(ANALYSE_FILE)
