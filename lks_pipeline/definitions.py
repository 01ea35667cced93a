"""The code location: one Definitions of plain lists, bound to resources from the environment."""

import dagster as dg

from lks_pipeline.aanleverfouten import assets as aanleverfouten
from lks_pipeline.aanleverfouten import drempels
from lks_pipeline.aanleverfouten.resources import AanleverfoutenThresholds
from lks_pipeline.analyse import assets as analyse
from lks_pipeline.automation.alerts import signaalrapporten_op_tijd
from lks_pipeline.automation.jobs import ALL_JOBS
from lks_pipeline.automation.schedules import dagelijks_0700
from lks_pipeline.automation.sensors import ALL_SENSORS
from lks_pipeline.core.resources import LksSettings, Warehouse, env_int, env_or
from lks_pipeline.core.settings import (
    default_warehouse,
    env_flag,
    env_float,
    warehouse_wait_seconds,
)
from lks_pipeline.ingest import assets as ingest
from lks_pipeline.notificaties import assets as notificaties
from lks_pipeline.notificaties.message import PORTAAL_URL
from lks_pipeline.notificaties.resources import Mail
from lks_pipeline.notificaties.storing import DAGSTER_URL
from lks_pipeline.rapporten import assets as rapporten
from lks_pipeline.referentie import assets as referentie
from lks_pipeline.signalen import assets as signalen
from lks_pipeline.webservice import assets as webservice
from lks_pipeline.webservice.resources import DkdWebservice

# The rooms' assets in the order data flows through them (docs/architecture.md).
ROOMS = [referentie, ingest, webservice, aanleverfouten, signalen, rapporten, notificaties, analyse]


def resources_from_env() -> dict:
    """The resources of rules 3, each from its LKS_* variable or the demo default."""
    return {
        "lks": LksSettings(data_dir=env_or("LKS_DATA_DIR", "data")),
        "duckdb": Warehouse(
            database=env_or("LKS_DUCKDB_PATH", default_warehouse()),
            wacht_seconden=warehouse_wait_seconds(),
        ),
        "mail": Mail(
            smtp_host=env_or("LKS_SMTP_HOST", ""),
            smtp_port=env_int("LKS_SMTP_PORT", 587),
            smtp_starttls=env_flag("LKS_SMTP_STARTTLS", True),
            smtp_user=env_or("LKS_SMTP_USER", ""),
            smtp_password=env_or("LKS_SMTP_PASSWORD", ""),
            smtp_timeout_seconds=env_float("LKS_SMTP_TIMEOUT", 30.0),
            mail_from=env_or("LKS_MAIL_FROM", "lks-signalen@localhost"),
            portaal_url=env_or("LKS_PORTAAL_URL", PORTAAL_URL),
            beheer_email=env_or("LKS_BEHEER_EMAIL", ""),
            dagster_url=env_or("LKS_DAGSTER_URL", DAGSTER_URL),
        ),
        "webservice": DkdWebservice(
            timeout_seconds=env_float("LKS_WEBSERVICE_TIMEOUT", 10.0),
            pogingen=env_int("LKS_WEBSERVICE_POGINGEN", 3),
            wachttijd_seconds=env_float("LKS_WEBSERVICE_WACHTTIJD", 0.5),
            batch_grootte=env_int("LKS_WEBSERVICE_BATCH", 500),
            gelijktijdig=env_int("LKS_WEBSERVICE_GELIJKTIJDIG", 6),
        ),
        "drempels": AanleverfoutenThresholds(
            marge_dagen=env_int("LKS_AANLEVER_MARGE_DAGEN", drempels.MARGE_DAGEN),
            verwijsindex_max_dagen=env_int(
                "LKS_VERWIJSINDEX_MAX_DAGEN", drempels.VERWIJSINDEX_MAX_DAGEN
            ),
        ),
    }


def build_defs(resources: dict) -> dg.Definitions:
    """Every asset, job, sensor and schedule, bound to `resources` (tests pass their own)."""
    return dg.Definitions(
        assets=dg.load_assets_from_modules(ROOMS),
        asset_checks=[signaalrapporten_op_tijd],
        jobs=ALL_JOBS,
        sensors=ALL_SENSORS,
        schedules=[dagelijks_0700],
        resources=resources,
        executor=dg.in_process_executor,
    )


defs = build_defs(resources_from_env())
