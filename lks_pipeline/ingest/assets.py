"""Ingest assets (rules 4, 6.4): each feed's files, validated, into partitioned DuckDB tables.

One engine serves every feed. For each partition, one transaction replaces its rows and records
each file read in `leveringen` and its rejected rows in `quarantaine`. A file rejected whole
changes nothing but those two records, so the partition keeps its previous data.

The partitioned feeds have a single-run backfill policy: one run takes a range of partitions
(a UI backfill, `lks-pipeline process`, a sensor tick with several new files), because starting a
run costs more than reading most partitions' files. Each partition still gets its own
materialization with its own metadata (`add_asset_metadata(partition_key=...)`), which is where
`plan.py` finds the fingerprint of the files it saw.

Decisions where the spec is silent (the rest are `leveringen.py`'s):
- A day without a UWV file leaves `uwv_events` for that day unchanged.
- A file that changed while it was read is not used at all: no rows, no record, a warning
  naming it. The next run (the sensor sees the new ctime) reads it whole.
- `dkd_instellingen` keeps every accepted snapshot with its leverdatum (the aanleverfouten need
  the settings "as of" each day); the view `dkd_instellingen_actueel` is the newest.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd
import pandera.pandas as pa

from lks_pipeline.core import progress
from lks_pipeline.core.metadata import as_table, value_counts
from lks_pipeline.core.partitions import SINGLE_RUN, dag_partitions, gemeente_partitions
from lks_pipeline.core.resources import LksSettings, Warehouse
from lks_pipeline.core.warehouse import (
    ensure_schema,
    replace_row,
    replace_rows,
    transaction,
    utc_now,
)
from lks_pipeline.ingest import csv_feeds, dkd, inbox, schemas
from lks_pipeline.ingest.inbox import Levering
from lks_pipeline.ingest.leveringen import (
    Reader,
    ReadFile,
    Selection,
    known_files,
    likely_reads,
    read_new,
    record,
)
from lks_pipeline.ingest.parallel import ReadAhead
from lks_pipeline.ingest.result import ReadResult

PREVIEW_ROWS = 20
# DuckDB's buffer for an ingest step, whose connection ends with the step. Its default, 80% of
# RAM, let a national run keep every block it wrote in memory (~550 MB) beside the workers that
# read ahead; written blocks can go, and a step only ever holds a few partitions' new rows.
INGEST_MEMORY = "256MB"
# Run tag of the automation (`process`, sensors): a partition that already holds its newest file
# is not read again. Without it (a materialization from the UI) that file is re-read and reloaded.
ALLEEN_NIEUW = "lks/alleen_nieuw"


@dataclass(frozen=True)
class FeedSpec:
    """How one feed is ingested: its reader, how its rows replace a partition, its UI counts."""

    feed: str
    reader: Reader
    write: Callable[[object, ReadFile], None]
    describe: Callable[[ReadResult], dict] | None = None
    snapshot: bool = True  # the newest file is the partition; else every file is kept
    per_gemeente: bool = False  # partitions are gemeenten (older files become `vervangen`)
    # Read files ahead on worker processes (`parallel.py`): DKD only, where parsing is the work
    # and the rows come back as compact Arrow files. A CSV feed's time is the run's own writing,
    # and its rows as Python strings would pile up in the run's memory while it writes.
    read_ahead: bool = False


@dataclass
class Ingested:
    """What one partition (or the unpartitioned asset) read this run, and its UI metadata."""

    partition: str | None
    selection: Selection
    metadata: dict


def _ingest(
    context: dg.AssetExecutionContext,
    lks: LksSettings,
    duckdb: Warehouse,
    spec: FeedSpec,
    partitions: list[str] | None,
) -> list[Ingested]:
    """Ingest every partition of this run (`partitions`; None: the asset is unpartitioned).

    The inbox folder is listed and the known files are fetched once for the whole run. Each
    partition is then written in a transaction of its own, one after another; a DKD run large
    enough reads its files ahead on worker processes (`parallel.py`), so memory holds a few
    partitions' rows at a time. A run that fails part-way leaves the partitions before
    it written but without a materialization, so they count as behind and the next run takes
    them again: it re-reads their newest file, or with `lks/alleen_nieuw` finds it recorded as
    `geladen` in the same transaction as its rows and leaves it.
    """
    per_partition: dict[str | None, list[Levering]] = {}
    found, _ = inbox.scan(lks.inbox, folders=[inbox.FEED_FOLDERS[spec.feed]])
    for levering in found:
        if levering.feed == spec.feed:
            per_partition.setdefault(levering.partition, []).append(levering)
    reread = context.run.tags.get(ALLEEN_NIEUW) != "ja"
    todo = [None] if partitions is None else partitions
    with duckdb.get_connection() as conn:
        ensure_schema(conn)
        conn.execute(f"SET memory_limit = '{INGEST_MEMORY}'")
        known = known_files(conn, spec.feed)
        ahead = (
            [lv for p in todo for lv in likely_reads(per_partition.get(p, []), known)]
            if spec.read_ahead
            else []
        )
        reader = ReadAhead(spec.reader, ahead, Path(duckdb.database).resolve().parent)
        try:
            result = []
            for done, partition in enumerate(todo, 1):
                leveringen = per_partition.get(partition, [])
                part = _ingest_partition(
                    context, conn, spec, reader, partition, leveringen, known, reread
                )
                rows = part.metadata.get("dagster/partition_row_count")
                progress.report(spec.feed, partition or spec.feed, done, len(todo), rows)
                result.append(part)
        finally:
            reader.close()
        conn.execute("CHECKPOINT")
    return result


def _ingest_partition(
    context: dg.AssetExecutionContext,
    conn,
    spec: FeedSpec,
    reader: Reader,
    partition: str | None,
    leveringen: list[Levering],
    known: dict,
    reread: bool,
) -> Ingested:
    """Read one partition's new files and replace its rows and records in one transaction.

    After its metadata is made, a partitioned run lets go of the rows, so a range of 342
    gemeenten never holds more than one gemeente's rows.
    """
    selection = read_new(leveringen, known, reader, snapshot=spec.snapshot, reread=reread)
    _log_selection(context, selection)
    if selection.read:
        with transaction(conn, "ingest"):
            for read in [selection.loaded] if spec.snapshot else selection.read:
                if read is not None and read.parsed is not None:
                    spec.write(conn, read)
            record(conn, spec.feed, selection, partition if spec.per_gemeente else None)
    metadata = _metadata(selection, leveringen)
    if selection.loaded is not None and spec.describe is not None:
        metadata |= spec.describe(selection.loaded.parsed)
    if partition is not None:
        for read in selection.read:
            if read.parsed is not None:
                read.parsed.tables = {}
    return Ingested(partition, selection, metadata)


def _log_selection(context: dg.AssetExecutionContext, selection: Selection) -> None:
    for read in selection.read:
        if read.afgewezen is not None:
            context.log.warning(f"Bestand afgewezen: {read.afgewezen}")
        elif read.quarantaine:
            context.log.info(
                f"{read.levering.bestand}: {len(read.quarantaine)} regel(s) in quarantaine"
            )
    for levering in selection.deferred:
        context.log.warning(
            f"{levering.bestand}: veranderde terwijl het gelezen werd (wordt nog "
            "geschreven of is vervangen); niets ervan verwerkt, de volgende run leest "
            "het opnieuw"
        )


def _metadata(selection: Selection, leveringen: list[Levering]) -> dict:
    """What an engineer reads in the UI: files, counts, masked previews. Never a BSN or name."""
    quarantaine = [
        {
            "bestand": r.levering.bestand,
            "regel": q.regel,
            "bsn": q.bsn_gemaskeerd or "",
            "reden": q.reden,
        }
        for r in selection.read
        for q in r.quarantaine
    ]
    metadata = {
        "vingerafdruk": inbox.fingerprint(leveringen),
        "bestanden in inbox": len(leveringen),
        "bestanden gelezen": len(selection.read),
        "bestanden afgewezen": sum(r.afgewezen is not None for r in selection.read),
        "regels in quarantaine": len(quarantaine),
    }
    if selection.loaded is not None:
        metadata["bestand"] = selection.loaded.levering.bestand
        metadata["leverdatum"] = selection.loaded.levering.leverdatum.isoformat()
    if quarantaine:
        preview = pd.DataFrame(quarantaine[:PREVIEW_ROWS])
        metadata["quarantaine (voorbeeld)"] = as_table(preview)
    metadata["bestanden uitgesteld"] = len(selection.deferred)
    return metadata


def _per_partition(context: dg.AssetExecutionContext, ingested: list[Ingested]) -> None:
    """Give each partition of the run its own metadata (a range run records one event each)."""
    for part in ingested:
        context.add_asset_metadata(part.metadata, partition_key=part.partition)


def _column_schema(schema: pa.DataFrameSchema) -> dg.TableSchemaMetadataValue:
    """The feed's pandera schema as the UI's column schema: each column, and every row rule."""

    def rule(check: pa.Check) -> str:
        return check.description or check.error or check.name or str(check)

    columns = [
        dg.TableColumn(
            name,
            str(column.dtype),
            description=column.description,
            constraints=dg.TableColumnConstraints(
                nullable=column.nullable,
                unique=column.unique,
                other=[rule(check) for check in column.checks],
            ),
        )
        for name, column in schema.columns.items()
    ]
    constraints = dg.TableConstraints(other=[rule(check) for check in schema.checks])
    return dg.MetadataValue.table_schema(dg.TableSchema(columns=columns, constraints=constraints))


def _replace_by(table: str, key: str, *fixed: str) -> Callable[[object, ReadFile], None]:
    """A feed's write: the file's rows replace the rows of `table` with the same `key`.

    `fixed` names the delivery's own columns (from its file name), added to every row.
    """

    def write(conn, read: ReadFile) -> None:
        values = {column: getattr(read.levering, column) for column in fixed}
        rows = read.parsed.tables[table]
        replace_rows(conn, table, rows, f"{key} = ?", [values[key]], values)

    return write


def _counts_by(table: str, column: str, label: str) -> Callable[[ReadResult], dict]:
    """A feed's UI counts: rows loaded, rows per value of `column`, and its warnings."""

    def describe(parsed: ReadResult) -> dict:
        rows = parsed.tables[table]
        return {
            "dagster/partition_row_count": len(rows),
            f"per {column}": value_counts(rows, column, label),
            **{f"waarschuwing: {w}": n for w, n in parsed.warning_counts.items()},
        }

    return describe


