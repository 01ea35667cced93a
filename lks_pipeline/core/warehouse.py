"""The DuckDB warehouse (rules 6.4): its schema, transactions, and replacing partitions.

Each room owns its tables and views in its `schema.sql`; `ensure_schema` runs them in the order
data flows (a view may read the tables of a room before it). DDL runs in its own statements
before any data transaction: DuckDB's WAL replay has had bugs with transactions that mix DDL and
data. No primary keys or indexes: a partition is replaced by delete + insert in one
transaction, and DuckDB's constraint checks on a key deleted and re-inserted in one
transaction are a known source of trouble.

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


def ensure_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create what is missing; idempotent and outside any data transaction."""
    conn.execute(schema_sql())


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
