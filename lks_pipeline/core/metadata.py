"""What several rooms show in the Dagster UI: column schemas and per-value count tables."""

import dagster as dg
import pandas as pd


def column_schema(*columns: tuple[str, str, str]) -> dg.TableSchemaMetadataValue:
    """`dagster/column_schema` metadata: what each column holds, shown in the UI."""
    return dg.MetadataValue.table_schema(
        dg.TableSchema(columns=[dg.TableColumn(n, t, description=d) for n, t, d in columns])
    )


def value_counts(rows: pd.DataFrame, column: str, label: str) -> dg.MetadataValue:
    """A markdown table of how many rows hold each value of `column` (never a BSN column)."""
    per_value = rows.groupby(column).size().rename(label).reset_index()
    return dg.MetadataValue.md(per_value.to_markdown(index=False))
