"""The signaalrapporten asset (rules 6.1): one CSV per gemeente, product and delivery day.

Decisions where the spec is silent:
- A file whose bytes would not change is left alone (same bytes, same mtime), so a re-run
  rewrites nothing and a watcher of the folder sees no change.
- A report of the day that is no longer produced (a re-run after the data changed left that
  gemeente without signals) is deleted with its record: the folder shows what the warehouse
  says, and "no empty reports" holds after re-runs too.
- Temp files a crashed write left behind are removed before a gemeente's folder is written.
- `pad` in the record is relative to the data root, so the table stays true when the root moves.
"""

import csv
import datetime as dt
import io

import dagster as dg
import pandas as pd

from lks_pipeline.core import progress
from lks_pipeline.core.files import private_folder, remove_temp_leftovers, write_atomic_all
from lks_pipeline.core.metadata import as_table, column_schema
from lks_pipeline.core.partitions import SINGLE_RUN, dag_partitions, partition_days
from lks_pipeline.core.resources import LksSettings, Warehouse
from lks_pipeline.core.warehouse import ensure_schema, replace_rows, transaction, utc_now
from lks_pipeline.rapporten import signaalrapport
from lks_pipeline.signalen.assets import LEKKEN_SQL, signalen

RECORD_COLUMNS = [
    "leverdatum",
    "gemeentecode",
    "product",
    "bestand",
    "pad",
    "sha256",
    "aantal",
    "geschreven_op",
]


def _records_in_file(content: bytes) -> int:
    """Records after the header, read as Excel would (a quoted line break stays in its cell)."""
    text = content.decode("utf-8-sig")
    return sum(1 for _ in csv.reader(io.StringIO(text, newline=""), delimiter=";")) - 1


@dg.asset(
    partitions_def=dag_partitions,
    group_name="rapporten",
    kinds={"csv", "duckdb"},
    pool="duckdb_writer",
    deps=[signalen],
    backfill_policy=SINGLE_RUN,
    metadata={
        "dagster/column_schema": column_schema(
            ("leverdatum", "DATE", "delivery day (the partition)"),
            ("gemeentecode", "VARCHAR", "the gemeente the file is for"),
            ("product", "VARCHAR", "LKS re-integratie or LKS einde zw"),
            ("bestand", "VARCHAR", "file name"),
            ("pad", "VARCHAR", "path relative to the data root"),
            ("sha256", "VARCHAR", "sha256 of the file's bytes"),
            ("aantal", "INTEGER", "signals (rows) in the file"),
            ("geschreven_op", "TIMESTAMP", "UTC time the current bytes were written"),
        )
    },
    check_specs=[
        dg.AssetCheckSpec(
            "signaalrapporten_rijen_gelijk_aan_gemeld",
            asset="signaalrapporten",
            blocking=True,
            description="Per gemeente and product, the rows in the file on disk equal the "
            "`gemeld` signals of the day, and the file's sha256 equals its record.",
        )
    ],
)
def signaalrapporten(
    context: dg.AssetExecutionContext, lks: LksSettings, duckdb: Warehouse
) -> dg.MaterializeResult:
    """One row per report file of the day: gemeente, product, path, sha256 and number of signals.

    Writes `reports/GMxxxx/GMxxxx_<product>_signaalrapport_YYYYMMDD.csv` for each gemeente and
    product with at least one `gemeld` signal: UTF-8 with BOM, `;`, dates DD-MM-JJJJ, sorted by
    BSN, formula cells prefixed with `'`, written atomically and readable by the service only.
    Refuses to write anything while the signals of any day of the run name a gemeente with a
    BSN it did not deliver. A range of days is written day by day, each day's records in a
    transaction of their own.
    """
    dagen = partition_days(context)
    root = lks.root  # resolves the path on every call
    reports = private_folder(lks.reports)
    gemeld_total, in_rapporten, mismatched = 0, 0, []
    with duckdb.get_connection() as conn:
        ensure_schema(conn)
        _refuse_leaks(conn, dagen)
        for dag in progress.each("signaalrapporten", dagen):
            rows, metadata = _write_day(context, conn, root, reports, dag)
            context.add_asset_metadata(metadata, partition_key=dag.isoformat())
            gemeld = _gemeld(conn, dag)
            rijen, day_mismatched = _read_back(root, rows, gemeld)
            gemeld_total += sum(gemeld.values())
            in_rapporten += rijen
            mismatched += day_mismatched
        conn.execute("CHECKPOINT")
    return dg.MaterializeResult(
        check_results=[
            dg.AssetCheckResult(
                check_name="signaalrapporten_rijen_gelijk_aan_gemeld",
                passed=not mismatched,
                metadata={
                    "gemeld": gemeld_total,
                    "rijen in rapporten": in_rapporten,
                    "afwijkend": ", ".join(sorted(mismatched)[:20]) or "geen",
                },
            )
        ]
    )


def _refuse_leaks(conn, dagen: list[dt.date]) -> None:
    """Write nothing while any day's signals name a gemeente with a BSN it did not deliver."""
    for dag in dagen:
        leaks, gemeenten = conn.execute(LEKKEN_SQL, {"dag": dag}).fetchone()
        if leaks:
            raise dg.Failure(
                f"Geen rapporten geschreven: {leaks} signalen van {dag} naar "
                f"{len(gemeenten)} gemeente(n) met een BSN dat die gemeente niet zelf "
                "aanleverde (rules 5.1)."
            )


