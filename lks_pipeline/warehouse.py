"""The DuckDB warehouse (DESIGN 6.4): tables in schema `main`, transactions, shared bookkeeping.

DDL runs in its own statements before any data transaction (DuckDB's WAL replay has had bugs with
transactions that mix DDL and data, DAGSTER-DUCKDB.md section 1). No primary keys or indexes: a
partition is replaced by delete + insert in one transaction, and DuckDB's constraint checks on a
key deleted and re-inserted in one transaction are a known source of trouble.

Bookkeeping every feed shares:
- `leveringen`: one row per delivered file that was read (or rejected): what it held, when.
- `quarantaine`: one row per rejected row, Client or file, with a masked BSN only. Rows are keyed
  on (feed, bestand): re-reading a file replaces its rows, so the table never holds duplicates and
  keeps the history of older deliveries that newer ones replaced.

Long queries live in `sql/` (one file per step), read with `load_sql`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib.resources import files
from typing import NamedTuple

import duckdb
import pandas as pd

from lks_pipeline.crashpunt import crashpunt

DDL = """
CREATE TABLE IF NOT EXISTS gemeenten (
    gemeentecode VARCHAR NOT NULL, gemeentenaam VARCHAR NOT NULL, provincie VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS doelgroepregister_codes (
    code VARCHAR NOT NULL, doelgroep VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS dkd_instellingen (
    leverdatum DATE NOT NULL, gemeentecode VARCHAR NOT NULL, aanlevermethode VARCHAR NOT NULL,
    berichtversie VARCHAR NOT NULL, url VARCHAR, leverfrequentie VARCHAR,
    notificatie_email VARCHAR, bestand VARCHAR NOT NULL);
CREATE OR REPLACE VIEW dkd_instellingen_actueel AS
    SELECT * EXCLUDE (bestand) FROM dkd_instellingen
    WHERE leverdatum = (SELECT max(leverdatum) FROM dkd_instellingen);
CREATE TABLE IF NOT EXISTS verwijsindex (
    gemeentecode VARCHAR NOT NULL, bsn VARCHAR NOT NULL, cluster VARCHAR NOT NULL,
    leverdatum DATE NOT NULL, bestand VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS dkd_reintegratie (
    gemeentecode VARCHAR NOT NULL, bsn VARCHAR NOT NULL, bron VARCHAR NOT NULL,
    leverdatum DATE NOT NULL, berichtversie VARCHAR NOT NULL, aanmaakdatum DATE,
    bestand VARCHAR NOT NULL, regel INTEGER);
CREATE TABLE IF NOT EXISTS dkd_doelgroepen (
    gemeentecode VARCHAR NOT NULL, bsn VARCHAR NOT NULL, bron VARCHAR NOT NULL,
    code VARCHAR NOT NULL, begindatum DATE NOT NULL, einddatum DATE);
CREATE TABLE IF NOT EXISTS dkd_inzetten (
    gemeentecode VARCHAR NOT NULL, bsn VARCHAR NOT NULL, bron VARCHAR NOT NULL,
    inzet_nr INTEGER NOT NULL, soort VARCHAR NOT NULL, begindatum DATE NOT NULL, einddatum DATE);
CREATE TABLE IF NOT EXISTS dkd_loonkostensubsidies (
    gemeentecode VARCHAR NOT NULL, bsn VARCHAR NOT NULL, bron VARCHAR NOT NULL,
    inzet_nr INTEGER NOT NULL, begindatum DATE NOT NULL, einddatum DATE,
    percentage_loonwaarde DOUBLE, loonheffingennummer_werkgever VARCHAR);
CREATE TABLE IF NOT EXISTS uwv_events (
    leverdatum DATE NOT NULL, regel INTEGER NOT NULL, uwv_kenmerk VARCHAR NOT NULL,
    berichttype VARCHAR NOT NULL, bsn VARCHAR NOT NULL, geboortedatum DATE,
    achternaam VARCHAR, voorvoegsel VARCHAR, voorletters VARCHAR,
    naam_administratieve_eenheid VARCHAR, loonheffingennummer VARCHAR,
    loonheffingennummer_geldig BOOLEAN, datum_eerste_ao_dag DATE,
    datum_einde_arbeidsverhouding DATE, datum_einde_uitkeringsverhouding DATE,
    begindatum_zw_uitkering DATE, einddatum_zw_uitkering DATE, bestand VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS leveringen (
    feed VARCHAR NOT NULL, bestand VARCHAR NOT NULL, gemeentecode VARCHAR, leverdatum DATE,
    sha256 VARCHAR, grootte BIGINT, mtime_ns BIGINT, status VARCHAR NOT NULL,
    regels_geladen INTEGER NOT NULL,
    regels_gequarantaineerd INTEGER NOT NULL, berichtversie VARCHAR, reden VARCHAR,
    verwerkt_op TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS quarantaine (
    feed VARCHAR NOT NULL, bestand VARCHAR NOT NULL, gemeentecode VARCHAR, leverdatum DATE,
    regel INTEGER, bsn_gemaskeerd VARCHAR, reden VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS signalen (
    leverdatum DATE NOT NULL, regel INTEGER NOT NULL, uwv_kenmerk VARCHAR NOT NULL,
    berichttype VARCHAR NOT NULL, product VARCHAR NOT NULL, bsn VARCHAR NOT NULL,
    gemeentecode VARCHAR, uitkomst VARCHAR NOT NULL, zekerheid TINYINT,
    via_verwijsindex BOOLEAN NOT NULL, via_dkd BOOLEAN NOT NULL, peildatum DATE NOT NULL,
    venster_begin DATE NOT NULL, einddatum DATE, einddatum_afgeleid BOOLEAN NOT NULL,
    hervatdatum DATE);
CREATE TABLE IF NOT EXISTS signaalrapporten (
    leverdatum DATE NOT NULL, gemeentecode VARCHAR NOT NULL, product VARCHAR NOT NULL,
    bestand VARCHAR NOT NULL, pad VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,
    aantal INTEGER NOT NULL, geschreven_op TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS dkd_webservice_bevragingen (
    dag DATE NOT NULL, gemeentecode VARCHAR NOT NULL, batch INTEGER NOT NULL, url VARCHAR NOT NULL,
    bsns INTEGER NOT NULL, status VARCHAR NOT NULL, pogingen INTEGER NOT NULL,
    http_status INTEGER, fout VARCHAR, clients INTEGER NOT NULL, in_quarantaine INTEGER NOT NULL,
    berichtversie VARCHAR, gevraagd_op TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS notificaties (
    bestand VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, leverdatum DATE NOT NULL,
    gemeentecode VARCHAR NOT NULL, product VARCHAR NOT NULL, aantal INTEGER NOT NULL,
    status VARCHAR NOT NULL, ontvanger VARCHAR, kanaal VARCHAR, message_id VARCHAR,
    pogingen INTEGER NOT NULL, laatste_fout VARCHAR, aangemaakt_op TIMESTAMP NOT NULL,
    verzonden_op TIMESTAMP);
CREATE TABLE IF NOT EXISTS dkd_aanleverfouten (
    dag DATE NOT NULL, gemeentecode VARCHAR NOT NULL, fouttype VARCHAR NOT NULL,
    aantal INTEGER NOT NULL, toelichting VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS poortwachter_termijnen (
    leverdatum DATE NOT NULL, gemeentecode VARCHAR NOT NULL, uwv_kenmerk VARCHAR NOT NULL,
    bsn VARCHAR NOT NULL, datum_eerste_ao_dag DATE NOT NULL, week INTEGER NOT NULL,
    mijlpaal VARCHAR NOT NULL, uiterste_datum DATE NOT NULL);
-- Views for analysts (README, "For analysts").
CREATE OR REPLACE VIEW dkd_aanleverfouten_actueel AS
    SELECT a.dag, a.gemeentecode, g.gemeentenaam, a.fouttype, a.aantal, a.toelichting,
        (SELECT count(*) FROM dkd_aanleverfouten AS b
            WHERE b.gemeentecode = a.gemeentecode AND b.fouttype = a.fouttype
              AND b.dag > a.dag - 30 AND b.dag <= a.dag) AS dagen_in_laatste_30
    FROM dkd_aanleverfouten AS a
    LEFT JOIN gemeenten AS g ON g.gemeentecode = a.gemeentecode
    WHERE a.dag = (SELECT max(dag) FROM dkd_aanleverfouten);
CREATE OR REPLACE VIEW verwijsindex_actualiteit AS
    SELECT v.gemeentecode, any_value(g.gemeentenaam) AS gemeentenaam,
        any_value(v.bestand) AS bestand, max(v.leverdatum) AS leverdatum,
        count(*) AS rijen, count(DISTINCT v.bsn) AS bsns,
        current_date - max(v.leverdatum) AS dagen_oud
    FROM verwijsindex AS v
    LEFT JOIN gemeenten AS g ON g.gemeentecode = v.gemeentecode
    GROUP BY v.gemeentecode;
CREATE OR REPLACE VIEW niet_routeerbaar_per_dag AS
    SELECT leverdatum, count(DISTINCT regel) AS events,
        count(DISTINCT regel) FILTER (WHERE uitkomst = 'niet_routeerbaar') AS niet_routeerbaar,
        round(100.0 * count(DISTINCT regel) FILTER (WHERE uitkomst = 'niet_routeerbaar')
            / count(DISTINCT regel), 1) AS percentage
    FROM signalen
    GROUP BY leverdatum;
CREATE OR REPLACE VIEW zekerheid_per_gemeente AS
    SELECT s.gemeentecode, any_value(g.gemeentenaam) AS gemeentenaam, count(*) AS gemeld,
        count(*) FILTER (WHERE s.zekerheid = 1) AS zekerheid_1,
        count(*) FILTER (WHERE s.zekerheid = 2) AS zekerheid_2,
        count(*) FILTER (WHERE s.zekerheid = 3) AS zekerheid_3,
        round(100.0 * count(*) FILTER (WHERE s.zekerheid = 1) / count(*), 1)
            AS percentage_zekerheid_1
    FROM signalen AS s
    LEFT JOIN gemeenten AS g ON g.gemeentecode = s.gemeentecode
    WHERE s.uitkomst = 'gemeld'
    GROUP BY s.gemeentecode;
CREATE OR REPLACE VIEW notificaties_open AS
    SELECT gemeentecode, bestand, leverdatum, status, pogingen, laatste_fout
    FROM notificaties
    WHERE status IN ('te_verzenden', 'geen_adres');
"""


def ensure_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create what is missing; idempotent and outside any data transaction."""
    conn.execute(DDL)


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection, naam: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: we roll back ourselves, because DuckDBResource's connection does not.

    `naam` names the crash points just before and just after the commit (`crashpunt.py`).
    """
    conn.begin()
    try:
        yield conn
        crashpunt(f"{naam}:voor_commit")
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
    crashpunt(f"{naam}:na_commit")


def replace_rows(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    rows: pd.DataFrame,
    where: str,
    params: list,
    vast: dict | None = None,
) -> None:
    """Delete `where` from `table` and insert `rows` (columns by name, cast by DuckDB).

    `vast`: columns with one value for every row (the partition's gemeentecode, the file name),
    bound as parameters instead of added to the frame, which would copy every column of it.
    `table`, `where` and the column names come from our code, never from input; values are bound
    with `?`.
    """
    conn.execute(f"DELETE FROM {table} WHERE {where}", params)  # noqa: S608
    if len(rows):
        vast = vast or {}
        conn.register("_nieuw", rows)
        columns = ", ".join([*rows.columns, *vast])
        values = ", ".join([*rows.columns, *("?" for _ in vast)])
        conn.execute(
            f"INSERT INTO {table} ({columns}) SELECT {values} FROM _nieuw",  # noqa: S608
            list(vast.values()),
        )
        conn.unregister("_nieuw")


def replace_row(
    conn: duckdb.DuckDBPyConnection, table: str, row: dict, where: str, params: list
) -> None:
    """Delete `where` from `table` and insert the one `row`, its values bound with `?`.

    One row needs no DataFrame: registering one with DuckDB costs a pandas scan, and a range run
    records a file per partition. Names come from our code, as in `replace_rows`.
    """
    conn.execute(f"DELETE FROM {table} WHERE {where}", params)  # noqa: S608
    conn.execute(
        f"INSERT INTO {table} ({', '.join(row)}) "  # noqa: S608
        f"VALUES ({', '.join('?' for _ in row)})",
        list(row.values()),
    )


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


@cache
def load_sql(name: str) -> str:
    """The text of `sql/<name>`: a query of ours, with values bound as `$name` parameters."""
    return (files("lks_pipeline") / "sql" / name).read_text(encoding="utf-8")


def statements(sql: str) -> list[str]:
    """The statements of a script of ours, split on `;` at a line end (none sits in a literal)."""
    return [part.strip() for part in sql.split(";\n") if part.strip().strip(";")]
