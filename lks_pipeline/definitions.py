"""The code location: one Definitions of plain lists. Environment is read here and nowhere else."""

import os

import dagster as dg

from lks_pipeline.assets import (
    aanleverfouten,
    analyse,
    feeds,
    notificaties,
    rapporten,
    referentie,
    signalen,
    webservice,
)
from lks_pipeline.jobs import ALL_JOBS
from lks_pipeline.resources import AanleverDrempels, DkdWebservice, LksSettings, Mail, Warehouse
from lks_pipeline.schedules import dagelijks_0700
from lks_pipeline.sensors import ALL_SENSORS


def env_or(name: str, default: str) -> str | dg.EnvVar:
    """EnvVar when set, so the UI shows where a value came from; otherwise the demo default."""
    return dg.EnvVar(name) if name in os.environ else default


def env_int(name: str, default: int) -> int | dg.EnvVar:
    """An integer EnvVar when set, else the default."""
    return dg.EnvVar.int(name) if name in os.environ else default


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


def default_warehouse() -> str:
    """`warehouse/lks.duckdb` under the data root (DESIGN 3)."""
    return os.path.join(os.environ.get("LKS_DATA_DIR", "data"), "warehouse", "lks.duckdb")


def resources_from_env() -> dict:
    """The resources of DESIGN 3, each from its LKS_* variable or the demo default."""
    return {
        "lks": LksSettings(data_dir=env_or("LKS_DATA_DIR", "data")),
        "duckdb": Warehouse(
            database=env_or("LKS_DUCKDB_PATH", default_warehouse()),
            wacht_seconden=env_float("LKS_WAREHOUSE_WACHT", 600.0),
        ),
        "mail": Mail(
            smtp_host=env_or("LKS_SMTP_HOST", ""),
            smtp_port=env_int("LKS_SMTP_PORT", 587),
            smtp_starttls=env_flag("LKS_SMTP_STARTTLS", True),
            smtp_user=env_or("LKS_SMTP_USER", ""),
            smtp_password=env_or("LKS_SMTP_PASSWORD", ""),
            smtp_timeout_seconds=env_float("LKS_SMTP_TIMEOUT", 30.0),
            mail_from=env_or("LKS_MAIL_FROM", "lks-signalen@localhost"),
        ),
        "webservice": DkdWebservice(
            timeout_seconds=env_float("LKS_WEBSERVICE_TIMEOUT", 10.0),
            pogingen=env_int("LKS_WEBSERVICE_POGINGEN", 3),
            wachttijd_seconds=env_float("LKS_WEBSERVICE_WACHTTIJD", 0.5),
            batch_grootte=env_int("LKS_WEBSERVICE_BATCH", 500),
            gelijktijdig=env_int("LKS_WEBSERVICE_GELIJKTIJDIG", 6),
        ),
        "drempels": AanleverDrempels(
            marge_dagen=env_int("LKS_AANLEVER_MARGE_DAGEN", 7),
            verwijsindex_max_dagen=env_int("LKS_VERWIJSINDEX_MAX_DAGEN", 35),
        ),
    }


def build_defs(resources: dict) -> dg.Definitions:
    """Every asset, job, sensor and schedule, bound to `resources` (tests pass their own)."""
    return dg.Definitions(
        assets=dg.load_assets_from_modules(
            [
                referentie,
                feeds,
                webservice,
                aanleverfouten,
                signalen,
                rapporten,
                notificaties,
                analyse,
            ]
        ),
        jobs=ALL_JOBS,
        sensors=ALL_SENSORS,
        schedules=[dagelijks_0700],
        resources=resources,
        executor=dg.in_process_executor,
    )


defs = build_defs(resources_from_env())
