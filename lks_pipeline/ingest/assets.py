"""Ingest assets (DESIGN 4, 6.4): each feed's files, validated, into partitioned DuckDB tables.

One engine serves every feed. For each partition, one transaction replaces its rows and records
each file read in `leveringen` and its rejected rows in `quarantaine`. A file rejected whole
changes nothing but those two records, so the partition keeps its previous data.

The partitioned feeds have a single-run backfill policy: one run takes a range of partitions
(a UI backfill, `lks-pipeline process`, a sensor tick with several new files), because starting a
run costs more than reading most partitions' files. Each partition still gets its own
materialization with its own metadata (`add_asset_metadata(partition_key=...)`), which is where
`plan.py` finds the fingerprint of the files it saw.

Decisions where the spec is silent:
- Every delivery of a partition is read once (known by name and sha256 in `leveringen`; hashed
  again only when its size or mtime changed), even when
  a newer one replaces it, so the quarantine and `leveringen` keep the history of each gemeente's
  deliveries that the aanleverfouten are evaluated over.
- A snapshot partition (verwijsindex, dkd_reintegratie) holds the newest file that was not
  rejected whole; a rejected newer file leaves it as it was.
- A day without a UWV file leaves `uwv_events` for that day unchanged.
- A file that changed while it was read (its inode, size, mtime or ctime differ from the scan's:
  an upload still in progress, or a file replaced) is not used at all: no rows, no record, a
  warning naming it. The next run (the sensor sees the new ctime) reads it whole. While the
  newest file of a snapshot partition is deferred, no older one is loaded in its place.
- `dkd_instellingen` keeps every accepted snapshot with its leverdatum (the aanleverfouten need
  the settings "as of" each day); the view `dkd_instellingen_actueel` is the newest.
"""

import datetime as dt
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

import dagster as dg
import duckdb
import pandas as pd
import pandera.pandas as pa
from dagster_pandera import pandera_schema_to_dagster_type

from lks_pipeline.core.metadata import value_counts
from lks_pipeline.core.partitions import SINGLE_RUN, dag_partitions, gemeente_partitions
from lks_pipeline.core.resources import LksSettings, Warehouse
from lks_pipeline.core.warehouse import (
    ensure_schema,
    replace_row,
    replace_rows,
    transaction,
)
from lks_pipeline.ingest import csv_feeds as csvfeeds
from lks_pipeline.ingest import dkd, inbox, schemas
from lks_pipeline.ingest.csv_file import BestandAfgewezen
from lks_pipeline.ingest.inbox import Levering
from lks_pipeline.ingest.result import Gelezen, Quarantaine, quarantaine_rijen


class Bekend(NamedTuple):
    """What `leveringen` remembers of a file: enough to skip it without reading it again."""

    sha256: str
    status: str
    grootte: int | None
    mtime_ns: int | None


def known_files(conn: duckdb.DuckDBPyConnection, feed: str) -> dict[str, Bekend]:
    """Map each file of `feed` already read to what was recorded of it."""
    rows = conn.execute(
        "SELECT bestand, sha256, status, grootte, mtime_ns FROM leveringen WHERE feed = ?", [feed]
    ).fetchall()
    return {bestand: Bekend(*rest) for bestand, *rest in rows}


PREVIEW_ROWS = 20
# Run tag of the automation (`process`, sensors): a partition that already holds its newest file
# is not read again. Without it (a materialization from the UI) that file is re-read and reloaded.
ALLEEN_NIEUW = "lks/alleen_nieuw"


@dataclass
class Bestand:
    """One file this run read: either its rows or the reason it was rejected whole."""

    levering: Levering
    sha256: str
    gelezen: Gelezen | None = None
    afgewezen: BestandAfgewezen | None = None

    @property
    def quarantaine(self) -> list[Quarantaine]:
        if self.afgewezen is not None:
            return [Quarantaine(self.afgewezen.regel, None, self.afgewezen.reden)]
        return self.gelezen.quarantaine


def _read(levering: Levering, sha256: str, reader: Callable[[Levering], Gelezen]) -> Bestand:
    try:
        gelezen = reader(levering)
    except BestandAfgewezen as rejected:
        return Bestand(levering, sha256, afgewezen=rejected)
    return Bestand(levering, sha256, gelezen=gelezen)


