"""The DuckDB warehouse (rules 6.4): its schema, transactions, and replacing partitions.

Each room owns its tables and views in its `schema.sql`; `ensure_schema` runs them in the order
data flows (a view may read the tables of a room before it), and records the schema version in
`schema_versie`, migrating an older warehouse in place. DDL runs in its own transaction before
any data transaction: DuckDB's WAL replay has had bugs with transactions that mix DDL and data.
No primary keys or indexes: a partition is replaced by delete + insert in one transaction, and
DuckDB's constraint checks on a key deleted and re-inserted in one transaction are a known
source of trouble.

Long queries live as `.sql` files in the room that runs them, read with `load_sql`.
"""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib.resources import files

import duckdb
import pandas as pd

from lks_pipeline.core.crashpoints import crashpoint

# The rooms with tables, in the order data flows through them.
SCHEMA_ROOMS = (
    "referentie",
    "ingest",
    "webservice",
    "signalen",
    "rapporten",
    "notificaties",
    "aanleverfouten",
)


@cache
def schema_sql() -> str:
    """Every room's `schema.sql`, in flow order: the whole warehouse's DDL."""
    return "\n".join(load_sql(f"lks_pipeline.{room}", "schema.sql") for room in SCHEMA_ROOMS)


def utc_now() -> dt.datetime:
    """Now, as every table stores its timestamps: UTC without a zone.

    One place, because `process` counts what a run did by comparing these timestamps with the
    moment the run started (`cli/summary.py`).
    """
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# The warehouse's schema version (docs/operations.md, "Upgrades"): raise it with every change to
# a room's schema.sql, and add the migration that brings the previous version to it.
SCHEMA_VERSION = 1
VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_versie (
    versie INTEGER NOT NULL, toegepast_op TIMESTAMP NOT NULL, omschrijving VARCHAR NOT NULL)"""


class WarehouseTooNew(RuntimeError):
    """The warehouse was written by a newer release than this code: nothing may touch it."""


def schema_version(conn: duckdb.DuckDBPyConnection) -> int | None:
    """The warehouse's version: None when it is empty, 0 when it predates recorded versions."""
    tables = {
        row[0]
        for row in conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_type = 'BASE TABLE'"
        ).fetchall()
    }
    if "schema_versie" in tables:
        return conn.execute("SELECT coalesce(max(versie), 0) FROM schema_versie").fetchone()[0]
    return 0 if tables else None


def ensure_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Bring the warehouse to this code's schema version, or refuse one that is newer.

    A current warehouse is left alone. An empty one gets the whole schema; an older one its
    migrations in order, then the rooms' schema.sql for new tables and views: each in one
    transaction, so a crash leaves the old version whole. Called before every step's writes.
    """
    versie = schema_version(conn)
    if versie == SCHEMA_VERSION:
        return
    if versie is not None and versie > SCHEMA_VERSION:
        raise WarehouseTooNew(
            f"het warehouse heeft schemaversie {versie}, deze code kent er {SCHEMA_VERSION}: "
            "het is geschreven door een nieuwere release; installeer die (er is niets gewijzigd)"
        )
    with transaction(conn, "schema"):
        if versie is None:
            conn.execute(schema_sql())
            for stap in range(1, SCHEMA_VERSION + 1):
                _record(conn, stap)
            return
        for stap in range(versie + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[stap][1](conn)
            _record(conn, stap)
        conn.execute(schema_sql())


def _record(conn: duckdb.DuckDBPyConnection, versie: int) -> None:
    conn.execute(VERSION_TABLE)
    conn.execute(
        "INSERT INTO schema_versie VALUES (?, ?, ?)", [versie, utc_now(), MIGRATIONS[versie][0]]
    )


def _add_missing_columns(conn: duckdb.DuckDBPyConnection) -> None:
    """Version 1: every column of today's tables that an older warehouse lacks, added empty.

    Before versions were recorded, a column added in a release never reached a warehouse that
    existed already (`CREATE TABLE IF NOT EXISTS`); this catches every such warehouse up.
    """
    fresh = duckdb.connect()
    fresh.execute(schema_sql())
    columns = fresh.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "JOIN information_schema.tables USING (table_schema, table_name) "
        "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY ordinal_position"
    ).fetchall()
    fresh.close()
    present = {t for (t,) in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchall()}  # fmt: skip
    for table, column, data_type in columns:
        if table in present:
            conn.execute(f'ALTER TABLE "{table}" ADD COLUMN IF NOT EXISTS "{column}" {data_type}')


# Version -> (what it changes, the function that changes it). Tables and views that are new in
# a version need no entry of their own: the rooms' schema.sql creates them after the migrations.
MIGRATIONS = {
    1: (
        "versies vastgelegd; ontbrekende kolommen van eerdere releases toegevoegd",
        _add_missing_columns,
    ),
}


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection, name: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: we roll back ourselves, because DuckDBResource's connection does not.

    `name` names the crash points just before and just after the commit (`core/crashpoints.py`).
    """
    conn.begin()
    try:
        yield conn
        crashpoint(f"{name}:voor_commit")
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
    crashpoint(f"{name}:na_commit")


def replace_rows(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    rows: pd.DataFrame,
    where: str,
    params: list,
    fixed: dict | None = None,
) -> None:
    """Delete `where` from `table` and insert `rows` (columns by name, cast by DuckDB).

    `fixed`: columns with one value for every row (the partition's gemeentecode, the file name),
    bound as parameters instead of added to the frame, which would copy every column of it.
    `table`, `where` and the column names come from our code, never from input; values are bound
    with `?`.
    """
    conn.execute(f"DELETE FROM {table} WHERE {where}", params)  # noqa: S608
    if len(rows):
        fixed = fixed or {}
        conn.register("_nieuw", rows)
        columns = ", ".join([*rows.columns, *fixed])
        values = ", ".join([*rows.columns, *("?" for _ in fixed)])
        conn.execute(
            f"INSERT INTO {table} ({columns}) SELECT {values} FROM _nieuw",  # noqa: S608
            list(fixed.values()),
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


@cache
def load_sql(package: str, name: str) -> str:
    """The text of the SQL file `name` in `package`: ours, values bound as `$name` parameters."""
    return (files(package) / name).read_text(encoding="utf-8")


def statements(sql: str) -> list[str]:
    """The statements of a script of ours, split on `;` at a line end (none sits in a literal)."""
    return [part.strip() for part in sql.split(";\n") if part.strip().strip(";")]