def _write_dkd(conn, read: ReadFile) -> None:
    """Replace the gemeente's verzamelbestand rows in all four DKD tables (`bron`)."""
    lv, parsed = read.levering, read.parsed
    bron = "verzamelbestand"
    for table, rows in parsed.tables.items():
        extra = {"gemeentecode": lv.gemeentecode, "bron": bron}
        if table == "dkd_reintegratie":
            extra |= {
                "leverdatum": lv.leverdatum,
                "berichtversie": parsed.berichtversie,
                "aanmaakdatum": parsed.aanmaakdatum,
                "bestand": lv.bestand,
            }
        where = "gemeentecode = ? AND bron = ?"
        replace_rows(conn, table, rows, where, [lv.gemeentecode, bron], extra)


def _describe_dkd(parsed: ReadResult) -> dict:
    tables = parsed.tables
    counts = pd.DataFrame([{"tabel": table, "rijen": len(rows)} for table, rows in tables.items()])
    lks_rows = tables["dkd_loonkostensubsidies"]
    return {
        "dagster/partition_row_count": len(tables["dkd_reintegratie"]),
        "berichtversie": parsed.berichtversie,
        "per tabel": as_table(counts),
        "loonkostensubsidies zonder PercentageLoonwaarde": int(
            lks_rows["percentage_loonwaarde"].isna().sum()
        ),
    }


