"""Reference tables from the package: gemeenten (CBS 2025) and the doelgroepregister codes."""

import dagster as dg
import pandas as pd

from lks_pipeline.core.metadata import as_table, value_counts
from lks_pipeline.core.resources import Warehouse
from lks_pipeline.core.warehouse import ensure_schema, replace_rows, transaction
from lks_pipeline.referentie.data import doelgroepregister_codes as doelgroep_codes
from lks_pipeline.referentie.data import fingerprint
from lks_pipeline.referentie.data import gemeenten as cbs_gemeenten

_COMMON = {"group_name": "referentie", "kinds": {"duckdb"}, "pool": "duckdb_writer"}


def _write(warehouse: Warehouse, table: str, rows: pd.DataFrame) -> None:
    with warehouse.get_connection() as conn:
        ensure_schema(conn)
        with transaction(conn, "referentie"):
            replace_rows(conn, table, rows, "true", [])


@dg.asset(**_COMMON)
def gemeenten(duckdb: Warehouse) -> dg.MaterializeResult:
    """One row per gemeente of the CBS division of 1 January 2025 (342), with its provincie.

    Join on gemeentecode, never on the name: other sources spell some names differently.
    """
    rows = pd.DataFrame(cbs_gemeenten())
    _write(duckdb, "gemeenten", rows)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(rows),
            "vingerafdruk": fingerprint("gemeenten.csv"),
            "per provincie": value_counts(rows, "provincie", "gemeenten"),
        }
    )


@dg.asset(**_COMMON)
def doelgroepregister_codes(duckdb: Warehouse) -> dg.MaterializeResult:
    """One row per doelgroepregister code that puts a person in the LKS population (rules 4.3).

    Any other two-digit code in a DKD message is a valid registration outside the population.
    """
    rows = pd.DataFrame(doelgroep_codes())
    _write(duckdb, "doelgroepregister_codes", rows)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(rows),
            "vingerafdruk": fingerprint("doelgroepregister_codes.csv"),
            "codes": as_table(rows),
        }
    )