def _gemeld(conn, dag: dt.date) -> dict[tuple[str, str], int]:
    """The day's `gemeld` signals per (gemeentecode, product): what the files must hold."""
    rows = conn.execute(
        "SELECT gemeentecode, product, count(*) FROM signalen "
        "WHERE leverdatum = $dag AND uitkomst = 'gemeld' GROUP BY ALL",
        {"dag": dag},
    ).fetchall()
    return {(gemeentecode, product): aantal for gemeentecode, product, aantal in rows}


def _write_day(context, conn, root, reports, dag: dt.date) -> tuple[pd.DataFrame, dict]:
    """Write one day's reports and replace its records in one transaction."""
    known_records = _known_records(conn, dag)
    now = utc_now()
    records, to_write, cleaned, cleaned_folders = [], {}, 0, set()
    for report in signaalrapport.rapporten(conn, dag):
        sha256 = signaalrapport.sha256(report.content)
        pad = reports / report.gemeentecode / report.bestand
        if report.gemeentecode not in cleaned_folders:
            cleaned += remove_temp_leftovers(pad.parent)
            cleaned_folders.add(report.gemeentecode)
        unchanged = pad.is_file() and signaalrapport.sha256(pad.read_bytes()) == sha256
        if not unchanged:
            to_write[pad] = report.content
        previous = known_records.get(report.bestand)
        kept = unchanged and previous is not None and previous[0] == sha256
        records.append(
            {
                "leverdatum": dag,
                "gemeentecode": report.gemeentecode,
                "product": report.product.name,
                "bestand": report.bestand,
                "pad": str(pad.relative_to(root)),
                "sha256": sha256,
                "aantal": report.aantal,
                "geschreven_op": previous[1] if kept else now,
            }
        )
    write_atomic_all(to_write)
    removed = _remove_stale(context, reports, dag, {r["bestand"] for r in records})
    rows = pd.DataFrame(records, columns=RECORD_COLUMNS)
    with transaction(conn, "signaalrapporten"):
        replace_rows(conn, "signaalrapporten", rows, "leverdatum = ?", [dag])
    return rows, _metadata(rows, len(to_write), removed, cleaned, reports)


def _known_records(conn, dag: dt.date) -> dict[str, tuple[str, dt.datetime]]:
    """The day's recorded reports: sha256 and when those bytes were written, by file name."""
    rows = conn.execute(
        "SELECT bestand, sha256, geschreven_op FROM signaalrapporten WHERE leverdatum = ?", [dag]
    ).fetchall()
    return {bestand: (sha256, geschreven_op) for bestand, sha256, geschreven_op in rows}


def _remove_stale(context, reports, dag: dt.date, made: set[str]) -> int:
    """Delete the day's report files that are no longer produced; return how many."""
    removed = 0
    for bestand, pad in signaalrapport.rapporten_of_day(reports, dag).items():
        if bestand not in made:
            pad.unlink()
            removed += 1
    if removed:
        context.log.info(f"{removed} rapport(en) van {dag} verwijderd: geen signalen meer")
    return removed


def _read_back(root, rows: pd.DataFrame, gemeld: dict) -> tuple[int, list[str]]:
    """Read every file back from disk: its sha256 and its rows must match the warehouse.

    Returns the rows found in the files and what differs (file names, or gemeente and product).
    """
    in_files, mismatched = {}, []
    for record in rows.itertuples():
        pad = root / record.pad
        content = pad.read_bytes() if pad.is_file() else b""
        rijen = _records_in_file(content) if content else 0
        in_files[(record.gemeentecode, record.product)] = rijen
        if signaalrapport.sha256(content) != record.sha256 or rijen != record.aantal:
            mismatched.append(record.bestand)
    mismatched += [
        f"{gemeentecode} {product}"
        for (gemeentecode, product), aantal in gemeld.items()
        if in_files.get((gemeentecode, product)) != aantal
    ]
    mismatched += [
        f"{gemeentecode} {product}" for gemeentecode, product in in_files.keys() - gemeld.keys()
    ]
    return sum(in_files.values()), mismatched


def _metadata(rows: pd.DataFrame, written: int, removed: int, cleaned: int, reports) -> dict:
    per_product = (
        rows.groupby("product")
        .agg(rapporten=("bestand", "size"), signalen=("aantal", "sum"))
        .reset_index()
    )
    metadata = {
        "dagster/partition_row_count": len(rows),
        "signalen in rapporten": int(rows["aantal"].sum()),
        "rapporten geschreven": written,
        "rapporten ongewijzigd": len(rows) - written,
        "rapporten verwijderd": removed,
        "tijdelijke bestanden opgeruimd": cleaned,
        "map": dg.MetadataValue.path(str(reports)),
    }
    if len(rows):
        metadata["per product"] = as_table(per_product)
        overview = rows[["gemeentecode", "product", "bestand", "aantal"]].head(50)
        metadata["rapporten (eerste 50)"] = as_table(overview)
    return metadata