VERWIJSINDEX = FeedSpec(
    "verwijsindex",
    csv_feeds.read_verwijsindex,
    _replace_by("verwijsindex", "gemeentecode", "gemeentecode", "leverdatum", "bestand"),
    _counts_by("verwijsindex", "cluster", "rijen"),
    per_gemeente=True,
)
DKD_REINTEGRATIE = FeedSpec(
    "dkd_reintegratie",
    dkd.read_levering,
    _write_dkd,
    _describe_dkd,
    per_gemeente=True,
    read_ahead=True,
)
UWV = FeedSpec(
    "uwv",
    csv_feeds.read_uwv,
    _replace_by("uwv_events", "leverdatum", "leverdatum", "bestand"),
    _counts_by("uwv_events", "berichttype", "events"),
)
INSTELLINGEN = FeedSpec(
    "dkd_instellingen",
    csv_feeds.read_instellingen,
    _replace_by("dkd_instellingen", "bestand", "leverdatum", "bestand"),
    snapshot=False,
)


@dg.asset(
    partitions_def=gemeente_partitions,
    group_name="feeds",
    kinds={"duckdb", "csv"},
    pool="duckdb_writer",
    backfill_policy=SINGLE_RUN,
    metadata={"dagster/column_schema": _column_schema(schemas.verwijsindex_schema())},
)
def verwijsindex(context: dg.AssetExecutionContext, lks: LksSettings, duckdb: Warehouse) -> None:
    """One row per (BSN, cluster) a gemeente knows: its newest verwijsindex (rules 4.2).

    Each delivery is a full snapshot, so the partition is replaced, never appended to. Invalid
    BSNs go to `quarantaine` with their line; a file rejected whole keeps the previous snapshot.
    """
    _per_partition(context, _ingest(context, lks, duckdb, VERWIJSINDEX, context.partition_keys))


