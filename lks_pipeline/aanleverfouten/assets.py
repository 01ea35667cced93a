"""DKD-aanleverfouten (rules 6.3): per day, what each gemeente delivers badly, and how to fix it.

One SQL statement (`sql/dkd_aanleverfouten.sql`) evaluates all eleven fouttypes for every
gemeente in view (one with instellingen or any delivery dated on or before the day) as of that
day. Rows hold counts and a Dutch toelichting, never a BSN.

Decisions where the spec is silent:
- Only an accepted DKD file counts as a delivery for GEEN_AANLEVERING; a rejected one is
  BERICHT_ONGELDIG (and delivers no data).
- Webservice gemeenten are judged on that day's queries (WEBSERVICE_ONBEREIKBAAR,
  BERICHT_ONGELDIG for rejected replies), not on a leverfrequentie.
- VERWIJSINDEX_ONVOLLEDIG is only judged when the gemeente has a verwijsindex (else
  VERWIJSINDEX_ONTBREEKT says it all).
- INSTELLINGEN_ONTBREKEN covers both a gemeente with deliveries but no instellingen row and an
  instellingen row without notificatie_email (rules 6.2).
- Counts over the contents of a snapshot (VERWIJSINDEX_ONVOLLEDIG, LOONWAARDE_ONTBREEKT) use the
  snapshot the warehouse holds when it is dated on or before the day; a past day re-evaluated
  after a newer delivery leaves them out rather than judge it by later data.
"""

import dagster as dg
import pandas as pd

from lks_pipeline.aanleverfouten.resources import AanleverfoutenThresholds
from lks_pipeline.core import progress
from lks_pipeline.core.metadata import as_table, column_schema
from lks_pipeline.core.partitions import SINGLE_RUN, dag_partitions, partition_days
from lks_pipeline.core.resources import Warehouse
from lks_pipeline.core.warehouse import ensure_schema, load_sql, transaction
from lks_pipeline.ingest.assets import dkd_instellingen, dkd_reintegratie, verwijsindex
from lks_pipeline.ingest.dkd import CURRENT_BERICHTVERSIE
from lks_pipeline.webservice.assets import dkd_webservice

AANLEVERFOUTEN_SQL = load_sql(__package__, "dkd_aanleverfouten.sql")
FOUTTYPES = (
    "GEEN_AANLEVERING",
    "WEBSERVICE_ONBEREIKBAAR",
    "VERWIJSINDEX_ONTBREEKT",
    "VERWIJSINDEX_VEROUDERD",
    "VERWIJSINDEX_ONVOLLEDIG",
    "BERICHT_ONGELDIG",
    "BERICHTVERSIE_VEROUDERD",
    "URL_VERSIE_MISMATCH",
    "LOONWAARDE_ONTBREEKT",
    "BSN_ONGELDIG",
    "INSTELLINGEN_ONTBREKEN",
)
TREND_DAYS = 14
TREND_SQL = """
SELECT dag, fouttype, count(*) AS gemeenten
FROM dkd_aanleverfouten
WHERE dag > $dag - $dagen AND dag <= $dag
GROUP BY ALL
"""


@dg.asset(
    partitions_def=dag_partitions,
    group_name="aanleverfouten",
    kinds={"duckdb"},
    pool="duckdb_writer",
    backfill_policy=SINGLE_RUN,
    deps=[
        dg.AssetDep(dkd_instellingen),
        dg.AssetDep(verwijsindex, partition_mapping=dg.AllPartitionMapping()),
        dg.AssetDep(dkd_reintegratie, partition_mapping=dg.AllPartitionMapping()),
        dg.AssetDep(dkd_webservice),
    ],
    metadata={
        "dagster/column_schema": column_schema(
            ("dag", "DATE", "the day evaluated (the partition)"),
            ("gemeentecode", "VARCHAR", "the gemeente"),
            ("fouttype", "VARCHAR", ", ".join(FOUTTYPES)),
            ("aantal", "INTEGER", "records or occurrences; 1 for a state"),
            ("toelichting", "VARCHAR", "what is wrong and what the gemeente can do"),
        )
    },
)
def dkd_aanleverfouten(
    context: dg.AssetExecutionContext, duckdb: Warehouse, drempels: AanleverfoutenThresholds
) -> dg.MaterializeResult:
    """One row per (gemeente, fouttype) that applies on the day, with aantal and toelichting.

    Its metadata holds the number of gemeenten per fouttype (plotted over time in the Plots tab)
    and a table of the last 14 evaluated days.
    """
    with duckdb.get_connection() as conn:
        ensure_schema(conn)
        for dag in progress.each("dkd_aanleverfouten", partition_days(context)):
            parameters = {
                "dag": dag,
                "marge": drempels.marge_dagen,
                "vi_max_dagen": drempels.verwijsindex_max_dagen,
                "versie": CURRENT_BERICHTVERSIE,
            }
            with transaction(conn, "dkd_aanleverfouten"):
                conn.execute("DELETE FROM dkd_aanleverfouten WHERE dag = $dag", {"dag": dag})
                conn.execute(f"INSERT INTO dkd_aanleverfouten {AANLEVERFOUTEN_SQL}", parameters)
            rows = conn.execute(
                "SELECT gemeentecode, fouttype, aantal FROM dkd_aanleverfouten WHERE dag = $dag",
                {"dag": dag},
            ).df()
            trend = conn.execute(TREND_SQL, {"dag": dag, "dagen": TREND_DAYS}).df()
            context.add_asset_metadata(_metadata(rows, trend), partition_key=dag.isoformat())
        conn.execute("CHECKPOINT")
    return dg.MaterializeResult()


def _metadata(rows: pd.DataFrame, trend: pd.DataFrame) -> dict:
    per_type = rows.groupby("fouttype").agg(
        gemeenten=("gemeentecode", "nunique"), aantal=("aantal", "sum")
    )
    metadata: dict = {
        "dagster/partition_row_count": len(rows),
        "gemeenten met fouten": int(rows["gemeentecode"].nunique()),
    }
    for fouttype in FOUTTYPES:
        metadata[fouttype] = int(per_type["gemeenten"].get(fouttype, 0))
    overview = pd.DataFrame(
        [
            {
                "fouttype": f,
                "gemeenten": int(per_type["gemeenten"].get(f, 0)),
                "aantal": int(per_type["aantal"].get(f, 0)),
            }
            for f in FOUTTYPES
        ]
    )
    metadata["per fouttype"] = as_table(overview)
    if len(trend):
        tabel = (
            trend.pivot_table(index="dag", columns="fouttype", values="gemeenten", fill_value=0)
            .astype(int)
            .sort_index()
        )
        tabel.index = [f"{d:%d-%m}" for d in pd.to_datetime(tabel.index)]
        totaal = tabel.sum(axis=1)
        tabel["trend"] = ["█" * int(t) if t <= 40 else "█" * 40 + "…" for t in totaal]
        metadata[f"gemeenten per fouttype, laatste {TREND_DAYS} dagen"] = as_table(
            tabel.rename_axis("dag").reset_index()
        )
    return metadata