def _read_dkd(levering: Levering) -> Gelezen:
    return dkd.lees(levering.path, levering.bestand, levering.gemeentecode)


def _read_new(
    leveringen: list[Levering],
    known: dict[str, Bekend],
    reader: Callable[[Levering], Gelezen],
    *,
    newest_only: bool,
    herlees: bool = True,
) -> tuple[list[Bestand], Bestand | None, list[Levering]]:
    """Read every file not yet known, and the newest accepted one for its rows.

    Returns the files read this run; with `newest_only`, the file whose rows the partition
    should hold (None: keep the partition as it is); and the files that changed while they were
    read (still being written, or replaced), which are left for the next run. While the newest
    file is among those, no older one is loaded in its place. Without `herlees`, a known,
    unchanged file whose rows the partition holds (status `geladen`, written in the same
    transaction as the rows) is not read again.
    """
    read: list[Bestand] = []
    loaded: Bestand | None = None
    uitgesteld: list[Levering] = []
    holds_newest = False
    for levering in sorted(leveringen, key=lambda lv: lv.leverdatum, reverse=True):
        need_rows = newest_only and loaded is None and not uitgesteld and not holds_newest
        previous = known.get(levering.bestand)
        untouched = previous is not None and (previous.grootte, previous.mtime_ns) == (
            levering.size,
            levering.mtime_ns,
        )
        if previous is None:
            # A new file is always read: hash it on the other core while it is parsed (hashlib
            # and file reads release the GIL), instead of reading it twice in a row.
            with ThreadPoolExecutor(max_workers=1) as pool:
                hashing = pool.submit(levering.sha256)
                bestand = _read(levering, "", reader)
                bestand.sha256 = hashing.result()
        else:
            sha256 = previous.sha256 if untouched else levering.sha256()
            if previous.sha256 == sha256:
                if previous.status == "afgewezen" or not need_rows:
                    continue
                if previous.status == "geladen" and not herlees:
                    holds_newest = True
                    continue
            bestand = _read(levering, sha256, reader)
        if levering.veranderd():
            uitgesteld.append(levering)
            continue
        read.append(bestand)
        if need_rows and bestand.gelezen is not None:
            loaded = bestand
    return read, loaded, uitgesteld