@dg.asset(
    partitions_def=gemeente_partitions,
    group_name="feeds",
    kinds={"duckdb", "xml"},
    pool="duckdb_writer",
    backfill_policy=SINGLE_RUN,
)
def dkd_reintegratie(
    context: dg.AssetExecutionContext, lks: LksSettings, duckdb: Warehouse
) -> None:
    """One row per Client in a gemeente's newest DKD verzamelbestand (rules 4.4).

    Its Doelgroepen, ReintegratieInzetten and Loonkostensubsidies go to `dkd_doelgroepen`,
    `dkd_inzetten` and `dkd_loonkostensubsidies`, each row with source (`bron`), so webservice
    answers can sit beside verzamelbestand data. A Client breaking the XSD or a rule is
    quarantined alone; a file that is not well-formed, has an unknown namespace or names another
    gemeente is rejected whole and keeps the previous snapshot.
    """
    ingested = _ingest(context, lks, duckdb, DKD_REINTEGRATIE, context.partition_keys)
    _per_partition(context, ingested)


@dg.asset(
    partitions_def=dag_partitions,
    group_name="feeds",
    kinds={"duckdb", "csv"},
    pool="duckdb_writer",
    backfill_policy=SINGLE_RUN,
    metadata={"dagster/column_schema": _column_schema(schemas.uwv_schema(dt.date(2017, 1, 1)))},
    check_specs=[
        dg.AssetCheckSpec(
            "uwv_levering_ontvangen",
            asset="uwv_events",
            description="The inbox holds a UWV file for every delivery day of the run. Warns "
            "(does not block) when the 07:00 schedule finds none, so a missing feed is seen in "
            "the UI; a run over a range names the days without one.",
        )
    ],
)
def uwv_events(
    context: dg.AssetExecutionContext, lks: LksSettings, duckdb: Warehouse
) -> dg.MaterializeResult:
    """One row per UWV Ziektewet event of a delivery day, both products (rules 4.1).

    The partition is the delivery date in the file name. Rows breaking a rule for a required
    field go to `quarantaine` with their line; a loonheffingennummer not matching its pattern is
    kept and flagged (`loonheffingennummer_geldig`).
    """
    ingested = _ingest(context, lks, duckdb, UWV, context.partition_keys)
    without = []
    for part in ingested:
        if part.selection.loaded is None and not part.selection.read:
            context.log.info(f"Geen UWV-levering voor {part.partition}: partitie ongewijzigd")
        if not part.metadata["bestanden in inbox"]:
            without.append(part.partition)
    _per_partition(context, ingested)
    return dg.MaterializeResult(check_results=[_uwv_received(len(ingested), without)])


