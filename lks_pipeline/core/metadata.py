"""What several rooms show in the Dagster UI: column schemas and typed tables.

Tables are `MetadataValue.table`: the UI shows them with their column types and sorts them,
where a markdown table was text. They hold counts, codes and masked BSNs, never a full BSN.
"""

import datetime as dt

import dagster as dg
import pandas as pd
from pandas.api import types


def column_schema(*columns: tuple[str, str, str]) -> dg.TableSchemaMetadataValue:
    """`dagster/column_schema` metadata: what each column holds, shown in the UI."""
    return dg.MetadataValue.table_schema(
        dg.TableSchema(columns=[dg.TableColumn(n, t, description=d) for n, t, d in columns])
    )


def as_table(rows: pd.DataFrame) -> dg.TableMetadataValue:
    """A small DataFrame as a typed table in the UI (its index is not shown)."""
    schema = dg.TableSchema(
        columns=[dg.TableColumn(str(name), _type(dtype)) for name, dtype in rows.dtypes.items()]
    )
    records = [
        dg.TableRecord({str(k): _cell(v) for k, v in row.items()})
        for row in rows.to_dict("records")
    ]
    return dg.MetadataValue.table(records, schema=schema)


def value_counts(rows: pd.DataFrame, column: str, label: str) -> dg.TableMetadataValue:
    """A table of how many rows hold each value of `column` (never a BSN column)."""
    return as_table(rows.groupby(column).size().rename(label).reset_index())


def _type(dtype) -> str:
    if types.is_bool_dtype(dtype):
        return "bool"
    if types.is_integer_dtype(dtype):
        return "int"
    if types.is_float_dtype(dtype):
        return "float"
    if types.is_datetime64_any_dtype(dtype):
        return "datetime"
    return "string"


def _cell(value) -> str | int | float | bool | None:
    """A value a TableRecord takes: numpy scalars as Python ones, dates as ISO text."""
    if value is None or (not isinstance(value, str | list | tuple) and pd.isna(value)):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