def _record(
    conn, feed: str, read: list[Bestand], loaded: Bestand | None, gemeentecode: str | None
) -> None:
    """Write `leveringen` and `quarantaine` for the files read, inside the caller's transaction."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if loaded is not None and gemeentecode is not None:
        conn.execute(
            "UPDATE leveringen SET status = 'vervangen' "
            "WHERE feed = ? AND gemeentecode = ? AND status = 'geladen'",
            [feed, gemeentecode],
        )
    for bestand in read:
        lv = bestand.levering
        if bestand.afgewezen is not None:
            status, geladen, versie = "afgewezen", 0, None
        else:
            replaced = loaded is not None and bestand is not loaded and gemeentecode is not None
            status = "vervangen" if replaced else "geladen"
            geladen, versie = bestand.gelezen.regels_geladen, bestand.gelezen.berichtversie
        levering = {
            "feed": feed,
            "bestand": lv.bestand,
            "gemeentecode": lv.gemeentecode,
            "leverdatum": lv.leverdatum,
            "sha256": bestand.sha256,
            "grootte": lv.size,
            "mtime_ns": lv.mtime_ns,
            "status": status,
            "regels_geladen": geladen,
            "regels_gequarantaineerd": len(bestand.quarantaine),
            "berichtversie": versie,
            "reden": bestand.afgewezen.reden if bestand.afgewezen else None,
            "verwerkt_op": now,
        }
        where, params = "feed = ? AND bestand = ?", [feed, lv.bestand]
        replace_row(conn, "leveringen", levering, where, params)
        quarantaine = quarantaine_rijen(
            feed, lv.bestand, lv.gemeentecode, lv.leverdatum, bestand.quarantaine
        )
        replace_rows(conn, "quarantaine", quarantaine, where, params)


def _log_rejections(context: dg.AssetExecutionContext, read: list[Bestand]) -> None:
    for bestand in read:
        if bestand.afgewezen is not None:
            context.log.warning(f"Bestand afgewezen: {bestand.afgewezen}")
        elif bestand.quarantaine:
            context.log.info(
                f"{bestand.levering.bestand}: {len(bestand.quarantaine)} regel(s) in quarantaine"
            )


def _metadata(read: list[Bestand], loaded: Bestand | None, leveringen: list[Levering]) -> dict:
    """What an engineer reads in the UI: files, counts, masked previews. Never a BSN or name."""
    quarantaine = [
        {
            "bestand": b.levering.bestand,
            "regel": q.regel,
            "bsn": q.bsn_gemaskeerd or "",
            "reden": q.reden,
        }
        for b in read
        for q in b.quarantaine
    ]
    metadata = {
        "vingerafdruk": inbox.vingerafdruk(leveringen),
        "bestanden in inbox": len(leveringen),
        "bestanden gelezen": len(read),
        "bestanden afgewezen": sum(b.afgewezen is not None for b in read),
        "regels in quarantaine": len(quarantaine),
    }
    if loaded is not None:
        metadata["bestand"] = loaded.levering.bestand
        metadata["leverdatum"] = loaded.levering.leverdatum.isoformat()
    if quarantaine:
        preview = pd.DataFrame(quarantaine[:PREVIEW_ROWS])
        metadata["quarantaine (voorbeeld)"] = dg.MetadataValue.md(preview.to_markdown(index=False))
    return metadata


def _column_schema(schema: pa.DataFrameSchema) -> dg.TableSchemaMetadataValue:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dagster-pandera marks this function beta
        return pandera_schema_to_dagster_type(schema).metadata["schema"]


@dataclass
class Ingelezen:
    """What one partition (or the unpartitioned asset) read this run, and its UI metadata."""

    partitie: str | None
    read: list[Bestand]
    loaded: Bestand | None
    metadata: dict


def _ingest(
    context: dg.AssetExecutionContext,
    lks: LksSettings,
    duckdb: Warehouse,
    *,
    feed: str,
    reader: Callable[[Levering], Gelezen],
    partities: list[str] | None,
    newest_only: bool,
    write: Callable[[object, Bestand], None],
    beschrijf: Callable[[Gelezen], dict] | None = None,
    per_gemeente: bool = False,
) -> list[Ingelezen]:
    """Ingest every partition of this run (`partities`; None: the asset is unpartitioned).

    The inbox folder is listed and the known files are fetched once for the whole run. Each
    partition is then read and written in a transaction of its own, one after another, so memory
    holds one partition's rows at a time. A run that fails part-way leaves the partitions before
    it written but without a materialization, so they count as behind and the next run takes
    them again: it re-reads their newest file, or with `lks/alleen_nieuw` finds it recorded as
    `geladen` in the same transaction as its rows and leaves it. `beschrijf` gives the UI
    metadata of the rows a partition loaded; after it, a partitioned run lets go of those rows,
    so a range of 342 gemeenten never holds more than one gemeente's rows.
    """
    alle, _ = inbox.scan(lks.inbox, folders=[inbox.FEED_FOLDERS[feed]])
    per_partitie: dict[str | None, list[Levering]] = {}
    for levering in alle:
        if levering.feed == feed:
            per_partitie.setdefault(levering.partitie, []).append(levering)
    herlees = context.run.tags.get(ALLEEN_NIEUW) != "ja"
    with duckdb.get_connection() as conn:
        ensure_schema(conn)
        known = known_files(conn, feed)
        result = []
        for partitie in [None] if partities is None else partities:
            leveringen = per_partitie.get(partitie, [])
            read, loaded, uitgesteld = _read_new(
                leveringen, known, reader, newest_only=newest_only, herlees=herlees
            )
            _log_rejections(context, read)
            for levering in uitgesteld:
                context.log.warning(
                    f"{levering.bestand}: veranderde terwijl het gelezen werd (wordt nog "
                    "geschreven of is vervangen); niets ervan verwerkt, de volgende run leest "
                    "het opnieuw"
                )
            if read:
                with transaction(conn, "ingest"):
                    for bestand in [loaded] if newest_only else read:
                        if bestand is not None and bestand.gelezen is not None:
                            write(conn, bestand)
                    _record(conn, feed, read, loaded, partitie if per_gemeente else None)
            metadata = _metadata(read, loaded, leveringen)
            metadata["bestanden uitgesteld"] = len(uitgesteld)
            if loaded is not None and beschrijf is not None:
                metadata |= beschrijf(loaded.gelezen)
            if partities is not None:
                for bestand in read:
                    if bestand.gelezen is not None:
                        bestand.gelezen.tabellen = {}
            result.append(Ingelezen(partitie, read, loaded, metadata))
        conn.execute("CHECKPOINT")
    return result


def _per_partitie(context: dg.AssetExecutionContext, ingelezen: list[Ingelezen]) -> None:
    """Give each partition of the run its own metadata (a range run records one event each)."""
    for deel in ingelezen:
        context.add_asset_metadata(deel.metadata, partition_key=deel.partitie)


@dg.asset(
    partitions_def=gemeente_partitions,
    group_name="feeds",
    kinds={"duckdb", "csv"},
    pool="duckdb_writer",
    backfill_policy=SINGLE_RUN,
    metadata={"dagster/column_schema": _column_schema(schemas.verwijsindex_schema())},
)
def verwijsindex(context: dg.AssetExecutionContext, lks: LksSettings, duckdb: Warehouse) -> None:
    """One row per (BSN, cluster) a gemeente knows: its newest verwijsindex (DESIGN 4.2).

    Each delivery is a full snapshot, so the partition is replaced, never appended to. Invalid
    BSNs go to `quarantaine` with their line; a file rejected whole keeps the previous snapshot.
    """

    def write(conn, bestand: Bestand) -> None:
        lv = bestand.levering
        vast = {"gemeentecode": lv.gemeentecode, "leverdatum": lv.leverdatum, "bestand": lv.bestand}
        rows = bestand.gelezen.tabellen["verwijsindex"]
        replace_rows(conn, "verwijsindex", rows, "gemeentecode = ?", [lv.gemeentecode], vast)

    def beschrijf(gelezen: Gelezen) -> dict:
        rows = gelezen.tabellen["verwijsindex"]
        return {
            "dagster/partition_row_count": len(rows),
            "per cluster": value_counts(rows, "cluster", "rijen"),
        }

    ingelezen = _ingest(
        context,
        lks,
        duckdb,
        feed="verwijsindex",
        reader=csvfeeds.lees_verwijsindex,
        partities=context.partition_keys,
        newest_only=True,
        write=write,
        beschrijf=beschrijf,
        per_gemeente=True,
    )
    _per_partitie(context, ingelezen)


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
    """One row per Client in a gemeente's newest DKD verzamelbestand (DESIGN 4.4).

    Its Doelgroepen, ReintegratieInzetten and Loonkostensubsidies go to `dkd_doelgroepen`,
    `dkd_inzetten` and `dkd_loonkostensubsidies`, each row with source (`bron`), so webservice
    answers can sit beside verzamelbestand data. A Client breaking the XSD or a rule is
    quarantined alone; a file that is not well-formed, has an unknown namespace or names another
    gemeente is rejected whole and keeps the previous snapshot.
    """
    bron = "verzamelbestand"

    def write(conn, bestand: Bestand) -> None:
        lv, gelezen = bestand.levering, bestand.gelezen
        where = "gemeentecode = ? AND bron = ?"
        for table, rows in gelezen.tabellen.items():
            extra = {"gemeentecode": lv.gemeentecode, "bron": bron}
            if table == "dkd_reintegratie":
                extra |= {
                    "leverdatum": lv.leverdatum,
                    "berichtversie": gelezen.berichtversie,
                    "aanmaakdatum": gelezen.aanmaakdatum,
                    "bestand": lv.bestand,
                }
            replace_rows(conn, table, rows, where, [lv.gemeentecode, bron], extra)

    def beschrijf(gelezen: Gelezen) -> dict:
        tabellen = gelezen.tabellen
        counts = pd.DataFrame(
            [{"tabel": table, "rijen": len(rows)} for table, rows in tabellen.items()]
        )
        lks_rows = tabellen["dkd_loonkostensubsidies"]
        return {
            "dagster/partition_row_count": len(tabellen["dkd_reintegratie"]),
            "berichtversie": gelezen.berichtversie,
            "per tabel": dg.MetadataValue.md(counts.to_markdown(index=False)),
            "loonkostensubsidies zonder PercentageLoonwaarde": int(
                lks_rows["percentage_loonwaarde"].isna().sum()
            ),
        }

    ingelezen = _ingest(
        context,
        lks,
        duckdb,
        feed="dkd_reintegratie",
        reader=_read_dkd,
        partities=context.partition_keys,
        newest_only=True,
        write=write,
        beschrijf=beschrijf,
        per_gemeente=True,
    )
    _per_partitie(context, ingelezen)


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
    """One row per UWV Ziektewet event of a delivery day, both products (DESIGN 4.1).

    The partition is the delivery date in the file name. Rows breaking a rule for a required
    field go to `quarantaine` with their line; a loonheffingennummer not matching its pattern is
    kept and flagged (`loonheffingennummer_geldig`).
    """

    def write(conn, bestand: Bestand) -> None:
        lv = bestand.levering
        rows = bestand.gelezen.tabellen["uwv_events"]
        vast = {"leverdatum": lv.leverdatum, "bestand": lv.bestand}
        replace_rows(conn, "uwv_events", rows, "leverdatum = ?", [lv.leverdatum], vast)

    def beschrijf(gelezen: Gelezen) -> dict:
        rows = gelezen.tabellen["uwv_events"]
        return {
            "dagster/partition_row_count": len(rows),
            "per berichttype": value_counts(rows, "berichttype", "events"),
            **{f"waarschuwing: {w}": n for w, n in gelezen.waarschuwingen.items()},
        }

    ingelezen = _ingest(
        context,
        lks,
        duckdb,
        feed="uwv",
        reader=csvfeeds.lees_uwv,
        partities=context.partition_keys,
        newest_only=True,
        write=write,
        beschrijf=beschrijf,
    )
    zonder = []
    for deel in ingelezen:
        if deel.loaded is None and not deel.read:
            context.log.info(f"Geen UWV-levering voor {deel.partitie}: partitie ongewijzigd")
        if not deel.metadata["bestanden in inbox"]:
            zonder.append(deel.partitie)
    _per_partitie(context, ingelezen)
    namen = [f"uwv_lks_{dag.replace('-', '')}.csv" for dag in zonder]
    ontvangen = dg.AssetCheckResult(
        check_name="uwv_levering_ontvangen",
        passed=not zonder,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "leverdagen": len(ingelezen),
            "leverdagen zonder bestand": len(zonder),
        },
        description=(
            "Geen " + ", ".join(namen[:10]) + (" ..." if len(namen) > 10 else "") + " in de inbox"
            if zonder
            else None
        ),
    )
    return dg.MaterializeResult(check_results=[ontvangen])


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

    def write(conn, bestand: Bestand) -> None:
        lv = bestand.levering
        rows = bestand.gelezen.tabellen["dkd_instellingen"]
        vast = {"leverdatum": lv.leverdatum, "bestand": lv.bestand}
        replace_rows(conn, "dkd_instellingen", rows, "bestand = ?", [lv.bestand], vast)

    (deel,) = _ingest(
        context,
        lks,
        duckdb,
        feed="dkd_instellingen",
        reader=csvfeeds.lees_instellingen,
        partities=None,
        newest_only=False,
        write=write,
    )
    read, metadata = deel.read, deel.metadata
    accepted = [b for b in read if b.gelezen is not None]
    if accepted:
        newest = max(accepted, key=lambda b: b.levering.leverdatum)
        metadata["dagster/row_count"] = newest.gelezen.regels_geladen
        metadata["nieuwste gelezen snapshot"] = newest.levering.bestand
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(group_name="feeds", kinds={"duckdb"}, pool="duckdb_writer")
def inbox_bestandsnamen(
    context: dg.AssetExecutionContext, lks: LksSettings, duckdb: Warehouse
) -> dg.MaterializeResult:
    """One row per inbox entry that is never read (DESIGN 3), recorded as quarantine.

    A name matching no feed's pattern, an unknown gemeente or date, a symlink, a folder or a path
    outside the inbox. Each is recorded in `leveringen` (status `afgewezen`) and `quarantaine`
    with the reason, so nothing in the inbox is silently ignored.
    """
    _, onleesbaar = inbox.scan(lks.inbox)
    with duckdb.get_connection() as conn:
        ensure_schema(conn)
        with transaction(conn, "inbox_bestandsnamen"):
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
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
        "vingerafdruk": inbox.vingerafdruk_onleesbaar(onleesbaar),
    }
    if onleesbaar:
        metadata["niet gelezen"] = dg.MetadataValue.md(preview.to_markdown(index=False))
    return dg.MaterializeResult(metadata=metadata)