def _uwv_received(days: int, without: list[str]) -> dg.AssetCheckResult:
    """The warning check `uwv_levering_ontvangen`: which days of the run have no UWV file."""
    names = [f"uwv_lks_{day.replace('-', '')}.csv" for day in without]
    return dg.AssetCheckResult(
        check_name="uwv_levering_ontvangen",
        passed=not without,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"leverdagen": days, "leverdagen zonder bestand": len(without)},
        description=(
            "Geen " + ", ".join(names[:10]) + (" ..." if len(names) > 10 else "") + " in de inbox"
            if without
            else None
        ),
    )


@dg.asset(
    group_name="feeds",
    kinds={"duckdb", "csv"},
    pool="duckdb_writer",
    metadata={"dagster/column_schema": _column_schema(schemas.instellingen_schema())},
)
def dkd_instellingen(
    context: dg.AssetExecutionContext, lks: LksSettings, duckdb: Warehouse
) -> dg.MaterializeResult:
    """One row per gemeente per instellingen snapshot: its Reintegratie cluster settings (4.5).

    Every accepted snapshot is kept with its leverdatum, because aanleverfouten are evaluated
    against the settings as they were on each day; `dkd_instellingen_actueel` is the newest.
    """
    (part,) = _ingest(context, lks, duckdb, INSTELLINGEN, None)
    metadata = part.metadata
    accepted = [r for r in part.selection.read if r.parsed is not None]
    if accepted:
        newest = max(accepted, key=lambda r: r.levering.leverdatum)
        metadata["dagster/row_count"] = newest.parsed.regels_geladen
        metadata["nieuwste gelezen snapshot"] = newest.levering.bestand
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(group_name="feeds", kinds={"duckdb"}, pool="duckdb_writer")
def inbox_bestandsnamen(
    context: dg.AssetExecutionContext, lks: LksSettings, duckdb: Warehouse
) -> dg.MaterializeResult:
    """One row per inbox entry that is never read (rules 3), recorded as quarantine.

    A name matching no feed's pattern, an unknown gemeente or date, a symlink, a folder or a path
    outside the inbox. Each is recorded in `leveringen` (status `afgewezen`) and `quarantaine`
    with the reason, so nothing in the inbox is silently ignored.
    """
    _, onleesbaar = inbox.scan(lks.inbox)
    with duckdb.get_connection() as conn:
        ensure_schema(conn)
        with transaction(conn, "inbox_bestandsnamen"):
            now = utc_now()
            for entry in onleesbaar:
                where, params = "feed = ? AND bestand = ?", [entry.feed, entry.bestand]
                levering = {
                    "feed": entry.feed,
                    "bestand": entry.bestand,
                    "status": "afgewezen",
                    "regels_geladen": 0,
                    "regels_gequarantaineerd": 1,
                    "reden": entry.reden,
                    "verwerkt_op": now,
                }
                replace_row(conn, "leveringen", levering, where, params)
                quarantaine = {"feed": entry.feed, "bestand": entry.bestand, "reden": entry.reden}
                replace_row(conn, "quarantaine", quarantaine, where, params)
    for entry in onleesbaar:
        context.log.warning(f"Niet gelezen: {entry.feed}/{entry.bestand}: {entry.reden}")
    preview = pd.DataFrame([vars(e) for e in onleesbaar[:PREVIEW_ROWS]])
    metadata = {
        "dagster/row_count": len(onleesbaar),
        "vingerafdruk": inbox.fingerprint_unreadable(onleesbaar),
    }
    if onleesbaar:
        metadata["niet gelezen"] = as_table(preview)
    return dg.MaterializeResult(metadata=metadata)
