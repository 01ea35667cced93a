"""The DKD webservice asset (rules 4.6): each day, ask webservice gemeenten about that day's BSNs.

For every gemeente whose instellingen say `webservice`, the day's UWV BSNs in its verwijsindex
are asked in batches. Answers are parsed like a verzamelbestand and stored in the same DKD
tables with `bron = 'webservice'`, replacing what that gemeente answered before for those BSNs,
so `signalen` uses them for zekerheid and population that day. A batch that stays unanswered is
recorded as `onbereikbaar` (an aanleverfout, WEBSERVICE_ONBEREIKBAAR) and the signals still go
out on the verwijsindex alone (zekerheid 3). `dkd_webservice_bevragingen` holds one row per
batch: never a BSN. Network calls happen with the warehouse closed, so a slow gemeente never
holds the DuckDB lock. A run over several days asks all their batches side by side (bounded per
gemeente), so an unreachable gemeente's retry waits are paid once per run, and then stores each
day in a transaction of its own.
"""

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import dagster as dg
import httpx
import pandas as pd

from lks_pipeline.core.metadata import as_table, column_schema
from lks_pipeline.core.partitions import SINGLE_RUN, dag_partitions, partition_days
from lks_pipeline.core.resources import Warehouse
from lks_pipeline.core.warehouse import ensure_schema, replace_rows, transaction, utc_now
from lks_pipeline.ingest.assets import dkd_instellingen, uwv_events, verwijsindex
from lks_pipeline.ingest.result import Quarantaine, quarantaine_rows
from lks_pipeline.webservice.client import Answer, ask
from lks_pipeline.webservice.resources import DkdWebservice

FEED = "dkd_webservice"
MAX_CONNECTIONS = 16  # requests in flight at once, over all gemeenten
BSNS_TO_ASK_SQL = """
SELECT i.gemeentecode, i.url, list_sort(list(DISTINCT v.bsn)) AS bsns
FROM dkd_instellingen_actueel AS i
JOIN verwijsindex AS v ON v.gemeentecode = i.gemeentecode
WHERE i.aanlevermethode = 'webservice' AND i.url IS NOT NULL
  AND v.bsn IN (SELECT e.bsn FROM uwv_events AS e WHERE e.leverdatum = $dag)
GROUP BY ALL
ORDER BY i.gemeentecode
"""
BEVRAGINGEN_COLUMNS = [
    "dag",
    "gemeentecode",
    "batch",
    "url",
    "bsns",
    "status",
    "pogingen",
    "http_status",
    "fout",
    "clients",
    "in_quarantaine",
    "berichtversie",
    "gevraagd_op",
]


@dg.asset(
    partitions_def=dag_partitions,
    group_name="feeds",
    kinds={"duckdb", "xml"},
    pool="duckdb_writer",
    backfill_policy=SINGLE_RUN,
    deps=[
        dg.AssetDep(uwv_events),
        dg.AssetDep(verwijsindex, partition_mapping=dg.AllPartitionMapping()),
        dg.AssetDep(dkd_instellingen),
    ],
    metadata={
        "dagster/column_schema": column_schema(
            ("dag", "DATE", "delivery day (the partition)"),
            ("gemeentecode", "VARCHAR", "the webservice gemeente asked"),
            ("batch", "INTEGER", "batch number within the day"),
            ("url", "VARCHAR", "the url from its instellingen"),
            ("bsns", "INTEGER", "BSNs asked in the batch"),
            ("status", "VARCHAR", "ok, onbereikbaar or ongeldig (reply rejected)"),
            ("pogingen", "INTEGER", "attempts made"),
            ("http_status", "INTEGER", "last HTTP status, if any"),
            ("fout", "VARCHAR", "why the batch failed"),
            ("clients", "INTEGER", "Clients stored from the reply"),
            ("in_quarantaine", "INTEGER", "Clients of the reply quarantined"),
            ("berichtversie", "VARCHAR", "berichtversie of the reply"),
            ("gevraagd_op", "TIMESTAMP", "UTC time of the last attempt"),
        )
    },
)
def dkd_webservice(
    context: dg.AssetExecutionContext, duckdb: Warehouse, webservice: DkdWebservice
) -> dg.MaterializeResult:
    """One row per webservice batch of the day: which gemeente, how it went. No BSNs.

    The answers themselves are stored in dkd_reintegratie, dkd_doelgroepen, dkd_inzetten and
    dkd_loonkostensubsidies with bron `webservice`; rejected replies and Clients go to
    `quarantaine` (feed dkd_webservice).
    """
    dagen = partition_days(context)
    with duckdb.get_connection() as conn:
        ensure_schema(conn)
        bsns_to_ask = {dag: conn.execute(BSNS_TO_ASK_SQL, {"dag": dag}).fetchall() for dag in dagen}

    batches = [
        Batch(dag, gemeentecode, url, n, bsns[start : start + webservice.batch_grootte])
        for dag in dagen
        for gemeentecode, url, bsns in bsns_to_ask[dag]
        for n, start in enumerate(range(0, len(bsns), webservice.batch_grootte), 1)
    ]
    per_dag: dict[dt.date, list] = {dag: [] for dag in dagen}
    for batch, (answer, nu) in zip(batches, ask_all(webservice, batches), strict=True):
        if answer.status != "ok":
            context.log.warning(
                f"{batch.name}: {answer.status} na {answer.pogingen} poging(en): {answer.fout}"
            )
        per_dag[batch.dag].append((batch, answer, nu))

    with duckdb.get_connection() as conn:
        for dag in dagen:
            with transaction(conn, "dkd_webservice"):
                overview = _store_day(conn, dag, per_dag[dag])
            context.add_asset_metadata(
                _metadata(overview, len(bsns_to_ask[dag])), partition_key=dag.isoformat()
            )
        conn.execute("CHECKPOINT")
    return dg.MaterializeResult()


