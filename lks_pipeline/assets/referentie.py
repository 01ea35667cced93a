"""Reference tables from the package: gemeenten (CBS 2025) and the doelgroepregister codes."""

import hashlib

import dagster as dg
import pandas as pd

from lks_pipeline.assets import verdeling
from lks_pipeline.reference_data import doelgroepregister_codes as doelgroep_codes
from lks_pipeline.reference_data import gemeenten as cbs_gemeenten
from lks_pipeline.reference_data import package_file
from lks_pipeline.resources import Warehouse
from lks_pipeline.warehouse import ensure_schema, replace_rows, transaction

_COMMON = {"group_name": "referentie", "kinds": {"duckdb"}, "pool": "duckdb_writer"}


def vingerafdruk(bestand: str) -> str:
    """Identity of the packaged file, so `lks-pipeline process` knows when to reload it."""
    return hashlib.sha256(package_file(bestand).read_bytes()).hexdigest()[:16]


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
            "vingerafdruk": vingerafdruk("gemeenten.csv"),
            "per provincie": verdeling(rows, "provincie", "gemeenten"),
        }
    )


@dg.asset(**_COMMON)
def doelgroepregister_codes(duckdb: Warehouse) -> dg.MaterializeResult:
    """One row per doelgroepregister code that puts a person in the LKS population (DESIGN 4.3).

    Any other two-digit code in a DKD message is a valid registration outside the population.
    """
    rows = pd.DataFrame(doelgroep_codes())
    _write(duckdb, "doelgroepregister_codes", rows)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(rows),
            "vingerafdruk": vingerafdruk("doelgroepregister_codes.csv"),
            "codes": dg.MetadataValue.md(rows.to_markdown(index=False)),
        }
    )
