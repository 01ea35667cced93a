"""The code location: one Definitions of plain lists. Environment is read here and nowhere else."""

import os

import dagster as dg

from lks_pipeline.assets import feeds, rapporten, referentie, signalen
from lks_pipeline.jobs import ALL_JOBS
from lks_pipeline.resources import LksSettings, Warehouse


def env_or(name: str, default: str) -> str | dg.EnvVar:
    """EnvVar when set, so the UI shows where a value came from; otherwise the demo default."""
    return dg.EnvVar(name) if name in os.environ else default


def default_warehouse() -> str:
    """`warehouse/lks.duckdb` under the data root (DESIGN 3)."""
    return os.path.join(os.environ.get("LKS_DATA_DIR", "data"), "warehouse", "lks.duckdb")


defs = dg.Definitions(
    assets=dg.load_assets_from_modules([referentie, feeds, signalen, rapporten]),
    jobs=ALL_JOBS,
    resources={
        "lks": LksSettings(data_dir=env_or("LKS_DATA_DIR", "data")),
        "duckdb": Warehouse(database=env_or("LKS_DUCKDB_PATH", default_warehouse())),
    },
    executor=dg.in_process_executor,
)