@dataclass(frozen=True)
class Batch:
    """One request: up to `batch_grootte` of a day's BSNs for one webservice gemeente."""

    dag: dt.date
    gemeentecode: str
    url: str
    n: int
    bsns: list[str]

    @property
    def name(self) -> str:
        return f"webservice_{self.gemeentecode}_{self.dag:%Y%m%d}_{self.n}"


def ask_all(webservice: DkdWebservice, batches: list[Batch]) -> list[tuple[Answer, dt.datetime]]:
    """Ask every batch, several at once; each answer with the UTC time of its last attempt.

    A gemeente that does not answer costs its retries' waits once, not once per batch or day:
    the waits run side by side. No gemeente gets more than `gelijktijdig` requests at a time.
    """
    per_gemeente = {
        code: threading.BoundedSemaphore(webservice.gelijktijdig)
        for code in {b.gemeentecode for b in batches}
    }

    def ask_one(client: httpx.Client, batch: Batch) -> tuple[Answer, dt.datetime]:
        with per_gemeente[batch.gemeentecode]:
            answer = ask(
                client,
                batch.url,
                batch.gemeentecode,
                batch.bsns,
                pogingen=webservice.pogingen,
                backoff=webservice.wachttijd_seconds,
                name=batch.name,
            )
        return answer, utc_now()

    if not batches:
        return []
    with (
        httpx.Client(timeout=webservice.timeout_seconds, follow_redirects=False) as client,
        ThreadPoolExecutor(
            max_workers=min(len(batches), MAX_CONNECTIONS), thread_name_prefix="webservice"
        ) as pool,
    ):
        return list(pool.map(lambda batch: ask_one(client, batch), batches))


def _store_day(conn, dag: dt.date, answered: list) -> pd.DataFrame:
    """Store one day's answers, its quarantine and its overview rows; return the overview."""
    rijen, quarantaine_per_batch = [], []
    for batch, answer, nu in answered:
        parsed = answer.parsed
        if parsed is not None:
            _store_answer(conn, batch.gemeentecode, dag, batch.name, batch.bsns, parsed)
            quarantaine = parsed.quarantaine
        elif answer.status == "ongeldig":
            quarantaine = [Quarantaine(None, None, answer.fout)]
        else:
            quarantaine = []
        quarantaine_per_batch.append(
            quarantaine_rows(FEED, batch.name, batch.gemeentecode, dag, quarantaine)
        )
        rijen.append(
            {
                "dag": dag,
                "gemeentecode": batch.gemeentecode,
                "batch": batch.n,
                "url": batch.url,
                "bsns": len(batch.bsns),
                "status": answer.status,
                "pogingen": answer.pogingen,
                "http_status": answer.http_status,
                "fout": answer.fout,
                "clients": len(parsed.tables["dkd_reintegratie"]) if parsed else 0,
                "in_quarantaine": len(quarantaine),
                "berichtversie": parsed.berichtversie if parsed else None,
                "gevraagd_op": nu,
            }
        )
    gevuld = [rows for rows in quarantaine_per_batch if len(rows)]
    quarantaine = (
        pd.concat(gevuld, ignore_index=True)
        if gevuld
        else quarantaine_rows(FEED, "", None, dag, [])
    )
    replace_rows(conn, "quarantaine", quarantaine, "feed = ? AND leverdatum = ?", [FEED, dag])
    overview = pd.DataFrame(rijen, columns=BEVRAGINGEN_COLUMNS)
    replace_rows(conn, "dkd_webservice_bevragingen", overview, "dag = ?", [dag])
    return overview


def _metadata(overview: pd.DataFrame, gemeenten: int) -> dict:
    metadata = {
        "dagster/partition_row_count": len(overview),
        "gemeenten gevraagd": gemeenten,
        "batches ok": int((overview["status"] == "ok").sum()),
        "batches onbereikbaar": int((overview["status"] == "onbereikbaar").sum()),
        "batches ongeldig": int((overview["status"] == "ongeldig").sum()),
    }
    if len(overview):
        tabel = overview[["gemeentecode", "batch", "bsns", "status", "pogingen", "fout"]]
        metadata["bevragingen"] = as_table(tabel)
    return metadata


def _store_answer(
    conn, gemeentecode: str, dag: dt.date, name: str, part: list[str], parsed
) -> None:
    """Replace what this gemeente answered before for the BSNs of this batch."""
    where = "gemeentecode = ? AND bron = 'webservice' AND list_contains(?, bsn)"
    for table, rows in parsed.tables.items():
        extra = {"gemeentecode": gemeentecode, "bron": "webservice"}
        if table == "dkd_reintegratie":
            extra |= {
                "leverdatum": dag,
                "berichtversie": parsed.berichtversie,
                "aanmaakdatum": parsed.aanmaakdatum,
                "bestand": name,
            }
        replace_rows(conn, table, rows, where, [gemeentecode, part], extra)
